import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import * as authApi from '@/api/auth'
import { ApiError } from '@/api/http'
import type { User } from '@/api/auth'

/** Who is logged in, and the CSRF token every write must carry. */
export const useAuthStore = defineStore('auth', () => {
  const user = ref<User | null>(null)
  const csrfToken = ref<string | null>(null)
  /** True once GET /auth/me has answered (either way) since the page loaded. */
  const checked = ref(false)

  const isLoggedIn = computed(() => user.value !== null)
  const isAdmin = computed(() => user.value?.role === 'admin')

  function setSession(s: authApi.Session): void {
    user.value = s.user
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

  async function login(username: string, password: string): Promise<void> {
    setSession(await authApi.login({ username, password }))
    checked.value = true
  }

  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } finally {
      clear()
    }
  }

  return { user, csrfToken, checked, isLoggedIn, isAdmin, setSession, clear, fetchMe, login, logout }
})
