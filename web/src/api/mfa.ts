import { request } from './http'
import type { User } from './auth'

/** GET /auth/mfa: the caller's two-step verification. */
export interface MfaStatus {
  enabled: boolean
  /** The caller's role requires it (then it cannot be turned off). */
  required: boolean
  /** An enrolment was started and not confirmed. */
  pending: boolean
  recovery_codes_left: number
  enabled_at: string | null
}

/** What the authenticator app needs; the only time the server shows the secret. */
export interface MfaEnrolment {
  /** Base32, for typing into the app. */
  secret: string
  otpauth_uri: string
  /** The URI as a QR code, an SVG document (shown as a data: image). */
  qr_svg: string
  issuer: string
  account: string
}

export function getMfa(): Promise<MfaStatus> {
  return request<MfaStatus>('GET', '/auth/mfa')
}

/** POST /auth/mfa/enroll — a new secret (replacing an unconfirmed one); 409 when MFA is on. */
export function startMfaEnrolment(): Promise<MfaEnrolment> {
  return request<MfaEnrolment>('POST', '/auth/mfa/enroll', { body: {} })
}

/** POST /auth/mfa/confirm — 422 `code` required / invalid_format / wrong; the recovery codes. */
export function confirmMfa(code: string): Promise<{ enabled: true; recovery_codes: string[] }> {
  return request('POST', '/auth/mfa/confirm', { body: { code } })
}

/** POST /auth/mfa/recovery-codes — needs a current app code; the old codes stop working. */
export function regenerateRecoveryCodes(code: string): Promise<{ recovery_codes: string[] }> {
  return request('POST', '/auth/mfa/recovery-codes', { body: { code } })
}

/**
 * DELETE /auth/mfa with the password or a code — 422 `password`/`code` wrong; 403
 * `required_by_role`; 429 after repeated failures.
 */
export function disableMfa(proof: { password?: string; code?: string }): Promise<void> {
  return request<void>('DELETE', '/auth/mfa', { body: proof })
}

/** DELETE /users/{id}/mfa — user.admin: turns another user's MFA off (a lost phone). */
export function resetUserMfa(id: number): Promise<{ was_enabled: boolean; user: User }> {
  return request('DELETE', `/users/${id}/mfa`)
}
