import { reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import {
  changePassword,
  listDevices,
  listSessions,
  revokeSession,
  type LoginDevice,
  type LoginSession,
} from '@/api/auth'
import { ApiError } from '@/api/http'
import { useErrors } from '@/composables/useErrors'
import { retryAfterSeconds } from '@/utils/errors'
import { agentText } from '@/utils/userAgent'

export interface PasswordForm {
  current: string
  next: string
  repeat: string
}

/** Inputs of the password form, by the API's field names (plus `repeat`, checked here). */
type PasswordField = 'current_password' | 'new_password' | 'repeat'
const PASSWORD_FIELDS: readonly string[] = ['current_password', 'new_password', 'repeat']

/** Newest activity first, the current session on top. */
export function sortSessions(items: LoginSession[]): LoginSession[] {
  return [...items].sort(
    (a, b) => Number(b.current) - Number(a.current) || b.last_seen_at.localeCompare(a.last_seen_at),
  )
}

export function sortDevices(items: LoginDevice[]): LoginDevice[] {
  return [...items].sort((a, b) => b.last_seen_at.localeCompare(a.last_seen_at))
}

/**
 * The security page of the logged-in user: changing the password (POST /auth/password,
 * which ends the other sessions), the sessions with 下线 for the others, and the devices the
 * user logged in from.
 */
export function useSecurity() {
  const { t } = useI18n()
  const { fieldErrorMap, problemText, waitText, toastError } = useErrors()

  const form = reactive<PasswordForm>({ current: '', next: '', repeat: '' })
  const errors = ref<Partial<Record<PasswordField, string>>>({})
  /** Why the change failed when no input is to blame (throttled, network …). */
  const formError = ref('')
  const changing = ref(false)

  const sessions = shallowRef<LoginSession[]>([])
  const devices = shallowRef<LoginDevice[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const revoking = ref<string | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [s, d] = await Promise.all([listSessions(), listDevices()])
      sessions.value = sortSessions(s.items)
      devices.value = sortDevices(d.items)
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function validate(): boolean {
    const out: Partial<Record<PasswordField, string>> = {}
    if (!form.current) out.current_password = t('security.currentRequired')
    if (!form.next) out.new_password = t('security.newRequired')
    if (!form.repeat) out.repeat = t('security.repeatRequired')
    else if (form.next && form.repeat !== form.next) out.repeat = t('security.repeatMismatch')
    errors.value = out
    return Object.keys(out).length === 0
  }

  async function submitPassword(): Promise<void> {
    if (changing.value) return
    formError.value = ''
    if (!validate()) return
    changing.value = true
    try {
      await changePassword({ current_password: form.current, new_password: form.next })
      Object.assign(form, { current: '', next: '', repeat: '' })
      errors.value = {}
      ElMessage.success({ message: t('security.passwordChanged'), duration: 5000 })
      void load() // the other sessions have ended
    } catch (e) {
      if (e instanceof ApiError && e.status === 429) {
        const s = retryAfterSeconds(e)
        formError.value = s ? t('security.throttled', { wait: waitText(s) }) : problemText(e)
      } else if (e instanceof ApiError && e.fieldErrors.length) {
        const map = fieldErrorMap(e.fieldErrors)
        const inputs: Partial<Record<PasswordField, string>> = {}
        const rest: string[] = []
        for (const [k, v] of Object.entries(map)) {
          if (PASSWORD_FIELDS.includes(k)) inputs[k as PasswordField] = v
          else rest.push(k ? `${k}: ${v}` : v)
        }
        errors.value = inputs
        formError.value = rest.join('; ')
        if (inputs.current_password) form.current = ''
      } else {
        formError.value = problemText(e)
      }
    } finally {
      changing.value = false
    }
  }

  function clearError(key: PasswordField): void {
    if (errors.value[key]) errors.value = { ...errors.value, [key]: '' }
  }

  async function revoke(s: LoginSession): Promise<void> {
    try {
      await ElMessageBox.confirm(
        t('security.revokeConfirm', { device: agentText(s.user_agent, t), ip: s.ip || t('common.none') }),
        t('security.revokeTitle'),
        {
          type: 'warning',
          confirmButtonText: t('security.revoke'),
          cancelButtonText: t('common.cancel'),
          confirmButtonClass: 'el-button--danger',
        },
      )
    } catch {
      return
    }
    revoking.value = s.id
    try {
      await revokeSession(s.id)
      ElMessage.success(t('security.revoked'))
    } catch (e) {
      // Already gone (expired, logged out): the list below is refreshed either way.
      if (!(e instanceof ApiError && e.status === 404)) toastError(e)
    } finally {
      revoking.value = null
    }
    await load()
  }

  return {
    form,
    errors,
    formError,
    changing,
    sessions,
    devices,
    loading,
    loaded,
    error,
    revoking,
    load,
    submitPassword,
    clearError,
    revoke,
  }
}
