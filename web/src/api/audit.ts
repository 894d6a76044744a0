import { buildUrl, request, type Page } from './http'

export interface AuditEntry {
  id: number
  /** Position in the hash chain: 1, 2, 3, … */
  seq: number
  at: string
  /** 0 for the command line's local administrator and failed logins of unknown users. */
  actor_id: number
  actor_name: string
  /** `module.verb`: `auth.login`, `customer.update`, `alert.reveal_quota`, … */
  action: string
  entity: string
  entity_id: string
  ip: string
  /** Never personal data: for updates the names of the changed fields. */
  details: Record<string, unknown>
  hash: string
  prev_hash: string
}

export interface AuditFilters {
  actor_id?: number
  /** Exact action, or a prefix ending in '.' (`customer.`). */
  action?: string
  entity?: string
  entity_id?: string
  /** RFC 3339, inclusive. */
  from?: string
  /** RFC 3339, exclusive. */
  to?: string
}

export interface AuditQuery extends AuditFilters {
  limit?: number
  cursor?: string
}

export interface AuditVerification {
  ok: boolean
  checked: number
  /** The first entry that fails; null when the chain is fine or entries were cut at the end. */
  first_broken_id: number | null
  reason: string | null
  head_hash: string
}

export type AuditExportFormat = 'csv' | 'json'

/** GET /audit — audit.read; newest first. */
export function listAudit(query: AuditQuery = {}, signal?: AbortSignal): Promise<Page<AuditEntry>> {
  return request<Page<AuditEntry>>('GET', '/audit', { query: { ...query }, signal })
}

/** GET /audit/verify — recomputes the whole chain. */
export function verifyAudit(): Promise<AuditVerification> {
  return request<AuditVerification>('GET', '/audit/verify')
}

/** Address of GET /audit/export: a file download (same cookie), oldest entries first. */
export function auditExportUrl(filters: AuditFilters, format: AuditExportFormat): string {
  return buildUrl('/audit/export', { ...filters, format })
}
