import { computed, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { createUser, updateUser, type User, type UserUpdate } from '@/api/users'
import { listRoles, type Role } from '@/api/roles'
import { listTeams, type Team } from '@/api/teams'
import { ApiError } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useUsersStore } from '@/stores/users'
import { useErrors } from '@/composables/useErrors'
import { useLabels } from '@/composables/useLabels'
import { buildTeamTree, teamOptions } from '@/views/teams/teamTree'

export interface UserDraft {
  username: string
  display_name: string
  /** On create the password; on edit a new one, or '' to keep it. */
  password: string
  role: string
  team_id: number | null
  active: boolean
}

/** Inputs of the dialog; an API error on another field is shown above the form. */
const DIALOG_FIELDS = new Set(['username', 'display_name', 'password', 'role', 'team_id', 'active'])

/** The server's default role for new users. */
const DEFAULT_ROLE = 'sales'

function emptyDraft(): UserDraft {
  return { username: '', display_name: '', password: '', role: DEFAULT_ROLE, team_id: null, active: true }
}

/**
 * The users page (user.admin): the list with role and team names, the add dialog and the
 * edit dialog (PATCH with If-Match; 412 offers to reload; 422 errors go to their inputs).
 */
export function useUserAdmin() {
  const { t } = useI18n()
  const auth = useAuthStore()
  const store = useUsersStore()
  const labels = useLabels()
  const { fieldErrorMap, problemText } = useErrors()

  const roles = shallowRef<Role[]>([])
  const teams = shallowRef<Team[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)

  const dialogOpen = ref(false)
  /** The user being edited; null while adding one. */
  const editing = shallowRef<User | null>(null)
  const draft = reactive<UserDraft>(emptyDraft())
  const errors = ref<Record<string, string>>({})
  const dialogError = ref('')
  /** The edited user changed on the server since the dialog opened (412). */
  const stale = ref(false)
  const saving = ref(false)

  const users = computed(() => [...store.users].sort((a, b) => a.id - b.id))
  const teamTree = computed(() => buildTeamTree(teams.value))
  const teamChoices = computed(() => teamOptions(teamTree.value))

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [, r, tm] = await Promise.all([store.load(true), listRoles(), listTeams()])
      roles.value = r.items
      teams.value = tm.items
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function roleName(key: string): string {
    return labels.role(key, roles.value.find((r) => r.key === key)?.name)
  }

  function teamName(id: number | null): string {
    if (id === null) return ''
    return teamChoices.value.find((o) => o.id === id)?.path ?? `#${id}`
  }

  function isSelf(u: User): boolean {
    return u.id === auth.user?.id
  }

  function fill(u: User | null): void {
    Object.assign(
      draft,
      u
        ? { username: u.username, display_name: u.display_name, password: '', role: u.role, team_id: u.team_id, active: u.active }
        : emptyDraft(),
    )
  }

  function reset(): void {
    errors.value = {}
    dialogError.value = ''
    stale.value = false
  }

  function openCreate(): void {
    editing.value = null
    fill(null)
    reset()
    dialogOpen.value = true
  }

  function openEdit(u: User): void {
    editing.value = u
    fill(u)
    reset()
    dialogOpen.value = true
  }

  function validate(): boolean {
    const out: Record<string, string> = {}
    if (!editing.value) {
      if (!draft.username.trim()) out.username = t('users.usernameRequired')
      if (!draft.password) out.password = t('users.passwordRequired')
    }
    errors.value = out
    return Object.keys(out).length === 0
  }

  /** What the edit dialog changed, for PATCH. */
  function changes(u: User): UserUpdate {
    const patch: UserUpdate = {}
    const name = draft.display_name.trim()
    if (name !== u.display_name) patch.display_name = name
    if (draft.role !== u.role) patch.role = draft.role
    if (draft.team_id !== u.team_id) patch.team_id = draft.team_id
    if (draft.active !== u.active) patch.active = draft.active
    if (draft.password) patch.password = draft.password
    return patch
  }

  function showErrors(e: unknown): void {
    if (e instanceof ApiError && e.fieldErrors.length) {
      const map = fieldErrorMap(e.fieldErrors)
      const inputs: Record<string, string> = {}
      const rest: string[] = []
      for (const [k, v] of Object.entries(map)) {
        if (DIALOG_FIELDS.has(k)) inputs[k] = v
        else rest.push(k ? `${k}: ${v}` : v)
      }
      errors.value = inputs
      dialogError.value = rest.join('; ')
    } else {
      dialogError.value = problemText(e)
    }
  }

  async function submit(): Promise<void> {
    if (saving.value) return
    dialogError.value = ''
    if (!validate()) return
    const u = editing.value
    saving.value = true
    try {
      if (u) {
        const patch = changes(u)
        if (Object.keys(patch).length === 0) {
          dialogOpen.value = false
          ElMessage.info(t('users.noChanges'))
          return
        }
        await updateUser(u.id, u.version, patch)
        ElMessage.success(t('users.saved'))
        // Your own name or role may have changed: the header and menu follow.
        if (isSelf(u)) void auth.fetchMe().catch(() => {})
      } else {
        await createUser({
          username: draft.username.trim(),
          password: draft.password,
          display_name: draft.display_name.trim() || undefined,
          role: draft.role,
          team_id: draft.team_id,
        })
        ElMessage.success(t('users.created'))
      }
      dialogOpen.value = false
      await load()
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        stale.value = true
        dialogError.value = t('users.stale')
      } else {
        showErrors(e)
      }
    } finally {
      saving.value = false
    }
  }

  /** After a 412: fetch the current user and start the edit again from it. */
  async function reloadEditing(): Promise<void> {
    const id = editing.value?.id
    await load()
    const fresh = store.users.find((x) => x.id === id) ?? null
    if (!fresh) {
      dialogOpen.value = false
      return
    }
    editing.value = fresh
    fill(fresh)
    reset()
  }

  function clearError(key: string): void {
    if (errors.value[key]) errors.value = { ...errors.value, [key]: '' }
  }

  return {
    users,
    roles,
    teamChoices,
    loading,
    loaded,
    error,
    dialogOpen,
    editing,
    draft,
    errors,
    dialogError,
    stale,
    saving,
    load,
    roleName,
    teamName,
    isSelf,
    openCreate,
    openEdit,
    submit,
    reloadEditing,
    clearError,
  }
}
