import { request } from './http'
import type { Scope } from './auth'

export interface Role {
  id: number
  /** Stable key users refer to (`admin`, `sales`, …); 2–32 of a-z, 0-9, _. */
  key: string
  name: string
  /** Built-in roles cannot be deleted; the admin role keeps user.admin and scope all. */
  builtin: boolean
  permissions: string[]
  scope: Scope
  /** Phone reveals per user and day; 0 is unlimited. */
  reveal_quota: number
  user_count: number
  version: number
  /**
   * Addresses or CIDR networks (`10.0.0.0/8`, `192.168.1.7`, `fd00::/8`) the role's users
   * may log in and work from; empty = anywhere. The server stores them normalised.
   */
  ip_allow: string[]
  /** Users of this role must use two-step verification (those without it can only enrol). */
  mfa_required: boolean
}

export interface RoleCreate {
  key: string
  name: string
  permissions: string[]
  scope: Scope
  reveal_quota: number
}

export type RoleUpdate = Partial<
  Pick<Role, 'name' | 'permissions' | 'scope' | 'reveal_quota' | 'ip_allow' | 'mfa_required'>
>

/** GET /roles — user.admin. */
export function listRoles(): Promise<{ items: Role[] }> {
  return request<{ items: Role[] }>('GET', '/roles')
}

/** GET /permissions — every permission name. */
export function listPermissions(): Promise<{ items: string[] }> {
  return request<{ items: string[] }>('GET', '/permissions')
}

/** POST /roles — 409 when the key is taken, 422 for field errors. */
export function createRole(input: RoleCreate): Promise<Role> {
  return request<Role>('POST', '/roles', { body: input })
}

/**
 * PATCH /roles/{id} with If-Match: version — 412 when stale, 422 (`locked`) for the admin
 * role's essentials, 422 `ip_allow[i]` `invalid_format` for an entry that is neither an
 * address nor a network.
 */
export function updateRole(id: number, version: number, patch: RoleUpdate): Promise<Role> {
  return request<Role>('PATCH', `/roles/${id}`, { body: patch, ifMatch: version })
}

/** DELETE /roles/{id} — 409 for built-in roles and roles users hold. */
export function deleteRole(id: number): Promise<void> {
  return request<void>('DELETE', `/roles/${id}`)
}
