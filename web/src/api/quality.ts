import { request, type Page } from './http'
import type { Customer } from './customers'

export interface QualityQuery {
  limit?: number
  cursor?: string
  q?: string
  owner_id?: number
}

/** GET /quality — customers in the caller's scope with open data-quality issues, newest first. */
export function listQuality(query: QualityQuery = {}, signal?: AbortSignal): Promise<Page<Customer>> {
  return request<Page<Customer>>('GET', '/quality', { query: { ...query }, signal })
}
