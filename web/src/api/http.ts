// The one HTTP client of the UI. Every API call goes through request(): it sends the
// session cookie (same origin), the CSRF header on writes, and turns every failure —
// network, proxy page, problem+json — into an ApiError carrying an RFC 9457 problem.

export interface FieldError {
  /** Path of the offending input, e.g. `name`, `phones[0].number`, `custom.budget`. */
  field: string
  /** Stable machine code, e.g. `required`, `too_short`, `invalid_email`. */
  code: string
  /** English explanation from the server; shown when the UI has no translation. */
  message: string
}

export interface Problem {
  type: string
  title: string
  status: number
  detail?: string
  errors?: FieldError[]
  /** Extension members of the answer (RFC 9457), e.g. `duplicates` of a 409. */
  [extension: string]: unknown
}

/** Problem `type` values the client makes up itself (the server never sends these). */
export const NETWORK_PROBLEM = 'about:blank#network'
export const BAD_RESPONSE_PROBLEM = 'about:blank#bad-response'

export class ApiError extends Error {
  readonly problem: Problem
  /** Seconds to wait before trying again (the `Retry-After` header of a 429 or 503), or null. */
  readonly retryAfter: number | null

  constructor(problem: Problem, retryAfter: number | null = null) {
    super(problem.detail || problem.title || `HTTP ${problem.status}`)
    this.name = 'ApiError'
    this.problem = problem
    this.retryAfter = retryAfter
  }

  get status(): number {
    return this.problem.status
  }

  /** Last segment of the problem type: `invalid`, `conflict`, `csrf`, … */
  get kind(): string {
    const t = this.problem.type || ''
    const i = t.lastIndexOf('/')
    return i >= 0 ? t.slice(i + 1) : t
  }

  get fieldErrors(): FieldError[] {
    return this.problem.errors ?? []
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError
}

export type QueryValue = string | number | boolean | null | undefined
export type Query = Record<string, QueryValue>

export interface RequestOptions {
  query?: Query
  body?: unknown
  /** Sent as `If-Match` (the resource's integer version). */
  ifMatch?: number
  /** Sent as `Idempotency-Key` on POST. */
  idempotencyKey?: string
  signal?: AbortSignal
  /** A body sent as is (a file upload) instead of `body` as JSON. */
  raw?: Blob
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE'

interface HttpHooks {
  /** The current CSRF token, or null before login. */
  csrfToken: () => string | null
  /** Called once when a request (other than login/me) answers 401. */
  onUnauthenticated: () => void
  /** Fetches a fresh CSRF token (GET /auth/me); used to retry a write once after a 403 csrf. */
  refreshCsrf: () => Promise<string | null>
  /** Called when a request answers 403 `mfa/enrollment_required` (the role requires MFA). */
  onMfaEnrollmentRequired: () => void
}

let hooks: HttpHooks = {
  csrfToken: () => null,
  onUnauthenticated: () => {},
  refreshCsrf: async () => null,
  onMfaEnrollmentRequired: () => {},
}

/** The error code of a 403 for a session that has to set up two-step verification first. */
export const MFA_ENROLLMENT_REQUIRED = 'mfa/enrollment_required'

export function configureHttp(h: Partial<HttpHooks>): void {
  hooks = { ...hooks, ...h }
}

export const API_BASE = '/api/v1'

export function buildUrl(path: string, query?: Query): string {
  const params = new URLSearchParams()
  if (query) {
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === '') continue
      params.append(k, String(v))
    }
  }
  const qs = params.toString()
  return API_BASE + path + (qs ? `?${qs}` : '')
}

/** Paths whose 401 is an answer, not an expired session. */
const AUTH_PATHS = new Set(['/auth/login', '/auth/login/mfa', '/auth/me'])

/** `Retry-After` in seconds (the delta form; an HTTP date is converted), or null. */
function retryAfterOf(res: Response): number | null {
  const v = res.headers.get('Retry-After')?.trim()
  if (!v) return null
  if (/^\d+$/.test(v)) return Number(v)
  const at = Date.parse(v)
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000))
}

async function readProblem(res: Response): Promise<Problem> {
  const ct = res.headers.get('Content-Type') ?? ''
  let text = ''
  try {
    text = await res.text()
  } catch {
    /* body unreadable: fall through with an empty text */
  }
  if (ct.includes('json') && text) {
    try {
      const p = JSON.parse(text) as Partial<Problem>
      return {
        ...p,
        type: typeof p.type === 'string' ? p.type : 'about:blank',
        title: typeof p.title === 'string' ? p.title : res.statusText,
        status: typeof p.status === 'number' ? p.status : res.status,
        detail: typeof p.detail === 'string' ? p.detail : undefined,
        errors: Array.isArray(p.errors) ? p.errors : undefined,
      }
    } catch {
      /* not JSON after all */
    }
  }
  return { type: 'about:blank', title: res.statusText || `HTTP ${res.status}`, status: res.status }
}

async function send(method: Method, path: string, opts: RequestOptions): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json, application/problem+json' }
  let body: string | Blob | undefined
  if (opts.raw !== undefined) {
    headers['Content-Type'] = 'application/octet-stream'
    body = opts.raw
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  if (method !== 'GET') {
    const csrf = hooks.csrfToken()
    if (csrf) headers['X-CSRF-Token'] = csrf
  }
  if (opts.ifMatch !== undefined) headers['If-Match'] = `"${opts.ifMatch}"`
  if (opts.idempotencyKey) headers['Idempotency-Key'] = opts.idempotencyKey
  try {
    return await fetch(buildUrl(path, opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError({ type: NETWORK_PROBLEM, title: 'Network error', status: 0, detail: String(e) })
  }
}

function noteEnrollmentRequired(problem: Problem): void {
  if (problem.status === 403 && problem.errors?.some((e) => e.code === MFA_ENROLLMENT_REQUIRED)) {
    hooks.onMfaEnrollmentRequired()
  }
}

export async function request<T>(method: Method, path: string, opts: RequestOptions = {}): Promise<T> {
  let res = await send(method, path, opts)
  if (res.status === 403 && method !== 'GET') {
    const problem = await readProblem(res)
    const err = new ApiError(problem, retryAfterOf(res))
    if (err.kind !== 'csrf') {
      noteEnrollmentRequired(problem)
      throw err
    }
    // The session may have been renewed in another tab: fetch the current token, retry once.
    const fresh = await hooks.refreshCsrf().catch(() => null)
    if (!fresh) throw err
    res = await send(method, path, opts)
  }
  if (!res.ok) {
    const problem = await readProblem(res)
    if (res.status === 401 && !AUTH_PATHS.has(path)) hooks.onUnauthenticated()
    noteEnrollmentRequired(problem)
    throw new ApiError(problem, retryAfterOf(res))
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  if (!text) return undefined as T
  try {
    return JSON.parse(text) as T
  } catch {
    throw new ApiError({
      type: BAD_RESPONSE_PROBLEM,
      title: 'Bad response',
      status: res.status,
      detail: 'The server answered with something that is not JSON.',
    })
  }
}

/** A list answer: `{items, next_cursor}`. */
export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/** A random key for `Idempotency-Key` (works on plain http too, unlike randomUUID). */
export function newIdempotencyKey(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
