import { request } from './http'

export type FieldType = 'text' | 'number' | 'date' | 'select' | 'multiselect'

export const FIELD_TYPES: readonly FieldType[] = ['text', 'number', 'date', 'select', 'multiselect']

/** An admin-defined custom field of an entity. */
export interface Field {
  id: number
  entity: 'customer'
  /** Key in `Customer.custom`; matches ^[a-z][a-z0-9_]{0,39}$. */
  name: string
  label: string
  type: FieldType
  options: string[]
  required: boolean
  position: number
  created_at: string
}

export interface FieldCreate {
  name: string
  label: string
  type: FieldType
  options?: string[]
  required?: boolean
}

/** Value of one custom field: text, number, date (YYYY-MM-DD) or option(s). */
export type CustomValue = string | number | string[] | null

/** GET /fields */
export function listFields(): Promise<{ items: Field[] }> {
  return request<{ items: Field[] }>('GET', '/fields')
}

/** POST /fields — admin only; 409 name taken, 422 bad definition. */
export function createField(input: FieldCreate): Promise<Field> {
  return request<Field>('POST', '/fields', { body: input })
}

/** DELETE /fields/{name} — admin only. Stored values stay but are no longer shown. */
export function deleteField(name: string): Promise<void> {
  return request<void>('DELETE', `/fields/${encodeURIComponent(name)}`)
}
