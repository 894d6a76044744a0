import { buildUrl, request } from './http'
import type { CustomerQuery } from './customers'

export type ExportFormat = 'csv' | 'xlsx' | 'json'
export type ExportEncoding = 'utf8' | 'gbk'
export type ExportLang = 'zh' | 'en'

/** The list filters and sort an export takes (no paging). */
export type ExportFilters = Omit<CustomerQuery, 'limit' | 'cursor'>

export interface ExportOptions {
  format: ExportFormat
  /** CSV only. */
  encoding?: ExportEncoding
  /** Clear phones, emails, ID numbers and addresses (phone.reveal; one reveal per customer). */
  reveal?: boolean
  /** Column headers and gender/stage values. */
  lang?: ExportLang
}

/** Answer of GET /customers/export/count. */
export interface ExportCount {
  count: number
  /** The caller holds phone.reveal. */
  reveal_allowed: boolean
  /** Reveals a day the role allows; 0 is unlimited. */
  reveal_quota: number
  reveals_today: number
}

/** GET /customers/export/count — customer.export: how many customers an export would hold. */
export function countExport(filters: ExportFilters, signal?: AbortSignal): Promise<ExportCount> {
  return request<ExportCount>('GET', '/customers/export/count', { query: { ...filters }, signal })
}

/**
 * Address of GET /customers/export: a file download the browser saves itself (same cookie,
 * streamed by the server), `客户-YYYYMMDD-HHMM.xlsx` and so on.
 */
export function customerExportUrl(filters: ExportFilters, opts: ExportOptions): string {
  return buildUrl('/customers/export', {
    ...filters,
    format: opts.format,
    encoding: opts.format === 'csv' && opts.encoding === 'gbk' ? 'gbk' : undefined,
    reveal: opts.reveal ? 'true' : undefined,
    lang: opts.lang === 'en' ? 'en' : undefined,
  })
}
