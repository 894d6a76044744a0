import { buildUrl, request, type Page } from './http'

export type OnDuplicate = 'skip' | 'merge' | 'create'
export type RunState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled'

/** `{"column header" or "#N": target}`; targets: name, phones:手机, custom.x, extra, ignore, … */
export type ImportMapping = Record<string, string>

export interface ImportTotals {
  read: number
  created: number
  merged: number
  skipped: number
  rejected: number
  flagged: number
  problems: number
  elapsed_ms: number
  warnings: string[]
}

export interface ImportRun {
  id: number
  import_id: number
  state: RunState
  dry_run: boolean
  on_duplicate: OnDuplicate
  /** The last row number committed. */
  cursor: number
  progress: { done: number; total: number; percent: number }
  totals: ImportTotals
  error: string | null
  created_at: string
  started_at: string | null
  finished_at: string | null
}

export interface ImportFile {
  id: number
  filename: string
  format: 'csv' | 'xlsx'
  size: number
  created_by: number
  created_at: string
  latest_run: ImportRun | null
}

export interface PreviewColumn {
  index: number
  header: string
  target: string
  /** Guessed from the header (false when chosen). */
  automatic: boolean
}

export interface CellProblem {
  /** Column index, null when about the whole row. */
  column: number | null
  field: string
  code: string
  message: string
  raw: string
}

export interface PreviewRow {
  row: number
  cells: string[]
  problems: CellProblem[]
  /** Could not be imported at all. */
  rejected: boolean
}

export interface ImportPreview {
  import: ImportFile
  format: 'csv' | 'xlsx'
  encoding: string | null
  detected_encoding: string | null
  separator: string | null
  sheets: string[]
  sheet: string | null
  header_row: number
  columns: PreviewColumn[]
  rows: PreviewRow[]
  warnings: string[]
}

export interface ImportOptions {
  encoding?: string | null
  sheet?: string | null
  mapping?: ImportMapping | null
  template?: string | null
}

export interface RunOptions extends ImportOptions {
  on_duplicate?: OnDuplicate
  dry_run?: boolean
}

export interface ImportTemplate {
  id: number
  name: string
  mapping: ImportMapping
  created_by: number
  updated_at: string
}

/** POST /imports — the file as the body; answers the analysis with the guessed mapping. */
export function uploadImport(file: Blob, filename: string): Promise<ImportPreview> {
  return request<ImportPreview>('POST', '/imports', { raw: file, query: { filename } })
}

/** POST /imports/{id}/preview — analyse again with another encoding, sheet or mapping. */
export function previewImport(id: number, options: ImportOptions, signal?: AbortSignal): Promise<ImportPreview> {
  return request<ImportPreview>('POST', `/imports/${id}/preview`, { body: options, signal })
}

/** POST /imports/{id}/runs — queues a run (or a dry run) as a background job. */
export function startImportRun(id: number, options: RunOptions): Promise<ImportRun> {
  return request<ImportRun>('POST', `/imports/${id}/runs`, { body: options })
}

/** GET /imports/runs/{run} — progress and totals. */
export function getImportRun(runId: number, signal?: AbortSignal): Promise<ImportRun> {
  return request<ImportRun>('GET', `/imports/runs/${runId}`, { signal })
}

/** GET /imports */
export function listImports(): Promise<Page<ImportFile>> {
  return request<Page<ImportFile>>('GET', '/imports')
}

/** The problem report (CSV) of a run, as a link to download with the session cookie. */
export function importReportUrl(runId: number, lang: 'zh-CN' | 'en'): string {
  return buildUrl(`/imports/runs/${runId}/report`, { lang })
}

/** GET /imports/templates */
export function listImportTemplates(): Promise<Page<ImportTemplate>> {
  return request<Page<ImportTemplate>>('GET', '/imports/templates')
}

/** POST /imports/templates — saves (or replaces) a mapping under a name. */
export function saveImportTemplate(name: string, mapping: ImportMapping): Promise<ImportTemplate> {
  return request<ImportTemplate>('POST', '/imports/templates', { body: { name, mapping } })
}

/** DELETE /imports/templates/{id} */
export function deleteImportTemplate(id: number): Promise<void> {
  return request<void>('DELETE', `/imports/templates/${id}`)
}
