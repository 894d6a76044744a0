import { request } from './http'

export interface Team {
  id: number
  name: string
  /** The team it belongs to; null at the top. */
  parent_id: number | null
  member_count: number
  created_at: string
}

export interface TeamWrite {
  name: string
  parent_id: number | null
}

/** GET /teams — every team (readable with customer.read). */
export function listTeams(): Promise<{ items: Team[] }> {
  return request<{ items: Team[] }>('GET', '/teams')
}

/** POST /teams — user.admin. */
export function createTeam(input: TeamWrite): Promise<Team> {
  return request<Team>('POST', '/teams', { body: input })
}

/** PUT /teams/{id} — rename and/or move; 422 `parent_id` code `cycle` when placed under itself. */
export function updateTeam(id: number, input: TeamWrite): Promise<Team> {
  return request<Team>('PUT', `/teams/${id}`, { body: input })
}

/** DELETE /teams/{id} — 409 while it has members or sub-teams. */
export function deleteTeam(id: number): Promise<void> {
  return request<void>('DELETE', `/teams/${id}`)
}
