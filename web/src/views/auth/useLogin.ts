import { computed, h, onBeforeUnmount, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter } from 'vue-router'
import { ElNotification } from 'element-plus'
import { useAuthStore } from '@/stores/auth'
import { ApiError } from '@/api/http'
import { useErrors } from '@/composables/useErrors'
import { retryAfterSeconds } from '@/utils/errors'

/** The address in the server's 403 detail ("… from this address (10.1.2.3); …"). */
const REFUSED_IP = /\(([0-9a-fA-F.:]+)\)/

/**
 * The login page: signs in, then goes where the user was heading. Failed logins are told
 * apart: wrong name or password (401), too many failures (429, with a countdown from
 * Retry-After), an address the role does not allow (403). A login from a new device is
 * followed by a notice that leads to the security page. For a user with two-step
 * verification the password step is followed by the code step (POST /auth/login/mfa): a
 * 6-digit code from the app, or a recovery code.
 */
export function useLogin() {
  const { t } = useI18n()
  const route = useRoute()
  const router = useRouter()
  const auth = useAuthStore()
  const { problemText, waitText } = useErrors()

  const form = reactive({ username: '', password: '' })
  const submitting = ref(false)
  /** Which step the page shows: the password, or the second factor. */
  const step = ref<'password' | 'code'>('password')
  const mfaToken = ref('')
  const code = ref('')
  /** The code step asks for a recovery code instead of the app's 6 digits. */
  const useRecovery = ref(false)
  /** Why the last attempt failed (other than throttling). */
  const failure = ref('')
  const expired = ref(route.query.expired === '1')

  /** Throttled until this instant (ms); 0 when not throttled. */
  const lockedUntil = ref(0)
  const now = ref(Date.now())
  let timer: ReturnType<typeof setInterval> | undefined

  const secondsLeft = computed(() => Math.max(0, Math.ceil((lockedUntil.value - now.value) / 1000)))

  /** What the alert above the form says. */
  const error = computed(() => {
    if (lockedUntil.value) {
      return secondsLeft.value > 0
        ? t('login.throttled', { wait: waitText(secondsLeft.value) })
        : t('login.throttleOver')
    }
    return failure.value
  })
  /** Element Plus alert type: waiting is a warning, "you may try again" a hint, the rest errors. */
  const alertType = computed<'warning' | 'info' | 'error'>(() =>
    lockedUntil.value ? (secondsLeft.value > 0 ? 'warning' : 'info') : 'error',
  )

  function stopTimer(): void {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }

  function startCountdown(seconds: number): void {
    stopTimer()
    now.value = Date.now()
    lockedUntil.value = now.value + seconds * 1000
    timer = setInterval(() => {
      now.value = Date.now()
      if (now.value >= lockedUntil.value) stopTimer()
    }, 1000)
  }

  onBeforeUnmount(stopTimer)

  function safeRedirect(): string {
    const r = route.query.redirect
    return typeof r === 'string' && r.startsWith('/') && !r.startsWith('//') && !r.startsWith('/login')
      ? r
      : '/customers'
  }

  function explain(e: unknown): void {
    if (e instanceof ApiError && e.status === 429) {
      const s = retryAfterSeconds(e)
      if (s) {
        startCountdown(s)
        return
      }
    }
    const codeError = e instanceof ApiError ? e.fieldErrors[0]?.code : undefined
    if (step.value === 'code' && e instanceof ApiError && e.status === 401) {
      if (codeError === 'expired') {
        // The five minutes are over (or the code step failed too often): the password again.
        step.value = 'password'
        mfaToken.value = ''
        failure.value = t('mfa.loginExpired')
      } else if (codeError === 'reused') {
        failure.value = t('mfa.codeReused')
      } else {
        failure.value = useRecovery.value ? t('mfa.recoveryWrong') : t('mfa.codeWrong')
      }
    } else if (step.value === 'code' && e instanceof ApiError && e.status === 422) {
      failure.value = t('mfa.codeRequired')
    } else if (e instanceof ApiError && e.status === 401) {
      failure.value = t('login.badCredentials')
    } else if (e instanceof ApiError && e.status === 403 && e.kind !== 'csrf') {
      const ip = REFUSED_IP.exec(e.problem.detail ?? '')?.[1]
      failure.value = ip ? t('login.ipRefusedAt', { ip }) : t('login.ipRefused')
    } else if (e instanceof ApiError && e.status === 429) {
      failure.value = t('login.throttledNoTime')
    } else {
      failure.value = problemText(e)
    }
  }

  /** The notice after a login from a browser or address this user never used before. */
  function noticeNewDevice(): void {
    const note = ElNotification({
      type: 'warning',
      title: t('login.newDeviceTitle'),
      duration: 0,
      customClass: 'new-device-notice',
      message: h('div', { 'data-test': 'new-device-notice' }, [
        h('p', { class: 'new-device-text' }, t('login.newDeviceText')),
        h(
          'a',
          {
            href: router.resolve({ name: 'security' }).href,
            'data-test': 'new-device-link',
            onClick: (ev: MouseEvent) => {
              ev.preventDefault()
              note.close()
              void router.push({ name: 'security' })
            },
          },
          t('login.newDeviceLink'),
        ),
      ]),
    })
  }

  async function signedIn(newDevice: boolean): Promise<void> {
    stopTimer()
    lockedUntil.value = 0
    await router.replace(safeRedirect())
    if (newDevice) noticeNewDevice()
  }

  /** Signs in; `valid` is the form's own check (required inputs). */
  async function submit(valid: () => Promise<boolean>): Promise<void> {
    failure.value = ''
    expired.value = false
    if (!(await valid())) return
    submitting.value = true
    try {
      const { newDevice, mfaToken: token } = await auth.login(form.username.trim(), form.password)
      if (token) {
        // Right password; now the code.
        stopTimer()
        lockedUntil.value = 0
        mfaToken.value = token
        code.value = ''
        useRecovery.value = false
        step.value = 'code'
        form.password = ''
        return
      }
      await signedIn(newDevice)
    } catch (e) {
      lockedUntil.value = 0
      stopTimer()
      explain(e)
      form.password = ''
    } finally {
      submitting.value = false
    }
  }

  /** The second step: the app's code or a recovery code. */
  async function submitCode(): Promise<void> {
    if (submitting.value) return
    failure.value = ''
    const typed = code.value.replace(/\s+/g, '')
    if (!typed) {
      failure.value = useRecovery.value ? t('mfa.recoveryRequired') : t('mfa.codeRequired')
      return
    }
    if (!useRecovery.value && !/^\d{6}$/.test(typed)) {
      failure.value = t('mfa.codeFormat')
      return
    }
    submitting.value = true
    try {
      const { newDevice } = await auth.completeMfa(mfaToken.value, typed)
      mfaToken.value = ''
      await signedIn(newDevice)
    } catch (e) {
      lockedUntil.value = 0
      stopTimer()
      explain(e)
      code.value = ''
    } finally {
      submitting.value = false
    }
  }

  function toggleRecovery(): void {
    useRecovery.value = !useRecovery.value
    code.value = ''
    failure.value = ''
  }

  /** Back to the password (another account, or the phone is not at hand). */
  function backToPassword(): void {
    step.value = 'password'
    mfaToken.value = ''
    code.value = ''
    failure.value = ''
  }

  return {
    form,
    submitting,
    error,
    alertType,
    expired,
    step,
    code,
    useRecovery,
    submit,
    submitCode,
    toggleRecovery,
    backToPassword,
  }
}
