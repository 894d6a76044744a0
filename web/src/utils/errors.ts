import type { Composer } from 'vue-i18n'
import { ApiError, BAD_RESPONSE_PROBLEM, NETWORK_PROBLEM, type FieldError } from '@/api/http'

type T = Composer['t']
type Te = Composer['te']

/**
 * Canonical form of an API field path: `phones.0.number` and `phones[0].number` both
 * become `phones[0].number`, so form inputs can look their error up by one key.
 */
export function normaliseFieldPath(path: string): string {
  return path.replace(/\.(\d+)(?=\.|$)/g, '[$1]').replace(/^\$\./, '')
}

const PHONE_NUMBER_PATH = /^phones\[\d+\](\.number)?$/
const PASSWORD_PATH = /^(password|new_password|current_password)$/

/** A field error in the user's language; the server's English message is the fallback. */
export function fieldErrorText(fe: FieldError, t: T, te: Te): string {
  const path = normaliseFieldPath(fe.field)
  if (PHONE_NUMBER_PATH.test(path) && te(`errors.phoneCode.${fe.code}`)) {
    return t(`errors.phoneCode.${fe.code}`)
  }
  if (PASSWORD_PATH.test(path) && te(`errors.passwordCode.${fe.code}`)) {
    return t(`errors.passwordCode.${fe.code}`)
  }
  if (te(`errors.code.${fe.code}`)) return t(`errors.code.${fe.code}`)
  return fe.message || fe.code
}

/** Field errors keyed by canonical path; the first error of a field wins. */
export function fieldErrorMap(errors: FieldError[], t: T, te: Te): Record<string, string> {
  const out: Record<string, string> = {}
  for (const fe of errors) {
    const key = normaliseFieldPath(fe.field)
    if (!(key in out)) out[key] = fieldErrorText(fe, t, te)
  }
  return out
}

/** One sentence for a failed request, for a toast or an alert. */
export function problemText(err: unknown, t: T, te: Te): string {
  if (!(err instanceof ApiError)) {
    return err instanceof Error ? err.message : String(err)
  }
  const p = err.problem
  if (p.type === NETWORK_PROBLEM) return t('errors.network')
  if (p.type === BAD_RESPONSE_PROBLEM) return t('errors.badResponse')
  switch (err.kind) {
    case 'csrf':
      return t('errors.csrf')
    case 'forbidden':
      return t('errors.forbidden')
    case 'unauthenticated':
      return t('errors.unauthenticated')
    case 'not-found':
      return t('errors.notFound')
    case 'precondition-failed':
      return t('errors.preconditionFailed')
    case 'payload-too-large':
      return t('errors.payloadTooLarge')
    case 'rate-limited':
      return t('errors.rateLimited')
    case 'internal':
      return t('errors.internal', { id: p.detail ?? '' })
    case 'conflict':
      return withDetail(t('errors.conflict'), err, t, te)
    case 'bad-request':
      return withDetail(t('errors.badRequest'), err, t, te)
    case 'invalid':
      return withDetail(t('errors.invalid'), err, t, te)
  }
  switch (p.status) {
    case 401:
      return t('errors.unauthenticated')
    case 403:
      return t('errors.forbidden')
    case 404:
      return t('errors.notFound')
    case 409:
      return withDetail(t('errors.conflict'), err, t, te)
    case 412:
      return t('errors.preconditionFailed')
    case 413:
      return t('errors.payloadTooLarge')
    case 429:
      return t('errors.rateLimited')
  }
  if (p.status >= 500) return t('errors.internal', { id: p.detail ?? '' })
  return t('errors.generic', { status: p.status })
}

function withDetail(base: string, err: ApiError, t: T, te: Te): string {
  const fes = err.fieldErrors
  if (fes.length > 0) {
    const parts = fes.slice(0, 3).map((fe) => `${fe.field}: ${fieldErrorText(fe, t, te)}`)
    return t('errors.withDetail', { base, detail: parts.join('; ') })
  }
  return err.problem.detail ? t('errors.withDetail', { base, detail: err.problem.detail }) : base
}

/** How long to wait, for a sentence: "42 秒" / "42 s", from two minutes on "15 分钟" / "15 min". */
export function waitText(seconds: number, t: T): string {
  const s = Math.max(1, Math.ceil(seconds))
  return s < 120 ? t('time.seconds', { n: s }) : t('time.minutes', { n: Math.ceil(s / 60) })
}

/**
 * Seconds a 429 asks to wait: the Retry-After header, else the number in the server's
 * detail ("try again in 42 s"), else null.
 */
export function retryAfterSeconds(err: ApiError): number | null {
  if (err.retryAfter !== null) return err.retryAfter
  const m = /(\d+)\s*s\b/.exec(err.problem.detail ?? '')
  return m ? Number(m[1]) : null
}
