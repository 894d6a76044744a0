import { computed, reactive, ref, shallowRef, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'
import { ElMessage, ElMessageBox } from 'element-plus'
import {
  createCustomer,
  getCustomer,
  lookupPhone,
  updateCustomer,
  type Customer,
  type CustomerWrite,
  type EmailInput,
  type Gender,
  type Phone,
  type PhoneInput,
  type PhoneLookup,
  type Stage,
} from '@/api/customers'
import type { CustomValue, Field } from '@/api/fields'
import { ApiError, newIdempotencyKey } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useFieldsStore } from '@/stores/fields'
import { useUsersStore } from '@/stores/users'
import { useErrors } from '@/composables/useErrors'
import { duplicateWarning, type DuplicateWarning } from '@/api/dedup'
import { EMAIL_LABEL_SUGGESTIONS, PHONE_LABEL_SUGGESTIONS } from '@/constants'

/** What the phone row below its input says about the number typed. */
export type PhoneCheck =
  | { state: 'checking' }
  | { state: 'ok'; info: PhoneLookup['number']; others: PhoneLookup['items'] }
  | { state: 'not-a-number' }

export interface PhoneRow {
  key: number
  number: string
  label: string
  primary: boolean
  /** The stored phone when this row is unchanged since loading (shows display + region). */
  saved: Phone | null
  /** The stored phone this row was loaded from; `saved` again when the number is typed back. */
  orig: Phone | null
  /**
   * The loaded number is masked (`138****8000`): sent back unchanged it keeps the stored
   * number; a changed one must be a complete number.
   */
  masked: boolean
  check: PhoneCheck | null
  checkedNumber: string
}

export interface EmailRow {
  key: number
  address: string
  label: string
}

export interface CustomerFormModel {
  code: string
  name: string
  gender: Gender
  company: string
  title: string
  phones: PhoneRow[]
  emails: EmailRow[]
  id_number: string
  credit_code: string
  province: string
  city: string
  district: string
  address: string
  source: string
  owner_id: number | null
  stage: Stage
  notes: string
  tags: string[]
  custom: Record<string, CustomValue>
}

/** Keys of plain optional text inputs, written as a string or null. */
const TEXT_KEYS = [
  'code',
  'company',
  'title',
  'id_number',
  'credit_code',
  'province',
  'city',
  'district',
  'address',
  'source',
  'notes',
] as const

let rowSeq = 0
const nextKey = () => ++rowSeq

function emptyPhone(primary = false): PhoneRow {
  return {
    key: nextKey(),
    number: '',
    label: PHONE_LABEL_SUGGESTIONS[0].value,
    primary,
    saved: null,
    orig: null,
    masked: false,
    check: null,
    checkedNumber: '',
  }
}

function emptyEmail(): EmailRow {
  return { key: nextKey(), address: '', label: EMAIL_LABEL_SUGGESTIONS[0].value }
}

function isEmptyValue(v: CustomValue | undefined): boolean {
  return v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0)
}

function modelFrom(c: Customer | null, fields: Field[], ownerId: number | null): CustomerFormModel {
  const custom: Record<string, CustomValue> = {}
  for (const f of fields) {
    const v = c?.custom[f.name]
    custom[f.name] = v === undefined ? (f.type === 'multiselect' ? [] : null) : v
  }
  if (!c) {
    return {
      code: '',
      name: '',
      gender: 'unknown',
      company: '',
      title: '',
      phones: [emptyPhone(true)],
      emails: [emptyEmail()],
      id_number: '',
      credit_code: '',
      province: '',
      city: '',
      district: '',
      address: '',
      source: '',
      owner_id: ownerId,
      stage: 'potential',
      notes: '',
      tags: [],
      custom,
    }
  }
  return {
    code: c.code ?? '',
    name: c.name,
    gender: c.gender,
    company: c.company ?? '',
    title: c.title ?? '',
    phones: c.phones.length
      ? c.phones.map((p) => ({
          key: nextKey(),
          number: p.number,
          label: p.label,
          primary: p.primary,
          saved: p,
          orig: p,
          masked: c.masked,
          check: null,
          checkedNumber: p.number,
        }))
      : [emptyPhone(true)],
    emails: c.emails.length ? c.emails.map((e) => ({ key: nextKey(), address: e.address, label: e.label })) : [emptyEmail()],
    id_number: c.id_number ?? '',
    credit_code: c.credit_code ?? '',
    province: c.province ?? '',
    city: c.city ?? '',
    district: c.district ?? '',
    address: c.address ?? '',
    source: c.source ?? '',
    owner_id: c.owner_id,
    stage: c.stage,
    notes: c.notes ?? '',
    tags: [...c.tags],
    custom,
  }
}

/** The body as the server would see it, plus which form row each list entry came from. */
interface Built {
  body: Required<Pick<CustomerWrite, 'name' | 'gender' | 'stage' | 'phones' | 'emails' | 'custom'>> &
    CustomerWrite
  phoneRows: number[]
  emailRows: number[]
}

function build(m: CustomerFormModel, fields: Field[]): Built {
  const phoneRows: number[] = []
  const phones: PhoneInput[] = []
  const filled = m.phones.filter((p) => p.number.trim() !== '')
  const hasPrimary = filled.some((p) => p.primary)
  m.phones.forEach((p) => {
    if (p.number.trim() === '') return
    phoneRows.push(p.key)
    phones.push({
      number: p.number.trim(),
      label: p.label.trim() || undefined,
      primary: hasPrimary ? p.primary : phones.length === 0,
    })
  })
  const emailRows: number[] = []
  const emails: EmailInput[] = []
  m.emails.forEach((e) => {
    if (e.address.trim() === '') return
    emailRows.push(e.key)
    emails.push({ address: e.address.trim(), label: e.label.trim() || undefined })
  })
  // Only defined fields are sent: a key without a definition is an unknown field to the
  // server (values of deleted fields are the server's to keep or drop).
  const custom: Record<string, CustomValue> = {}
  for (const f of fields) {
    const v = m.custom[f.name]
    if (!isEmptyValue(v)) custom[f.name] = typeof v === 'string' ? v.trim() : (v ?? null)
  }
  const body: Built['body'] = {
    name: m.name.trim(),
    gender: m.gender,
    stage: m.stage,
    owner_id: m.owner_id,
    phones,
    emails,
    custom,
    tags: m.tags.map((x) => x.trim()).filter((x) => x !== ''),
  }
  for (const k of TEXT_KEYS) {
    const v = m[k].trim()
    body[k] = v === '' ? null : v
  }
  return { body, phoneRows, emailRows }
}

/** Only what changed, for PATCH (lists and `custom` are sent whole when they changed). */
function diff(body: Built['body'], c: Customer, fields: Field[]): CustomerWrite {
  const out: CustomerWrite = {}
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null)
  const put = <K extends keyof CustomerWrite>(k: K) => {
    out[k] = body[k]
  }
  if (body.name !== c.name) put('name')
  if (body.gender !== c.gender) put('gender')
  if (body.stage !== c.stage) put('stage')
  if (!same(body.owner_id, c.owner_id)) put('owner_id')
  for (const k of TEXT_KEYS) {
    if (!same(body[k], c[k] === '' ? null : c[k])) put(k)
  }
  const oldPhones = c.phones.map((p) => ({ number: p.number, label: p.label || undefined, primary: p.primary }))
  if (!same(body.phones, oldPhones)) put('phones')
  const oldEmails = c.emails.map((e) => ({ address: e.address, label: e.label || undefined }))
  if (!same(body.emails, oldEmails)) put('emails')
  const sortKeys = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))
  const shown: Record<string, unknown> = {}
  for (const f of fields) {
    const v = c.custom?.[f.name]
    if (!isEmptyValue(v)) shown[f.name] = v
  }
  if (!same(sortKeys(body.custom), sortKeys(shown))) put('custom')
  if (!same(body.tags, c.tags)) put('tags')
  return out
}

/**
 * The create/edit customer page: the model, custom field inputs, phone checks, and the
 * mapping of the API's 422 `errors[]` onto the right inputs (`phones[0].number` → the
 * first phone row that was sent).
 */
export function useCustomerForm(id: Ref<number | undefined>) {
  const { t } = useI18n()
  const router = useRouter()
  const auth = useAuthStore()
  const fieldsStore = useFieldsStore()
  const users = useUsersStore()
  const { problemText, fieldErrorMap } = useErrors()

  const isEdit = computed(() => id.value !== undefined)
  const original = shallowRef<Customer | null>(null)
  const model = reactive<CustomerFormModel>(modelFrom(null, [], null))
  const loading = ref(false)
  const loadError = ref<unknown>(null)
  /** True once the customer and the field definitions are in: the form is shown only then. */
  const ready = ref(false)
  const saving = ref(false)
  /** Errors by input key: `name`, `custom.budget`, `phone:<rowKey>:number`, `email:<rowKey>:address`. */
  const errors = ref<Record<string, string>>({})
  /** Problems that belong to no visible input. */
  const generalErrors = ref<string[]>([])
  /** Other customers with the same number or email (the 409 of a save), until 仍然保存. */
  const duplicate = shallowRef<DuplicateWarning | null>(null)
  let duplicateBody = ''
  const fields = computed(() => fieldsStore.fields)

  let snapshot = ''
  let lastBody = ''
  let lastKey = ''
  let done = false

  function takeSnapshot(): void {
    snapshot = JSON.stringify(build(model, fields.value).body)
  }

  const isDirty = () => !done && JSON.stringify(build(model, fields.value).body) !== snapshot

  async function load(): Promise<void> {
    loading.value = true
    loadError.value = null
    try {
      const [c] = await Promise.all([
        id.value !== undefined ? getCustomer(id.value) : Promise.resolve(null),
        fieldsStore.load(),
        users.load().catch(() => {}),
      ])
      original.value = c
      Object.assign(model, modelFrom(c, fields.value, auth.user?.id ?? null))
      errors.value = {}
      generalErrors.value = []
      takeSnapshot()
      ready.value = true
    } catch (e) {
      loadError.value = e
    } finally {
      loading.value = false
    }
  }

  // --- phones and emails -------------------------------------------------------------

  function addPhone(): void {
    model.phones.push(emptyPhone(model.phones.every((p) => !p.primary)))
  }

  function removePhone(key: number): void {
    const i = model.phones.findIndex((p) => p.key === key)
    if (i < 0) return
    const wasPrimary = model.phones[i].primary
    model.phones.splice(i, 1)
    if (model.phones.length === 0) model.phones.push(emptyPhone(true))
    else if (wasPrimary) model.phones[0].primary = true
    clearErrorsWithPrefix(`phone:${key}:`)
  }

  function setPrimary(key: number): void {
    for (const p of model.phones) p.primary = p.key === key
  }

  function addEmail(): void {
    model.emails.push(emptyEmail())
  }

  function removeEmail(key: number): void {
    const i = model.emails.findIndex((e) => e.key === key)
    if (i < 0) return
    model.emails.splice(i, 1)
    if (model.emails.length === 0) model.emails.push(emptyEmail())
    clearErrorsWithPrefix(`email:${key}:`)
  }

  /** Asks the server how it reads the number (region, type, who else has it). */
  async function checkPhone(row: PhoneRow): Promise<void> {
    const n = row.number.trim()
    if (n === row.checkedNumber) return
    row.checkedNumber = n
    if (row.orig && n === row.orig.number) {
      row.saved = row.orig
      row.check = null
      return
    }
    row.saved = null
    if (!n) {
      row.check = null
      return
    }
    row.check = { state: 'checking' }
    try {
      const res = await lookupPhone(n)
      if (row.checkedNumber !== n) return
      row.check = {
        state: 'ok',
        info: res.number,
        others: res.items.filter((x) => x.id !== original.value?.id),
      }
    } catch (e) {
      if (row.checkedNumber !== n) return
      row.check = e instanceof ApiError && (e.status === 400 || e.status === 422) ? { state: 'not-a-number' } : null
    }
  }

  // --- errors --------------------------------------------------------------------------

  function clearError(key: string): void {
    if (key in errors.value) {
      const next = { ...errors.value }
      delete next[key]
      errors.value = next
    }
  }

  function clearErrorsWithPrefix(prefix: string): void {
    errors.value = Object.fromEntries(Object.entries(errors.value).filter(([k]) => !k.startsWith(prefix)))
  }

  const KNOWN_KEYS = new Set<string>(['name', 'gender', 'stage', 'owner_id', ...TEXT_KEYS])

  /** Turns API field paths into input keys; what fits no input becomes a general error. */
  function applyFieldErrors(err: ApiError, built: Built): void {
    const byPath = fieldErrorMap(err.fieldErrors)
    const out: Record<string, string> = {}
    const general: string[] = []
    for (const [path, text] of Object.entries(byPath)) {
      const list = /^(phones|emails)\[(\d+)\](?:\.(\w+))?$/.exec(path)
      if (list) {
        const [, which, idx, sub] = list
        const rows = which === 'phones' ? built.phoneRows : built.emailRows
        const rowKey = rows[Number(idx)]
        if (rowKey !== undefined) {
          const key =
            which === 'phones'
              ? `phone:${rowKey}:${sub === 'label' ? 'label' : 'number'}`
              : `email:${rowKey}:${sub === 'label' ? 'label' : 'address'}`
          if (!(key in out)) out[key] = text
          continue
        }
      }
      if (path === 'phones' || path === 'emails') {
        out[path] = text
        continue
      }
      const custom = /^custom\.(\w+)$/.exec(path)
      if (custom && fields.value.some((f) => f.name === custom[1])) {
        out[path] = text
        continue
      }
      if (KNOWN_KEYS.has(path)) {
        out[path] = text
        continue
      }
      general.push(`${path}: ${text}`)
    }
    errors.value = out
    generalErrors.value = general
  }

  // --- saving --------------------------------------------------------------------------

  /** Client-side checks that need no server: name and required custom fields. */
  function validateLocally(): boolean {
    const out: Record<string, string> = {}
    if (!model.name.trim()) out.name = t('form.nameRequired')
    for (const f of fields.value) {
      if (f.required && isEmptyValue(model.custom[f.name])) {
        out[`custom.${f.name}`] = t('form.fieldRequired', { label: f.label })
      }
    }
    errors.value = out
    generalErrors.value = []
    return Object.keys(out).length === 0
  }

  async function confirmReload(): Promise<void> {
    try {
      await ElMessageBox.confirm(t('form.staleMessage'), t('form.staleTitle'), {
        type: 'warning',
        confirmButtonText: t('form.staleReload'),
        cancelButtonText: t('form.staleKeep'),
      })
    } catch {
      return
    }
    await load()
  }

  /** Marks the phone and email rows another customer holds (from a duplicate warning). */
  function markDuplicateRows(w: DuplicateWarning, built: Built): void {
    const out: Record<string, string> = {}
    const taken = [...w.matches.flatMap((m) => m.matched), ...w.outOfScope]
    for (const path of taken) {
      const m = /^(phones|emails)\[(\d+)\]/.exec(path)
      if (!m) continue
      const rowKey = (m[1] === 'phones' ? built.phoneRows : built.emailRows)[Number(m[2])]
      if (rowKey === undefined) continue
      out[m[1] === 'phones' ? `phone:${rowKey}:number` : `email:${rowKey}:address`] = t('dedup.form.rowTaken')
    }
    errors.value = out
  }

  /**
   * Saves; `confirmDuplicate` after the user saw the duplicate warning (仍然保存). A 409 with
   * duplicates shows the warning instead of an error.
   */
  async function save(confirmDuplicate = false): Promise<void> {
    if (saving.value) return
    if (!validateLocally()) {
      ElMessage.error(t('form.fixErrors'))
      return
    }
    const built = build(model, fields.value)
    const bodyJson = JSON.stringify(built.body)
    // Confirming only counts for what the warning was about.
    const confirm = confirmDuplicate && duplicate.value !== null && bodyJson === duplicateBody
    saving.value = true
    try {
      let saved: Customer
      const c = original.value
      if (c) {
        const patch = diff(built.body, c, fields.value)
        saved = Object.keys(patch).length ? await updateCustomer(c.id, c.version, patch, confirm) : c
        ElMessage.success(t('form.saved'))
      } else {
        // The same body keeps its key, so a retried submit cannot create the customer twice;
        // a confirmed save is a new request (the refused one keeps its 409 under its key).
        if (bodyJson !== lastBody || confirm) {
          lastBody = bodyJson
          lastKey = newIdempotencyKey()
        }
        saved = await createCustomer(built.body, lastKey, confirm)
        ElMessage.success(t('form.created'))
      }
      done = true
      duplicate.value = null
      await router.replace({ name: 'customer', params: { id: saved.id } })
    } catch (e) {
      const dup = duplicateWarning(e)
      if (dup) {
        duplicate.value = dup
        duplicateBody = bodyJson
        generalErrors.value = []
        markDuplicateRows(dup, built)
        ElMessage.warning(t('dedup.form.toast'))
      } else if (e instanceof ApiError && e.status === 412) {
        await confirmReload()
      } else if (e instanceof ApiError && e.fieldErrors.length > 0) {
        applyFieldErrors(e, built)
        ElMessage.error(t('form.fixErrors'))
      } else {
        generalErrors.value = [problemText(e)]
        ElMessage.error(problemText(e))
      }
    } finally {
      saving.value = false
    }
  }

  /** 仍然保存: the same body again, confirming the duplicate. */
  function saveAnyway(): Promise<void> {
    return save(true)
  }

  /** 返回修改: hides the warning, keeps the marks on the rows. */
  function dismissDuplicate(): void {
    duplicate.value = null
  }

  function cancel(): void {
    if (original.value) void router.push({ name: 'customer', params: { id: original.value.id } })
    else void router.push({ name: 'customers' })
  }

  /** Marks the form as not to be guarded (after saving or when the user agreed to leave). */
  function release(): void {
    done = true
  }

  return {
    isEdit,
    original,
    model,
    fields,
    loading,
    loadError,
    ready,
    saving,
    errors,
    generalErrors,
    duplicate,
    load,
    save,
    saveAnyway,
    dismissDuplicate,
    cancel,
    addPhone,
    removePhone,
    setPrimary,
    addEmail,
    removeEmail,
    checkPhone,
    clearError,
    isDirty,
    release,
  }
}
