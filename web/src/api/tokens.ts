import { request } from './http'

export interface ApiToken {
  id: number
  name: string
  created_at: string
  last_used_at: string | null
}

/** The answer to POST /tokens: the secret `token` is shown only this once. */
export interface CreatedToken {
  id: number
  name: string
  created_at: string
  token: string
}

/** GET /tokens — the caller's own tokens. */
export function listTokens(): Promise<{ items: ApiToken[] }> {
  return request<{ items: ApiToken[] }>('GET', '/tokens')
}

/** POST /tokens */
export function createToken(name: string): Promise<CreatedToken> {
  return request<CreatedToken>('POST', '/tokens', { body: { name } })
}

/** DELETE /tokens/{id} */
export function deleteToken(id: number): Promise<void> {
  return request<void>('DELETE', `/tokens/${id}`)
}
