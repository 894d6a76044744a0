import { request } from './http'

/** Permission names the server knows (GET /permissions lists them in this order). */
export const PERMISSIONS = [
  'customer.read',
  'customer.create',
  'customer.update',
  'customer.delete',
  'customer.export',
  'customer.import',
  'customer.merge',
  'phone.reveal',
  'interaction.log',
  'tag.manage',
  'field.manage',
  'user.admin',
  'audit.read',
  'settings.admin',
] as const

export type Permission = (typeof PERMISSIONS)[number]

/** Which customers a role's users see: their own, their team's (and sub-teams'), or all. */
export type Scope = 'own' | 'team' | 'all'
export const SCOPES: readonly Scope[] = ['own', 'team', 'all']

/**
 * The roles every installation has, with the names the server gives them. The UI shows
 * these in the user's language unless an admin renamed the role.
 */
export const BUILTIN_ROLE_NAMES: Readonly<Record<string, string>> = {
  admin: '管理员',
  sales_manager: '销售经理',
  sales: '销售',
  service: '客服',
  marketing: '市场',
  readonly: '只读',
}

export interface User {
  id: number
  username: string
  display_name: string
  /** Key of the user's role (`admin`, `sales`, … or a custom one). */
  role: string
  team_id: number | null
  active: boolean
  created_at: string
  version: number
  /** Two-step verification (TOTP) is on. */
  mfa_enabled: boolean
}

/** The logged-in user as GET /auth/me describes it: with what the role allows. */
export interface Me extends User {
  permissions: string[]
  scope: Scope
  /** The role requires two-step verification; without it the session may only enrol. */
  mfa_required: boolean
}

/** Answer of /auth/me (and of login). */
export interface Session {
  user: Me
  /** Null when the caller used a Bearer token. */
  csrf_token: string | null
}

/** Answer of POST /auth/login (and /auth/login/mfa) when the session has started. */
export interface LoginSessionAnswer extends Session {
  /**
   * First login of this user from this browser (user agent) and address, when they had
   * logged in before from elsewhere: the UI tells them, in case it was not them.
   */
  new_device: boolean
  mfa_required: false
  /** The role requires MFA and the user has none: this session may only enrol. */
  mfa_enrollment_required: boolean
}

/** Answer of POST /auth/login when the password was right and a code is needed. */
export interface MfaChallengeAnswer {
  mfa_required: true
  /** For POST /auth/login/mfa; valid five minutes. */
  mfa_token: string
  expires_at: string
}

export type LoginAnswer = LoginSessionAnswer | MfaChallengeAnswer

/** One login session (a browser that is logged in), as /auth/sessions lists them. */
export interface LoginSession {
  /** 16 hex digits; DELETE /auth/sessions/{id} ends it. */
  id: string
  ip: string
  user_agent: string
  created_at: string
  last_seen_at: string
  /** When it ends unless used again (idle timeout, capped by the absolute one). */
  expires_at: string
  /** The session of the browser that asks. */
  current: boolean
}

/** A browser and address the user logged in from. */
export interface LoginDevice {
  ip: string
  user_agent: string
  first_seen_at: string
  last_seen_at: string
}

export interface PasswordChange {
  current_password: string
  new_password: string
}

export interface LoginInput {
  username: string
  password: string
}

/**
 * POST /auth/login — sets the session cookie. 401 on bad credentials (also for an unknown
 * user); 429 with Retry-After after repeated failures (the name or the address is slowed
 * down, then locked); 403 when the user's role may not log in from this address.
 */
export function login(input: LoginInput): Promise<LoginAnswer> {
  return request<LoginAnswer>('POST', '/auth/login', { body: input })
}

/**
 * POST /auth/login/mfa — the second step: a 6-digit code from the app or a recovery code.
 * 401 with `errors[0].code` `wrong` / `reused` (field `code`) or `expired` (field
 * `mfa_token`: sign in with the password again); 429 after repeated wrong codes.
 */
export function loginMfa(mfaToken: string, code: string): Promise<LoginSessionAnswer> {
  return request<LoginSessionAnswer>('POST', '/auth/login/mfa', { body: { mfa_token: mfaToken, code } })
}

/** POST /auth/logout — 204, cookie cleared. */
export function logout(): Promise<void> {
  return request<void>('POST', '/auth/logout')
}

/** GET /auth/me — the current user with permissions and scope, or 401. */
export function me(): Promise<Session> {
  return request<Session>('GET', '/auth/me')
}

/** GET /auth/sessions — the caller's login sessions, `current` marking this browser's. */
export function listSessions(): Promise<{ items: LoginSession[] }> {
  return request<{ items: LoginSession[] }>('GET', '/auth/sessions')
}

/** DELETE /auth/sessions/{id} — logs that browser out; 404 when there is no such session. */
export function revokeSession(id: string): Promise<void> {
  return request<void>('DELETE', `/auth/sessions/${encodeURIComponent(id)}`)
}

/** GET /auth/devices — browsers and addresses the caller logged in from. */
export function listDevices(): Promise<{ items: LoginDevice[] }> {
  return request<{ items: LoginDevice[] }>('GET', '/auth/devices')
}

/**
 * POST /auth/password — 204; ends the caller's other sessions. 422: `current_password`
 * `wrong`, or `new_password` too_short / too_long / contains_username / too_weak /
 * unchanged; 429 after repeated wrong current passwords.
 */
export function changePassword(input: PasswordChange): Promise<void> {
  return request<void>('POST', '/auth/password', { body: input })
}
