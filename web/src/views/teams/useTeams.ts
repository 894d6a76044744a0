import { computed, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { createTeam, deleteTeam, listTeams, updateTeam, type Team } from '@/api/teams'
import { ApiError } from '@/api/http'
import { useUsersStore } from '@/stores/users'
import { useErrors } from '@/composables/useErrors'
import { buildTeamTree, teamOptions, type TeamNode } from './teamTree'

interface TeamDraft {
  name: string
  parent_id: number | null
}

/**
 * The teams page: the tree, one dialog to add a team (at the top or under another) or to
 * rename and move one, and deleting (409 while it has members or sub-teams).
 */
export function useTeams() {
  const { t } = useI18n()
  const users = useUsersStore()
  const { fieldErrorMap, problemText, toastError } = useErrors()

  const teams = shallowRef<Team[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)

  const dialogOpen = ref(false)
  /** The team being renamed or moved; null while adding one. */
  const editing = shallowRef<TeamNode | null>(null)
  const draft = reactive<TeamDraft>({ name: '', parent_id: null })
  const errors = ref<Record<string, string>>({})
  const dialogError = ref('')
  const saving = ref(false)
  const deleting = ref<number | null>(null)

  const tree = computed(() => buildTeamTree(teams.value))
  /** Where the team in the dialog may go: not under itself or its own sub-teams. */
  const parentChoices = computed(() => teamOptions(tree.value, editing.value?.id))

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [res] = await Promise.all([listTeams(), users.load(true).catch(() => {})])
      teams.value = res.items
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  /** Members' names, for the tree. */
  function memberNames(teamId: number): string[] {
    return users.users.filter((u) => u.team_id === teamId).map((u) => u.display_name || u.username)
  }

  function open(team: TeamNode | null, parentId: number | null): void {
    editing.value = team
    draft.name = team?.name ?? ''
    draft.parent_id = team ? team.parent_id : parentId
    errors.value = {}
    dialogError.value = ''
    dialogOpen.value = true
  }

  const openCreate = (parentId: number | null = null) => open(null, parentId)
  const openEdit = (team: TeamNode) => open(team, null)

  async function submit(): Promise<void> {
    if (saving.value) return
    dialogError.value = ''
    const name = draft.name.trim()
    if (!name) {
      errors.value = { name: t('teams.nameRequired') }
      return
    }
    errors.value = {}
    saving.value = true
    try {
      const body = { name, parent_id: draft.parent_id }
      if (editing.value) {
        await updateTeam(editing.value.id, body)
        ElMessage.success(t('teams.saved'))
      } else {
        await createTeam(body)
        ElMessage.success(t('teams.created'))
      }
      dialogOpen.value = false
      await load()
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        const map = fieldErrorMap(e.fieldErrors)
        const { name: nameError, parent_id: parentError, ...rest } = map
        errors.value = { name: nameError ?? '', parent_id: parentError ?? '' }
        const other = Object.entries(rest).map(([k, v]) => (k ? `${k}: ${v}` : v))
        dialogError.value = other.join('; ')
      } else {
        dialogError.value = problemText(e)
      }
    } finally {
      saving.value = false
    }
  }

  async function remove(team: TeamNode): Promise<void> {
    try {
      await ElMessageBox.confirm(t('teams.deleteConfirm', { name: team.name }), t('common.delete'), {
        type: 'warning',
        confirmButtonText: t('common.delete'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    deleting.value = team.id
    try {
      await deleteTeam(team.id)
      ElMessage.success(t('teams.deleted'))
      await load()
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        ElMessage.error({ message: t('teams.deleteBlocked'), grouping: true, showClose: true })
      } else {
        toastError(e)
      }
    } finally {
      deleting.value = null
    }
  }

  function clearError(key: string): void {
    if (errors.value[key]) errors.value = { ...errors.value, [key]: '' }
  }

  return {
    tree,
    parentChoices,
    loading,
    loaded,
    error,
    dialogOpen,
    editing,
    draft,
    errors,
    dialogError,
    saving,
    deleting,
    load,
    memberNames,
    openCreate,
    openEdit,
    submit,
    remove,
    clearError,
  }
}
