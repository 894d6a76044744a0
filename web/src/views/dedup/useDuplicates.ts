import { ref, shallowRef } from 'vue'
import { scanDuplicates, type ScanResult } from '@/api/dedup'

/** Groups shown at most; the answer says how many there are in all. */
export const SHOWN_GROUPS = 200

/** The 重复客户 page: runs the scan (on demand, in the caller's scope) and keeps its result. */
export function useDuplicates() {
  const result = shallowRef<ScanResult | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)

  async function scan(): Promise<void> {
    if (loading.value) return
    loading.value = true
    error.value = null
    try {
      result.value = await scanDuplicates({ limit: SHOWN_GROUPS })
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  return { result, loading, error, scan }
}
