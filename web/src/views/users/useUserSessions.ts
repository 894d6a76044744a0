import { ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'
import { ElMessage, ElMessageBox } from 'element-plus'
import { listUserDevices, listUserSessions, revokeUserSessions, type User } from '@/api/users'
import type { LoginDevice, LoginSession } from '@/api/auth'
import { useAuthStore } from '@/stores/auth'
import { useUsersStore } from '@/stores/users'
import { useFieldsStore } from '@/stores/fields'
import { useErrors } from '@/composables/useErrors'
import { sortDevices, sortSessions } from '@/views/security/useSecurity'

/**
 * The 登录会话 dialog of the users page (user.admin): where a user is logged in now, the
 * devices they logged in from, and 全部下线 (DELETE /users/{id}/sessions).
 */
export function useUserSessions() {
  const { t } = useI18n()
  const router = useRouter()
  const auth = useAuthStore()
  const usersStore = useUsersStore()
  const fieldsStore = useFieldsStore()
  const { toastError } = useErrors()

  const open = ref(false)
  const user = shallowRef<User | null>(null)
  const sessions = shallowRef<LoginSession[]>([])
  const devices = shallowRef<LoginDevice[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const revoking = ref(false)

  async function load(): Promise<void> {
    const u = user.value
    if (!u) return
    loading.value = true
    error.value = null
    try {
      const [s, d] = await Promise.all([listUserSessions(u.id), listUserDevices(u.id)])
      if (user.value?.id !== u.id) return // another user's dialog meanwhile
      sessions.value = sortSessions(s.items)
      devices.value = sortDevices(d.items)
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function show(u: User): void {
    user.value = u
    sessions.value = []
    devices.value = []
    loaded.value = false
    open.value = true
    void load()
  }

  async function revokeAll(): Promise<void> {
    const u = user.value
    if (!u || revoking.value) return
    const self = u.id === auth.user?.id
    const name = u.display_name || u.username
    const text = t('users.revokeAllConfirm', { name }) + (self ? ` ${t('users.revokeAllSelf')}` : '')
    try {
      await ElMessageBox.confirm(text, t('users.revokeAllTitle'), {
        type: 'warning',
        confirmButtonText: t('users.revokeAll'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    revoking.value = true
    try {
      const { revoked } = await revokeUserSessions(u.id)
      ElMessage.success(t('users.revokedAll', { count: revoked }))
      // Your own sessions ended too, this one included: on to the login page.
      if (self) {
        open.value = false
        auth.clear()
        usersStore.reset()
        fieldsStore.reset()
        await router.replace({ name: 'login' })
        return
      }
      await load()
    } catch (e) {
      toastError(e)
    } finally {
      revoking.value = false
    }
  }

  return { open, user, sessions, devices, loading, loaded, error, revoking, show, load, revokeAll }
}
