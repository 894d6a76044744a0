import { request, type Page } from './http'
import type { LoginDevice, LoginSession, User } from './auth'

export type { User }

export interface UserCreate {
  username: string
  password: string
  display_name?: string
  /** Role key; the server's default is `sales`. */
  role?: string
  team_id?: number | null
}

/** Body of PATCH /users/{id}: only what changes. */
export interface UserUpdate {
  display_name?: string
  role?: string
  team_id?: number | null
  active?: boolean
  password?: string
}

/** GET /users — every user (for owner pickers); next_cursor is always null. */
export function listUsers(): Promise<Page<User>> {
  return request<Page<User>>('GET', '/users')
}

/** POST /users — user.admin; 409 when the username is taken, 422 for a weak password. */
export function createUser(input: UserCreate): Promise<User> {
  return request<User>('POST', '/users', { body: input })
}

/**
 * PATCH /users/{id} with If-Match: version — user.admin; 412 when stale, 422 for field
 * errors (weak password, unknown role or team, deactivating yourself or dropping your own
 * user.admin: code `self`).
 */
export function updateUser(id: number, version: number, patch: UserUpdate): Promise<User> {
  return request<User>('PATCH', `/users/${id}`, { body: patch, ifMatch: version })
}

/** GET /users/{id}/sessions — user.admin: where the user is logged in now. */
export function listUserSessions(id: number): Promise<{ items: LoginSession[] }> {
  return request<{ items: LoginSession[] }>('GET', `/users/${id}/sessions`)
}

/** DELETE /users/{id}/sessions — user.admin: logs the user out everywhere. */
export function revokeUserSessions(id: number): Promise<{ revoked: number }> {
  return request<{ revoked: number }>('DELETE', `/users/${id}/sessions`)
}

/** GET /users/{id}/devices — user.admin: browsers and addresses the user logged in from. */
export function listUserDevices(id: number): Promise<{ items: LoginDevice[] }> {
  return request<{ items: LoginDevice[] }>('GET', `/users/${id}/devices`)
}
