import { request } from './http'

export type Role = 'admin' | 'member'

export interface User {
  id: number
  username: string
  display_name: string
  role: Role
  active: boolean
  created_at: string
}

/** Answer of login and of /auth/me. */
export interface Session {
  user: User
  /** Null when the caller used a Bearer token. */
  csrf_token: string | null
}

export interface LoginInput {
  username: string
  password: string
}

/** POST /auth/login — sets the session cookie. 401 on bad credentials. */
export function login(input: LoginInput): Promise<Session> {
  return request<Session>('POST', '/auth/login', { body: input })
}

/** POST /auth/logout — 204, cookie cleared. */
export function logout(): Promise<void> {
  return request<void>('POST', '/auth/logout')
}

/** GET /auth/me — the current user, or 401. */
export function me(): Promise<Session> {
  return request<Session>('GET', '/auth/me')
}
