import { ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { listCustomers, restoreCustomer, type Customer } from '@/api/customers'
import { PAGE_SIZE } from '@/constants'
import { useErrors } from '@/composables/useErrors'

/** Deleted customers, newest deletions first as the server orders them, and restoring. */
export function useRecycleBin() {
  const { t } = useI18n()
  const { toastError } = useErrors()

  const items = shallowRef<Customer[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const restoring = ref<number | null>(null)

  async function fetchPage(cursor: string | null): Promise<void> {
    error.value = null
    try {
      const page = await listCustomers({ deleted: true, limit: PAGE_SIZE, cursor: cursor ?? undefined })
      items.value = cursor ? [...items.value, ...page.items] : page.items
      nextCursor.value = page.next_cursor
      loaded.value = true
    } catch (e) {
      error.value = e
    }
  }

  async function load(): Promise<void> {
    loading.value = true
    try {
      await fetchPage(null)
    } finally {
      loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value) return
    loadingMore.value = true
    try {
      await fetchPage(nextCursor.value)
    } finally {
      loadingMore.value = false
    }
  }

  async function restore(c: Customer): Promise<void> {
    try {
      await ElMessageBox.confirm(t('recycle.restoreConfirm', { name: c.name }), t('common.restore'), {
        type: 'info',
        confirmButtonText: t('common.restore'),
        cancelButtonText: t('common.cancel'),
      })
    } catch {
      return
    }
    restoring.value = c.id
    try {
      await restoreCustomer(c.id)
      items.value = items.value.filter((x) => x.id !== c.id)
      ElMessage.success(t('recycle.restored', { name: c.name }))
    } catch (e) {
      toastError(e)
    } finally {
      restoring.value = null
    }
  }

  return { items, nextCursor, loading, loadingMore, loaded, error, restoring, load, loadMore, restore }
}
