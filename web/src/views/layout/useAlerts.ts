import { onBeforeUnmount, onMounted, ref, watch } from 'vue'
import { useRoute } from 'vue-router'
import { listAudit } from '@/api/audit'
import { useAuthStore } from '@/stores/auth'

/** At most this many alerts are counted ("50+" beyond). */
const ALERT_LIMIT = 50
/** The count is refreshed on navigation, but not more often than this. */
const MIN_INTERVAL_MS = 60_000
const DAY_MS = 86_400_000

/**
 * The header's alert badge: how many `alert.*` audit entries (e.g. a used-up reveal quota)
 * the last 24 hours hold. Asked only when the user may read the audit log.
 */
export function useAlerts() {
  const auth = useAuthStore()
  const route = useRoute()

  const count = ref(0)
  /** True when there are more than ALERT_LIMIT. */
  const more = ref(false)
  let lastAt = 0
  let timer: ReturnType<typeof setInterval> | undefined

  async function refresh(force = false): Promise<void> {
    if (!auth.can('audit.read')) {
      count.value = 0
      more.value = false
      return
    }
    const now = Date.now()
    if (!force && now - lastAt < MIN_INTERVAL_MS) return
    lastAt = now
    try {
      const page = await listAudit({
        action: 'alert.',
        from: new Date(now - DAY_MS).toISOString(),
        limit: ALERT_LIMIT,
      })
      count.value = page.items.length
      more.value = page.next_cursor !== null
    } catch {
      // The badge is a hint; a failure here is not worth a message.
    }
  }

  watch(
    () => route.fullPath,
    () => void refresh(),
  )
  watch(
    () => auth.can('audit.read'),
    () => void refresh(true),
  )
  onMounted(() => {
    void refresh(true)
    timer = setInterval(() => void refresh(), 5 * MIN_INTERVAL_MS)
  })
  onBeforeUnmount(() => clearInterval(timer))

  return { count, more, refresh }
}
