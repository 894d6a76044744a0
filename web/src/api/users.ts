import { request, type Page } from './http'
import type { Role, User } from './auth'

export type { User, Role }

export interface UserCreate {
  username: string
  password: string
  display_name?: string
  role?: Role
}

/** GET /users — every user (for owner pickers); next_cursor is always null. */
export function listUsers(): Promise<Page<User>> {
  return request<Page<User>>('GET', '/users')
}

/** POST /users — admin only; 409 when the username is taken, 422 for a weak password. */
export function createUser(input: UserCreate): Promise<User> {
  return request<User>('POST', '/users', { body: input })
}
