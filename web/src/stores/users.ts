import { ref } from 'vue'
import { defineStore } from 'pinia'
import { listUsers, type User } from '@/api/users'

/** All users, loaded once: owner pickers and "created by" names need them. */
export const useUsersStore = defineStore('users', () => {
  const users = ref<User[]>([])
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  function load(force = false): Promise<void> {
    if (loaded.value && !force) return Promise.resolve()
    if (!pending) {
      pending = listUsers()
        .then((page) => {
          users.value = page.items
          loaded.value = true
        })
        .finally(() => {
          pending = null
        })
    }
    return pending
  }

  function nameOf(id: number | null | undefined): string | null {
    if (id === null || id === undefined) return null
    const u = users.value.find((x) => x.id === id)
    return u ? u.display_name || u.username : null
  }

  function reset(): void {
    users.value = []
    loaded.value = false
  }

  return { users, loaded, load, nameOf, reset }
})
