import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import * as authApi from '@/api/auth'
import { ApiError } from '@/api/http'
import type { Me, Permission } from '@/api/auth'

/** Who is logged in, what their role allows, and the CSRF token every write must carry. */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<Me | null>(null)
  const csrfToken = ref<string | null>(null)
  /** True once GET /auth/me has answered (either way) since the page loaded. */
  const checked = ref(false)

  const isLoggedIn = computed(() => user.value !== null)
  const permissions = computed(() => new Set(user.value?.permissions ?? []))

  /**
   * Whether the user's role grants a permission. Only hides controls: the server decides.
   * False before /auth/me has answered.
   */
  function can(perm: Permission): boolean {
    return permissions.value.has(perm)
  }

  function setSession(s: authApi.Session): void {
    user.value = {
      ...s.user,
      permissions: s.user.permissions ?? [],
      scope: s.user.scope ?? 'own',
      mfa_enabled: s.user.mfa_enabled === true,
      mfa_required: s.user.mfa_required === true,
    }
    csrfToken.value = s.csrf_token
  }

  function clear(): void {
    user.value = null
    csrfToken.value = null
  }

  /** Asks the server who we are. Returns false on 401; other failures throw. */
  async function fetchMe(): Promise<boolean> {
    try {
      setSession(await authApi.me())
      return true
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        clear()
        return false
      }
      throw e
    } finally {
      checked.value = true
    }
  }

  /** The role requires MFA and the user has none yet: the session may only enrol. */
  const mfaEnrollmentRequired = computed(() => !!user.value && user.value.mfa_required && !user.value.mfa_enabled)

  /**
   * Logs in; the answer carries the user with permissions and scope, so no /auth/me
   * follows. When the user has MFA on, no session starts yet: the result carries the token
   * for completeMfa(). Otherwise it says whether this is a new device (the caller tells them).
   */
  async function login(
    username: string,
    password: string,
  ): Promise<{ newDevice: boolean; mfaToken: string | null }> {
    const s = await authApi.login({ username, password })
    if (s.mfa_required) return { newDevice: false, mfaToken: s.mfa_token }
    setSession(s)
    checked.value = true
    return { newDevice: s.new_device === true, mfaToken: null }
  }

  /** The second step of a login: a code from the app or a recovery code. */
  async function completeMfa(mfaToken: string, code: string): Promise<{ newDevice: boolean }> {
    const s = await authApi.loginMfa(mfaToken, code)
    setSession(s)
    checked.value = true
    return { newDevice: s.new_device === true }
  }

  /** After enrolling or turning MFA off: the user (and what the session may do) as it is now. */
  function setMfaEnabled(on: boolean): void {
    if (user.value) user.value = { ...user.value, mfa_enabled: on }
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      clear()
    }
  }

  return {
    user,
    csrfToken,
    checked,
    isLoggedIn,
    mfaEnrollmentRequired,
    can,
    setSession,
    clear,
    fetchMe,
    login,
    completeMfa,
    setMfaEnabled,
    logout,
  }
})
