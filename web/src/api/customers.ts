import { request, type Page } from './http'
import type { CustomValue } from './fields'

export type Stage = 'potential' | 'intent' | 'won' | 'active' | 'dormant' | 'churned'
export const STAGES: readonly Stage[] = ['potential', 'intent', 'won', 'active', 'dormant', 'churned']

export type Gender = 'male' | 'female' | 'unknown'
export const GENDERS: readonly Gender[] = ['male', 'female', 'unknown']

export type PhoneType =
  | 'mobile'
  | 'fixed_line'
  | 'fixed_line_or_mobile'
  | 'toll_free'
  | 'premium_rate'
  | 'shared_cost'
  | 'voip'
  | 'personal_number'
  | 'pager'
  | 'uan'
  | 'voicemail'
  | 'unknown'

/** A stored phone number: the raw input plus what Kehu computed from it. */
export interface Phone {
  /** As typed. */
  number: string
  label: string
  primary: boolean
  e164: string
  extension: string
  type: PhoneType
  /** Chinese region text, e.g. 河北省秦皇岛市. */
  region: string
  carrier: string
  /** Formatted for people, e.g. 138 0013 8000 or 0335-305 1234 转 12. */
  display: string
  valid: boolean
}

export interface Email {
  address: string
  label: string
}

export interface Customer {
  id: number
  code: string | null
  name: string
  gender: Gender
  company: string | null
  title: string | null
  phones: Phone[]
  emails: Email[]
  id_number: string | null
  credit_code: string | null
  province: string | null
  city: string | null
  district: string | null
  address: string | null
  source: string | null
  owner_id: number | null
  owner_name: string | null
  stage: Stage
  notes: string | null
  custom: Record<string, CustomValue>
  tags: string[]
  /** Values an import could not store as given, kept raw for staff to fix (数据质量). */
  quality_issues: QualityIssue[]
  created_by: number
  created_at: string
  updated_by: number
  updated_at: string
  version: number
  deleted_at: string | null
  /** In the recycle bin only: the customer this one was merged into (restore is refused then). */
  merged_into?: number
  /**
   * True when phones, emails, id_number and address are masked (`138****8000`,
   * `z***@example.com`, `110***********002X`, `****`): list, detail and write answers are.
   * A masked value sent back unchanged in a PATCH keeps the stored one.
   */
  masked: boolean
}

/**
 * A value kept raw and flagged: `field` is phones, emails, id_number, gender, custom.x, …;
 * `raw` is masked like the customer's contact data until revealed.
 */
export interface QualityIssue {
  field: string
  code: string
  message: string
  raw: string
  /** The header of the imported file's column. */
  column: string | null
  at: string
}

export interface PhoneInput {
  number: string
  label?: string
  primary?: boolean
}

export interface EmailInput {
  address: string
  label?: string
}

/** Body of POST and PATCH. `null` clears an optional field; lists replace the whole list. */
export interface CustomerWrite {
  code?: string | null
  name?: string
  gender?: Gender
  company?: string | null
  title?: string | null
  phones?: PhoneInput[]
  emails?: EmailInput[]
  id_number?: string | null
  credit_code?: string | null
  province?: string | null
  city?: string | null
  district?: string | null
  address?: string | null
  source?: string | null
  owner_id?: number | null
  stage?: Stage
  notes?: string | null
  custom?: Record<string, CustomValue>
  tags?: string[]
  /** `[]`: the open data-quality issues are dealt with. */
  quality_issues?: []
}

export type CustomerSort = 'created_at' | 'updated_at' | 'name' | 'code'
export type SortOrder = 'asc' | 'desc'

export interface CustomerQuery {
  limit?: number
  cursor?: string
  /** Name/company/code, a phone number in any format, or its last 4 digits. */
  q?: string
  owner_id?: number
  source?: string
  province?: string
  city?: string
  stage?: Stage
  /** RFC 3339 or YYYY-MM-DD. */
  created_from?: string
  created_to?: string
  sort?: CustomerSort
  order?: SortOrder
  /** true lists the recycle bin. */
  deleted?: boolean
}

/** GET /customers */
export function listCustomers(query: CustomerQuery = {}, signal?: AbortSignal): Promise<Page<Customer>> {
  return request<Page<Customer>>('GET', '/customers', { query: { ...query }, signal })
}

/** GET /customers/{id} — 404 also when it is in the recycle bin. */
export function getCustomer(id: number): Promise<Customer> {
  return request<Customer>('GET', `/customers/${id}`)
}

/**
 * POST /customers — `name` is required. 409 with `duplicates` when another customer holds one
 * of the numbers or emails, unless `confirmDuplicate` (see api/dedup.ts duplicateWarning).
 */
export function createCustomer(body: CustomerWrite, idempotencyKey?: string, confirmDuplicate = false): Promise<Customer> {
  const query = confirmDuplicate ? { confirm_duplicate: true } : undefined
  return request<Customer>('POST', '/customers', { body, idempotencyKey, query })
}

/**
 * PATCH /customers/{id} with If-Match: version — 412 when someone else changed it; 409 when a
 * number or email it adds is another customer's, unless `confirmDuplicate`.
 */
export function updateCustomer(id: number, version: number, body: CustomerWrite, confirmDuplicate = false): Promise<Customer> {
  const query = confirmDuplicate ? { confirm_duplicate: true } : undefined
  return request<Customer>('PATCH', `/customers/${id}`, { body, ifMatch: version, query })
}

/** DELETE /customers/{id} — moves it to the recycle bin. */
export function deleteCustomer(id: number): Promise<void> {
  return request<void>('DELETE', `/customers/${id}`)
}

/** POST /customers/{id}/restore — brings it back from the recycle bin. */
export function restoreCustomer(id: number): Promise<Customer> {
  return request<Customer>('POST', `/customers/${id}/restore`)
}

/** Answer of POST /customers/{id}/reveal. */
export interface Revealed {
  /** The customer in clear (`masked: false`). */
  customer: Customer
  /** Reveals by the caller today, this one included. */
  reveals_today: number
  /** The caller's daily limit; 0 is unlimited. */
  reveal_quota: number
}

/**
 * POST /customers/{id}/reveal — the clear phones, emails, ID number and address; audited.
 * 403 without phone.reveal, 404 out of scope, 429 (`rate-limited`) when today's quota is used up.
 */
export function revealCustomer(id: number): Promise<Revealed> {
  return request<Revealed>('POST', `/customers/${id}/reveal`, { body: {} })
}

export interface PhoneLookup {
  number: {
    e164: string
    extension: string
    valid: boolean
    region: string
    type: PhoneType
  }
  items: Array<{
    id: number
    name: string
    company: string | null
    code: string | null
    owner_id: number | null
    phone_label: string
  }>
}

/** GET /lookup/phone — who has this number; 400 when it is not a number. */
export function lookupPhone(number: string, signal?: AbortSignal): Promise<PhoneLookup> {
  return request<PhoneLookup>('GET', '/lookup/phone', { query: { number }, signal })
}
