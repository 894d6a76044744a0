import { computed, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import {
  confirmMfa,
  disableMfa,
  getMfa,
  regenerateRecoveryCodes,
  startMfaEnrolment,
  type MfaEnrolment,
  type MfaStatus,
} from '@/api/mfa'
import { ApiError } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useErrors } from '@/composables/useErrors'
import { copyText } from '@/utils/clipboard'
import { retryAfterSeconds } from '@/utils/errors'

/** The base32 secret in groups of four, as apps show it for typing. */
export function groupSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ')
}

/** An SVG document as an <img> source (the CSP allows data: images; an <img> runs no script). */
export function svgDataUrl(svg: string): string {
  return `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`
}

/** The text file of recovery codes a user downloads. */
export function recoveryFileText(codes: string[], username: string, heading: string): string {
  return [heading, username, new Date().toISOString().slice(0, 10), '', ...codes, ''].join('\n')
}

/**
 * The 两步验证 card of 我的安全: status, enrolment (QR code, secret with copy, the first code),
 * the recovery codes shown once (copy, download, "I saved them"), new recovery codes, and
 * turning it off (password or code; not when the role requires it).
 */
export function useMfa() {
  const { t } = useI18n()
  const auth = useAuthStore()
  const { problemText, waitText } = useErrors()

  const status = shallowRef<MfaStatus | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)

  const enrolment = shallowRef<MfaEnrolment | null>(null)
  const starting = ref(false)
  const code = ref('')
  const codeError = ref('')
  const confirming = ref(false)

  /** Recovery codes just made (after enrolling or regenerating): shown until "saved". */
  const recoveryCodes = ref<string[] | null>(null)
  const saved = ref(false)

  const regen = reactive({ open: false, code: '', error: '', submitting: false })
  const disabling = reactive({
    open: false,
    mode: 'password' as 'password' | 'code',
    password: '',
    code: '',
    error: '',
    submitting: false,
  })

  const qrSrc = computed(() => (enrolment.value ? svgDataUrl(enrolment.value.qr_svg) : ''))
  const required = computed(() => status.value?.required ?? auth.user?.mfa_required ?? false)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      status.value = await getMfa()
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  /** Text for a failed code check: throttled, reused, wrong, or the server's problem. */
  function codeProblem(e: unknown, recoveryAllowed = false): string {
    if (e instanceof ApiError && e.status === 429) {
      const s = retryAfterSeconds(e)
      return s ? t('mfa.throttled', { wait: waitText(s) }) : problemText(e)
    }
    const fe = e instanceof ApiError ? e.fieldErrors[0] : undefined
    if (fe?.code === 'reused') return t('mfa.codeReused')
    if (fe?.code === 'wrong' && fe.field === 'password') return t('mfa.passwordWrong')
    if (fe?.code === 'wrong') return recoveryAllowed ? t('mfa.codeOrRecoveryWrong') : t('mfa.codeWrong')
    if (fe?.code === 'invalid_format') return t('mfa.codeFormat')
    if (fe?.code === 'required') return t('mfa.codeRequired')
    if (fe?.code === 'required_by_role') return t('mfa.requiredByRole')
    return problemText(e)
  }

  async function start(): Promise<void> {
    if (starting.value) return
    starting.value = true
    try {
      enrolment.value = await startMfaEnrolment()
      code.value = ''
      codeError.value = ''
    } catch (e) {
      ElMessage.error({ message: problemText(e), grouping: true, showClose: true })
      void load()
    } finally {
      starting.value = false
    }
  }

  async function cancelEnrolment(): Promise<void> {
    enrolment.value = null
    code.value = ''
    codeError.value = ''
    try {
      await disableMfa({}) // drops the unconfirmed secret
    } catch {
      /* nothing was pending after all */
    }
    await load()
  }

  async function copySecret(): Promise<void> {
    if (!enrolment.value) return
    const ok = await copyText(enrolment.value.secret)
    if (ok) ElMessage.success(t('common.copied'))
    else ElMessage.warning(t('common.copyFailed'))
  }

  async function confirm(): Promise<void> {
    if (confirming.value) return
    codeError.value = ''
    const typed = code.value.replace(/\s+/g, '')
    if (!/^\d{6}$/.test(typed)) {
      codeError.value = typed ? t('mfa.codeFormat') : t('mfa.codeRequired')
      return
    }
    confirming.value = true
    try {
      const r = await confirmMfa(typed)
      recoveryCodes.value = r.recovery_codes
      saved.value = false
      enrolment.value = null
      code.value = ''
      auth.setMfaEnabled(true)
      ElMessage.success(t('mfa.enabled'))
      await load()
    } catch (e) {
      codeError.value = codeProblem(e)
    } finally {
      confirming.value = false
    }
  }

  async function copyCodes(): Promise<void> {
    if (!recoveryCodes.value) return
    const ok = await copyText(recoveryCodes.value.join('\n'))
    if (ok) ElMessage.success(t('common.copied'))
    else ElMessage.warning(t('common.copyFailed'))
  }

  function downloadCodes(): void {
    if (!recoveryCodes.value) return
    const text = recoveryFileText(recoveryCodes.value, auth.user?.username ?? '', t('mfa.fileHeading'))
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }))
    const a = document.createElement('a')
    a.href = url
    a.download = `kehu-recovery-codes-${auth.user?.username ?? 'user'}.txt`
    document.body.appendChild(a)
    a.click()
    a.remove()
    setTimeout(() => URL.revokeObjectURL(url), 1000)
  }

  /** "I saved them": the codes leave the page for good. */
  function finish(): void {
    if (!saved.value) return
    recoveryCodes.value = null
    saved.value = false
  }

  function openRegenerate(): void {
    Object.assign(regen, { open: true, code: '', error: '', submitting: false })
  }

  async function regenerate(): Promise<void> {
    if (regen.submitting) return
    regen.error = ''
    const typed = regen.code.replace(/\s+/g, '')
    if (!/^\d{6}$/.test(typed)) {
      regen.error = typed ? t('mfa.codeFormat') : t('mfa.codeRequired')
      return
    }
    regen.submitting = true
    try {
      const r = await regenerateRecoveryCodes(typed)
      regen.open = false
      recoveryCodes.value = r.recovery_codes
      saved.value = false
      ElMessage.success(t('mfa.regenerated'))
      await load()
    } catch (e) {
      regen.error = codeProblem(e)
      regen.code = ''
    } finally {
      regen.submitting = false
    }
  }

  function openDisable(): void {
    Object.assign(disabling, { open: true, mode: 'password', password: '', code: '', error: '', submitting: false })
  }

  async function disable(): Promise<void> {
    if (disabling.submitting) return
    disabling.error = ''
    const proof =
      disabling.mode === 'password' ? { password: disabling.password } : { code: disabling.code.replace(/\s+/g, '') }
    if (!proof.password && !proof.code) {
      disabling.error = disabling.mode === 'password' ? t('mfa.passwordRequired') : t('mfa.codeRequired')
      return
    }
    disabling.submitting = true
    try {
      await disableMfa(proof)
      disabling.open = false
      auth.setMfaEnabled(false)
      recoveryCodes.value = null
      ElMessage.success(t('mfa.disabled'))
      await load()
    } catch (e) {
      disabling.error = codeProblem(e, true)
      disabling.password = ''
      disabling.code = ''
    } finally {
      disabling.submitting = false
    }
  }

  return {
    status,
    loading,
    error,
    enrolment,
    starting,
    code,
    codeError,
    confirming,
    recoveryCodes,
    saved,
    regen,
    disabling,
    qrSrc,
    required,
    load,
    start,
    cancelEnrolment,
    copySecret,
    confirm,
    copyCodes,
    downloadCodes,
    finish,
    openRegenerate,
    regenerate,
    openDisable,
    disable,
  }
}
