import { computed, ref, shallowRef, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'
import { ElMessage, ElMessageBox } from 'element-plus'
import { deleteCustomer, getCustomer, type Customer } from '@/api/customers'
import { ApiError } from '@/api/http'
import { useFieldsStore } from '@/stores/fields'
import { useUsersStore } from '@/stores/users'
import { useErrors } from '@/composables/useErrors'

/** One customer: loading, the custom fields to show, and moving it to the recycle bin. */
export function useCustomerDetail(id: Ref<number>) {
  const { t } = useI18n()
  const router = useRouter()
  const fieldsStore = useFieldsStore()
  const users = useUsersStore()
  const { toastError } = useErrors()

  const customer = shallowRef<Customer | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  const deleting = ref(false)

  const notFound = computed(() => error.value instanceof ApiError && error.value.status === 404)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      const [c] = await Promise.all([
        getCustomer(id.value),
        fieldsStore.load().catch(() => {}),
        users.load().catch(() => {}),
      ])
      customer.value = c
    } catch (e) {
      error.value = e
      customer.value = null
    } finally {
      loading.value = false
    }
  }

  watch(id, () => void load(), { immediate: true })

  const sortedPhones = computed(() => {
    const phones = customer.value?.phones ?? []
    return [...phones].sort((a, b) => Number(b.primary) - Number(a.primary))
  })

  function userName(uid: number | null | undefined): string {
    if (uid === null || uid === undefined) return ''
    return users.nameOf(uid) ?? t('detail.unknownUser', { id: uid })
  }

  async function remove(): Promise<void> {
    const c = customer.value
    if (!c) return
    try {
      await ElMessageBox.confirm(t('detail.deleteConfirm', { name: c.name }), t('detail.deleteConfirmTitle'), {
        type: 'warning',
        confirmButtonText: t('common.delete'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    deleting.value = true
    try {
      await deleteCustomer(c.id)
      ElMessage.success(t('detail.deleted'))
      await router.push({ name: 'customers' })
    } catch (e) {
      toastError(e)
    } finally {
      deleting.value = false
    }
  }

  return {
    customer,
    loading,
    error,
    notFound,
    deleting,
    fields: computed(() => fieldsStore.fields),
    sortedPhones,
    userName,
    load,
    remove,
  }
}
