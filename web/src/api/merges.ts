import { request, type Page } from './http'
import type { Customer } from './customers'
import type { AuditEntry } from './audit'

/** One field of the side-by-side comparison. */
export interface MergeField {
  /** `name`, `company`, …, `owner_id`, or `custom.<name>`. */
  field: string
  /** Each member's value (ID number and address masked; null when empty). */
  values: { customer_id: number; value: unknown }[]
  /** The member whose value the merge takes unless told otherwise. */
  default: number
  differs: boolean
}

/** POST /duplicates/suggest. */
export interface MergeSuggestion {
  survivor_id: number
  /** Suggested order, the survivor first (masked). */
  members: { customer: Customer; completeness: number }[]
  fields: MergeField[]
  /** The survivor as the default merge makes it: every phone, email and tag kept (masked). */
  preview: Customer
}

export interface MergeRecord {
  id: number
  survivor_id: number
  survivor_name: string
  loser_ids: number[]
  losers: { id: number; name: string }[]
  fields: string[]
  bulk: boolean
  merged_by: number
  merged_by_name: string
  merged_at: string
  survivor_version: number
  undone_at: string | null
  undone_by: number | null
}

export interface MergeBody {
  survivor_id: number
  loser_ids: number[]
  /** Field -> the customer whose value to keep. */
  choices: Record<string, number>
  /** Customer id -> the version shown. */
  versions: Record<string, number>
}

export interface BulkMergeResult {
  dry_run: boolean
  groups: number
  merged_customers: number
  skipped: number
  merge_ids: number[]
}

/** POST /duplicates/suggest — the comparison of a group, with a suggested survivor. */
export function suggestMerge(ids: number[]): Promise<MergeSuggestion> {
  return request<MergeSuggestion>('POST', '/duplicates/suggest', { body: { ids } })
}

/** POST /merges — merge the losers into the survivor (412 when one changed meanwhile). */
export function mergeCustomers(body: MergeBody): Promise<MergeRecord> {
  return request<MergeRecord>('POST', '/merges', { body })
}

/** GET /merges — merge records, newest first. */
export function listMerges(cursor?: string | null, limit = 20): Promise<Page<MergeRecord>> {
  return request<Page<MergeRecord>>('GET', '/merges', { query: { limit, cursor } })
}

/** POST /merges/{id}/undo — both sides back as they were (409 when the survivor changed since). */
export function undoMerge(id: number): Promise<MergeRecord> {
  return request<MergeRecord>('POST', `/merges/${id}/undo`, { body: {} })
}

/** POST /merges/bulk-exact-phone — administrators: merge every group sharing a mobile number. */
export function bulkMergeExactPhone(dryRun: boolean): Promise<BulkMergeResult> {
  return request<BulkMergeResult>('POST', '/merges/bulk-exact-phone', { body: { dry_run: dryRun } })
}

/** GET /customers/{id}/history — audit entries of a customer and of those merged into it (audit.read). */
export function customerHistory(id: number, limit = 20): Promise<Page<AuditEntry>> {
  return request<Page<AuditEntry>>('GET', `/customers/${id}/history`, { query: { limit } })
}
