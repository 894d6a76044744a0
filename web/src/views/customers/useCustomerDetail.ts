import { computed, ref, shallowRef, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRouter } from 'vue-router'
import { ElMessage, ElMessageBox } from 'element-plus'
import { deleteCustomer, getCustomer, revealCustomer, type Customer } from '@/api/customers'
import { ApiError } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useFieldsStore } from '@/stores/fields'
import { useUsersStore } from '@/stores/users'
import { useErrors } from '@/composables/useErrors'

/** How many reveals the user has made today, from the last reveal's answer. */
export interface RevealCount {
  today: number
  /** 0 is unlimited. */
  quota: number
}

/**
 * One customer: loading, the custom fields to show, revealing the masked phones, emails,
 * ID number and address, and moving it to the recycle bin.
 */
export function useCustomerDetail(id: Ref<number>) {
  const { t } = useI18n()
  const router = useRouter()
  const fieldsStore = useFieldsStore()
  const users = useUsersStore()
  const auth = useAuthStore()
  const { toastError } = useErrors()

  const customer = shallowRef<Customer | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  const deleting = ref(false)
  const revealing = ref(false)
  const revealCount = ref<RevealCount | null>(null)
  /** Set when the server refused a reveal because today's quota is used up (429). */
  const quotaUsedUp = ref(false)

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
      revealCount.value = null
      quotaUsedUp.value = false
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

  /** The reveal button: only for masked customers and users with phone.reveal. */
  const canReveal = computed(() => !!customer.value?.masked && auth.can('phone.reveal'))

  /** Asks for the clear values (audited, counted against the daily quota). */
  async function reveal(): Promise<void> {
    const c = customer.value
    if (!c || revealing.value) return
    revealing.value = true
    try {
      const res = await revealCustomer(c.id)
      if (customer.value?.id !== c.id) return
      customer.value = res.customer
      revealCount.value = { today: res.reveals_today, quota: res.reveal_quota }
      quotaUsedUp.value = false
    } catch (e) {
      if (e instanceof ApiError && (e.status === 429 || e.kind === 'rate-limited')) {
        quotaUsedUp.value = true
        ElMessage.warning({ message: t('detail.revealQuotaUsedUp'), grouping: true, showClose: true })
      } else {
        toastError(e)
      }
    } finally {
      revealing.value = false
    }
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
    revealing,
    revealCount,
    quotaUsedUp,
    canReveal,
    fields: computed(() => fieldsStore.fields),
    sortedPhones,
    userName,
    load,
    reveal,
    remove,
  }
}
