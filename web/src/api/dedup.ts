import { ApiError, request } from './http'

/** Why two customers look alike; the server's stable names (see `dedup.reasons` in the locales). */
export type DuplicateReason =
  | 'same_id_number'
  | 'same_phone'
  | 'same_email'
  | 'same_landline'
  | 'same_shared_email'
  | 'same_service_number'
  | 'same_invalid_number'
  | 'same_credit_code'
  | 'name_equal'
  | 'name_pinyin_equal'
  | 'name_similar'
  | 'name_surname_match'
  | 'company_equal'
  | 'company_similar'
  | 'same_city'
  | 'same_province'
  | 'common_name'
  | 'name_differs'
  | 'gender_differs'
  | 'id_number_differs'
  | 'credit_code_differs'
  | 'company_differs'
  | 'city_differs'
  | 'province_differs'

/** Reasons that speak against two customers being one person. */
export const AGAINST: ReadonlySet<string> = new Set([
  'name_differs',
  'gender_differs',
  'id_number_differs',
  'credit_code_differs',
  'company_differs',
  'city_differs',
  'province_differs',
])

/** A customer in a duplicate group; phones and emails masked. */
export interface DuplicateMember {
  id: number
  code: string | null
  name: string
  gender: string
  company: string | null
  title: string | null
  province: string | null
  city: string | null
  phones: string[]
  emails: string[]
  owner_id: number | null
  owner_name: string | null
  stage: string | null
  created_at: string | null
  updated_at: string | null
  /** Its strongest link to another member, 0..1. */
  score: number
}

export interface DuplicateGroup {
  /** Stable while the members stay the same. */
  key: string
  /** The weakest link that joined the group, 0..1. */
  score: number
  reasons: DuplicateReason[]
  members: DuplicateMember[]
}

export interface ScanResult {
  groups: DuplicateGroup[]
  total_groups: number
  scanned: number
  candidate_pairs: number
  took_ms: number
  min_score: number
}

/** POST /duplicates/scan — groups of likely duplicates in the caller's scope (customer.merge). */
export function scanDuplicates(opts: { limit?: number; min_score?: number } = {}): Promise<ScanResult> {
  return request<ScanResult>('POST', '/duplicates/scan', { body: opts })
}

/** A customer the 409 of a create or edit names: same number or email. */
export interface DuplicateMatch {
  id: number
  code: string | null
  name: string
  company: string | null
  province: string | null
  city: string | null
  owner_id: number | null
  owner_name: string | null
  phones: string[]
  emails: string[]
  /** Inputs of the write it matched: `phones[0].number`, `emails[1].address`. */
  matched: string[]
  /** False for a shared line (a household's or office's) or a different name. */
  same_person: boolean
  score: number
  reasons: DuplicateReason[]
}

/** What a 409 duplicate answer says. */
export interface DuplicateWarning {
  matches: DuplicateMatch[]
  /** Inputs whose number or address a customer outside the caller's scope holds (not named). */
  outOfScope: string[]
  /** Inputs that matched a fixed line of a differently named customer. */
  sharedLines: string[]
}

/** The duplicate warning in a create/edit error, or null when it is another error. */
export function duplicateWarning(err: unknown): DuplicateWarning | null {
  if (!(err instanceof ApiError) || err.status !== 409) return null
  const codes = err.fieldErrors.filter((e) => e.code.startsWith('duplicate/'))
  if (codes.length === 0) return null
  const raw = err.problem.duplicates
  return {
    matches: Array.isArray(raw) ? (raw as DuplicateMatch[]) : [],
    outOfScope: codes.filter((e) => e.code.endsWith('_out_of_scope')).map((e) => e.field),
    sharedLines: codes.filter((e) => e.code === 'duplicate/shared_phone').map((e) => e.field),
  }
}
