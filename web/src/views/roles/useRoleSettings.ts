import { reactive, ref, shallowRef, type ShallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { updateRole, type Role, type RoleUpdate } from '@/api/roles'
import { listSessions } from '@/api/auth'
import { ApiError } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useErrors } from '@/composables/useErrors'
import { normaliseFieldPath } from '@/utils/errors'

export interface RoleSettingsDraft {
  name: string
  /** The allow-list as typed: one entry per line (commas and spaces separate too). */
  ipText: string
}

/** One rejected allow-list entry, for the list under the text area. */
export interface IpEntryError {
  entry: string
  text: string
}

/** Entries of the text area, in order, without blanks. */
export function parseIpList(text: string): string[] {
  return text
    .split(/[\s,;，；、]+/)
    .map((x) => x.trim())
    .filter((x) => x !== '')
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i])

const IP_ENTRY = /^ip_allow\[(\d+)\]$/

/**
 * The 名称和登录地址 dialog of the roles page: renames a role and edits its IP allow-list
 * (PATCH with If-Match; per-entry 422 errors under the text area; 412 offers a reload).
 * Unsaved matrix edits of the role are kept: they are saved later against the new version.
 */
export function useRoleSettings(roles: ShallowRef<Role[]>, reload: () => Promise<void>, roleName: (r: Role) => string) {
  const { t } = useI18n()
  const auth = useAuthStore()
  const { fieldErrorMap, fieldErrorText, problemText } = useErrors()

  const open = ref(false)
  const role = shallowRef<Role | null>(null)
  const draft = reactive<RoleSettingsDraft>({ name: '', ipText: '' })
  const errors = ref<{ name?: string; ip_allow?: string }>({})
  const entryErrors = ref<IpEntryError[]>([])
  const formError = ref('')
  const stale = ref(false)
  const saving = ref(false)

  function fill(r: Role): void {
    role.value = r
    draft.name = r.name
    draft.ipText = (r.ip_allow ?? []).join('\n')
    errors.value = {}
    entryErrors.value = []
    formError.value = ''
    stale.value = false
  }

  function show(r: Role): void {
    fill(r)
    open.value = true
  }

  /** Where the current session comes from, for the warning about locking yourself out. */
  async function currentIp(): Promise<string> {
    try {
      const s = await listSessions()
      return s.items.find((x) => x.current)?.ip || t('roles.unknownIp')
    } catch {
      return t('roles.unknownIp')
    }
  }

  async function confirmOwnRole(entries: string[]): Promise<boolean> {
    if (!entries.length || auth.user?.role !== role.value?.key) return true
    const ip = await currentIp()
    try {
      await ElMessageBox.confirm(t('roles.ipSelfWarning', { ip }), t('roles.ipSelfWarningTitle'), {
        type: 'warning',
        confirmButtonText: t('common.save'),
        cancelButtonText: t('common.cancel'),
      })
      return true
    } catch {
      return false
    }
  }

  function showErrors(e: unknown, entries: string[]): void {
    if (!(e instanceof ApiError) || !e.fieldErrors.length) {
      formError.value = problemText(e)
      return
    }
    const perEntry: IpEntryError[] = []
    const rest: string[] = []
    for (const fe of e.fieldErrors) {
      const path = normaliseFieldPath(fe.field)
      const m = IP_ENTRY.exec(path)
      if (m) {
        perEntry.push({ entry: entries[Number(m[1])] ?? path, text: fieldErrorText(fe) })
      }
    }
    const map = fieldErrorMap(e.fieldErrors)
    const out: { name?: string; ip_allow?: string } = {}
    for (const [k, v] of Object.entries(map)) {
      if (IP_ENTRY.test(k)) continue
      if (k === 'name' || k === 'ip_allow') out[k] = v
      else rest.push(k ? `${k}: ${v}` : v)
    }
    errors.value = out
    entryErrors.value = perEntry
    formError.value = rest.join('; ')
  }

  async function save(): Promise<void> {
    const r = role.value
    if (!r || saving.value) return
    formError.value = ''
    errors.value = {}
    entryErrors.value = []
    const name = draft.name.trim()
    if (!name) {
      errors.value = { name: t('roles.nameRequired') }
      return
    }
    const entries = parseIpList(draft.ipText)
    const patch: RoleUpdate = {}
    if (name !== r.name) patch.name = name
    if (!sameList(entries, r.ip_allow ?? [])) patch.ip_allow = entries
    if (Object.keys(patch).length === 0) {
      open.value = false
      ElMessage.info(t('roles.noChanges'))
      return
    }
    if (patch.ip_allow && !(await confirmOwnRole(entries))) return
    saving.value = true
    try {
      const saved = await updateRole(r.id, r.version, patch)
      roles.value = roles.value.map((x) => (x.id === saved.id ? saved : x))
      open.value = false
      ElMessage.success(t('roles.saved', { name: roleName(saved) }))
      if (auth.user?.role === saved.key) void auth.fetchMe().catch(() => {})
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        stale.value = true
        formError.value = t('roles.stale', { name: roleName(r) })
      } else {
        showErrors(e, entries)
      }
    } finally {
      saving.value = false
    }
  }

  /** After a 412: the role as it is now, with the text typed so far thrown away. */
  async function reloadRole(): Promise<void> {
    const id = role.value?.id
    await reload()
    const fresh = roles.value.find((x) => x.id === id)
    if (fresh) fill(fresh)
    else open.value = false
  }

  function clearError(key: 'name' | 'ip_allow'): void {
    if (errors.value[key]) errors.value = { ...errors.value, [key]: '' }
    if (key === 'ip_allow') entryErrors.value = []
  }

  return { open, role, draft, errors, entryErrors, formError, stale, saving, show, save, reloadRole, clearError }
}
