import { ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { listQuality } from '@/api/quality'
import { updateCustomer, type Customer } from '@/api/customers'
import { useErrors } from '@/composables/useErrors'
import { useFieldsStore } from '@/stores/fields'
import { useUsersStore } from '@/stores/users'

const PAGE = 50

/** The 数据质量 queue: customers with open data-quality issues, paged, and dismissing them. */
export function useQuality() {
  const { t } = useI18n()
  const { toastError } = useErrors()
  const fields = useFieldsStore()
  const users = useUsersStore()

  const items = shallowRef<Customer[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)
  const dismissing = ref<number | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [page] = await Promise.all([
        listQuality({ limit: PAGE }),
        fields.load().catch(() => {}),
        users.load().catch(() => {}),
      ])
      items.value = page.items
      nextCursor.value = page.next_cursor
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    if (!nextCursor.value || loadingMore.value) return
    loadingMore.value = true
    try {
      const page = await listQuality({ limit: PAGE, cursor: nextCursor.value })
      items.value = [...items.value, ...page.items]
      nextCursor.value = page.next_cursor
    } catch (e) {
      toastError(e)
    } finally {
      loadingMore.value = false
    }
  }

  /** Marks every issue of a customer as dealt with (PATCH quality_issues: []). */
  async function dismiss(c: Customer): Promise<void> {
    try {
      await ElMessageBox.confirm(t('quality.dismissConfirm', { name: c.name }), t('quality.dismiss'), {
        type: 'warning',
        confirmButtonText: t('common.confirm'),
        cancelButtonText: t('common.cancel'),
      })
    } catch {
      return
    }
    dismissing.value = c.id
    try {
      await updateCustomer(c.id, c.version, { quality_issues: [] })
      items.value = items.value.filter((x) => x.id !== c.id)
      ElMessage.success(t('quality.dismissed'))
    } catch (e) {
      toastError(e)
    } finally {
      dismissing.value = null
    }
  }

  return { items, nextCursor, loading, loadingMore, loaded, error, dismissing, load, loadMore, dismiss }
}
