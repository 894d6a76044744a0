import { computed, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import {
  createRole,
  deleteRole,
  listPermissions,
  listRoles,
  updateRole,
  type Role,
  type RoleUpdate,
} from '@/api/roles'
import { PERMISSIONS, type Scope } from '@/api/auth'
import { ApiError } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useErrors } from '@/composables/useErrors'
import { useLabels } from '@/composables/useLabels'

/** What the matrix edits of one role until it is saved. */
export interface RoleDraft {
  permissions: string[]
  scope: Scope
  reveal_quota: number
  mfa_required: boolean
}

interface NewRole {
  key: string
  name: string
  /** Id of the role whose permissions, scope and quota the new one starts with. */
  copyFrom: number | null
}

/** The admin role keeps these whatever the matrix says (the server answers 422 `locked`). */
const ADMIN_KEY = 'admin'
const ADMIN_LOCKED_PERMISSION = 'user.admin'
const KEY_PATTERN = /^[a-z][a-z0-9_]{1,31}$/

function draftOf(r: Role): RoleDraft {
  return {
    permissions: [...r.permissions],
    scope: r.scope,
    reveal_quota: r.reveal_quota,
    mfa_required: r.mfa_required === true,
  }
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x) => b.includes(x))

/**
 * The roles page (user.admin): a matrix of permissions × roles, scope and daily reveal
 * quota per role, saved one role at a time (PATCH with If-Match; 412 offers a reload), an
 * add dialog, and deleting roles that are not built in and that nobody holds.
 */
export function useRoles() {
  const { t } = useI18n()
  const auth = useAuthStore()
  const labels = useLabels()
  const { fieldErrorMap, fieldErrorText, problemText, toastError } = useErrors()

  const roles = shallowRef<Role[]>([])
  const permissions = shallowRef<string[]>([...PERMISSIONS])
  const drafts = reactive<Record<number, RoleDraft>>({})
  /** Per role: why the last save failed. */
  const roleErrors = reactive<Record<number, string>>({})
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const saving = ref<number | null>(null)
  const deleting = ref<number | null>(null)
  /** The role shown on a phone, where the matrix becomes one role at a time. */
  const selectedId = ref<number | null>(null)

  const dialogOpen = ref(false)
  const newRole = reactive<NewRole>({ key: '', name: '', copyFrom: null })
  const newErrors = ref<Record<string, string>>({})
  const dialogError = ref('')
  const creating = ref(false)

  const selected = computed(() => roles.value.find((r) => r.id === selectedId.value) ?? roles.value[0] ?? null)

  function isDirty(r: Role): boolean {
    const d = drafts[r.id]
    if (!d) return false
    return (
      !sameSet(d.permissions, r.permissions) ||
      d.scope !== r.scope ||
      d.reveal_quota !== r.reveal_quota ||
      d.mfa_required !== (r.mfa_required === true)
    )
  }

  const anyDirty = computed(() => roles.value.some((r) => isDirty(r)))

  /** Loads roles and permission names; unsaved edits of other roles are kept unless `discard`. */
  async function load(discard = false): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [r, p] = await Promise.all([listRoles(), listPermissions().catch(() => null)])
      const kept = new Set(discard ? [] : roles.value.filter((x) => isDirty(x)).map((x) => x.id))
      roles.value = r.items
      if (p) {
        // Known permissions in their usual order, then any the UI does not know yet.
        const known = PERMISSIONS.filter((x) => p.items.includes(x))
        permissions.value = [...known, ...p.items.filter((x) => !(PERMISSIONS as readonly string[]).includes(x))]
      }
      for (const id of Object.keys(drafts)) {
        if (!r.items.some((x) => x.id === Number(id))) delete drafts[Number(id)]
      }
      for (const role of r.items) {
        if (!kept.has(role.id)) {
          drafts[role.id] = draftOf(role)
          delete roleErrors[role.id]
        }
      }
      if (selectedId.value === null || !r.items.some((x) => x.id === selectedId.value)) {
        selectedId.value = r.items[0]?.id ?? null
      }
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function has(r: Role, perm: string): boolean {
    return drafts[r.id]?.permissions.includes(perm) ?? false
  }

  function isLocked(r: Role, perm: string): boolean {
    return r.key === ADMIN_KEY && perm === ADMIN_LOCKED_PERMISSION
  }

  function scopeLocked(r: Role): boolean {
    return r.key === ADMIN_KEY
  }

  function toggle(r: Role, perm: string, on: boolean): void {
    const d = drafts[r.id]
    if (!d || isLocked(r, perm)) return
    const rest = d.permissions.filter((x) => x !== perm)
    // Kept in the order of the matrix, so the saved list reads like the page.
    d.permissions = on ? permissions.value.filter((x) => x === perm || rest.includes(x)) : rest
    delete roleErrors[r.id]
  }

  function discard(r: Role): void {
    drafts[r.id] = draftOf(r)
    delete roleErrors[r.id]
  }

  function roleName(r: Role): string {
    return labels.role(r.key, r.name)
  }

  async function confirmReload(r: Role): Promise<void> {
    try {
      await ElMessageBox.confirm(t('roles.stale', { name: roleName(r) }), t('form.staleTitle'), {
        type: 'warning',
        confirmButtonText: t('common.reload'),
        cancelButtonText: t('common.cancel'),
      })
    } catch {
      return
    }
    drafts[r.id] = draftOf(r) // forget this role's edits, keep the others'
    await load()
    const fresh = roles.value.find((x) => x.id === r.id)
    if (fresh) discard(fresh)
  }

  async function save(r: Role): Promise<void> {
    const d = drafts[r.id]
    if (!d || saving.value !== null) return
    const patch: RoleUpdate = {}
    if (!sameSet(d.permissions, r.permissions)) patch.permissions = [...d.permissions]
    if (d.scope !== r.scope) patch.scope = d.scope
    if (d.reveal_quota !== r.reveal_quota) patch.reveal_quota = d.reveal_quota
    if (d.mfa_required !== (r.mfa_required === true)) patch.mfa_required = d.mfa_required
    if (Object.keys(patch).length === 0) return
    if (patch.mfa_required && auth.user?.role === r.key && !auth.user.mfa_enabled) {
      // Saving sends the admin to set up two-step verification before anything else.
      try {
        await ElMessageBox.confirm(t('roles.mfaSelfWarning'), t('roles.mfaRequired'), {
          type: 'warning',
          confirmButtonText: t('common.save'),
          cancelButtonText: t('common.cancel'),
        })
      } catch {
        return
      }
    }
    saving.value = r.id
    delete roleErrors[r.id]
    try {
      const saved = await updateRole(r.id, r.version, patch)
      roles.value = roles.value.map((x) => (x.id === saved.id ? saved : x))
      drafts[saved.id] = draftOf(saved)
      ElMessage.success(t('roles.saved', { name: roleName(saved) }))
      // Your own role changed: the menu and buttons follow.
      if (auth.user?.role === saved.key) void auth.fetchMe().catch(() => {})
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        await confirmReload(r)
      } else {
        const text =
          e instanceof ApiError && e.fieldErrors.length
            ? e.fieldErrors.map((fe) => fieldErrorText(fe)).join('; ')
            : problemText(e)
        roleErrors[r.id] = text
        ElMessage.error({ message: text, grouping: true, showClose: true })
      }
    } finally {
      saving.value = null
    }
  }

  async function remove(r: Role): Promise<void> {
    try {
      await ElMessageBox.confirm(t('roles.deleteConfirm', { name: roleName(r) }), t('common.delete'), {
        type: 'warning',
        confirmButtonText: t('common.delete'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    deleting.value = r.id
    try {
      await deleteRole(r.id)
      ElMessage.success(t('roles.deleted'))
      await load()
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        ElMessage.error({ message: t('roles.deleteBlocked'), grouping: true, showClose: true })
      } else {
        toastError(e)
      }
    } finally {
      deleting.value = null
    }
  }

  // --- adding a role -------------------------------------------------------------------

  function openCreate(): void {
    Object.assign(newRole, { key: '', name: '', copyFrom: null })
    newErrors.value = {}
    dialogError.value = ''
    dialogOpen.value = true
  }

  async function create(): Promise<void> {
    if (creating.value) return
    dialogError.value = ''
    const key = newRole.key.trim()
    const name = newRole.name.trim()
    const out: Record<string, string> = {}
    if (!key) out.key = t('roles.keyRequired')
    else if (!KEY_PATTERN.test(key)) out.key = t('errors.code.invalid_format')
    if (!name) out.name = t('roles.nameRequired')
    newErrors.value = out
    if (Object.keys(out).length) return
    const from = roles.value.find((r) => r.id === newRole.copyFrom)
    creating.value = true
    try {
      const role = await createRole({
        key,
        name,
        permissions: from ? [...from.permissions] : ['customer.read'],
        scope: from ? from.scope : 'own',
        reveal_quota: from ? from.reveal_quota : 0,
      })
      dialogOpen.value = false
      ElMessage.success(t('roles.created'))
      await load()
      selectedId.value = role.id
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        const { key: keyError, name: nameError, ...rest } = fieldErrorMap(e.fieldErrors)
        newErrors.value = { key: keyError ?? '', name: nameError ?? '' }
        dialogError.value = Object.entries(rest)
          .map(([k, v]) => (k ? `${k}: ${v}` : v))
          .join('; ')
      } else {
        dialogError.value = problemText(e)
      }
    } finally {
      creating.value = false
    }
  }

  function clearNewError(key: string): void {
    if (newErrors.value[key]) newErrors.value = { ...newErrors.value, [key]: '' }
  }

  return {
    roles,
    permissions,
    drafts,
    roleErrors,
    loading,
    loaded,
    error,
    saving,
    deleting,
    selectedId,
    selected,
    anyDirty,
    dialogOpen,
    newRole,
    newErrors,
    dialogError,
    creating,
    load,
    has,
    isLocked,
    scopeLocked,
    isDirty,
    toggle,
    discard,
    roleName,
    save,
    remove,
    openCreate,
    create,
    clearNewError,
  }
}
