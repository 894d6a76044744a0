import { ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { createToken, deleteToken, listTokens, type ApiToken, type CreatedToken } from '@/api/tokens'
import { ApiError } from '@/api/http'
import { useErrors } from '@/composables/useErrors'

/** The API tokens page: the user's tokens, creating one (secret shown once), deleting. */
export function useTokens() {
  const { t } = useI18n()
  const { toastError, problemText, fieldErrorMap } = useErrors()

  const items = shallowRef<ApiToken[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const error = ref<unknown>(null)

  const dialogOpen = ref(false)
  const name = ref('')
  const nameError = ref('')
  const dialogError = ref('')
  const creating = ref(false)
  /** Set after creation: the dialog then shows the secret instead of the form. */
  const created = ref<CreatedToken | null>(null)
  const deleting = ref<number | null>(null)

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      items.value = (await listTokens()).items
      loaded.value = true
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function openCreate(): void {
    name.value = ''
    nameError.value = ''
    dialogError.value = ''
    created.value = null
    dialogOpen.value = true
  }

  async function submit(): Promise<void> {
    nameError.value = ''
    dialogError.value = ''
    if (!name.value.trim()) {
      nameError.value = t('tokens.nameRequired')
      return
    }
    creating.value = true
    try {
      created.value = await createToken(name.value.trim())
      void load()
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        const map = fieldErrorMap(e.fieldErrors)
        nameError.value = map.name ?? ''
        if (!map.name) dialogError.value = Object.values(map).join('; ')
      } else {
        dialogError.value = problemText(e)
      }
    } finally {
      creating.value = false
    }
  }

  function closeDialog(): void {
    dialogOpen.value = false
  }

  /** Forget the secret as soon as the dialog is gone. */
  function onDialogClosed(): void {
    created.value = null
  }

  async function remove(tok: ApiToken): Promise<void> {
    try {
      await ElMessageBox.confirm(t('tokens.deleteConfirm', { name: tok.name }), t('common.delete'), {
        type: 'warning',
        confirmButtonText: t('common.delete'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    deleting.value = tok.id
    try {
      await deleteToken(tok.id)
      items.value = items.value.filter((x) => x.id !== tok.id)
      ElMessage.success(t('tokens.deleted'))
    } catch (e) {
      toastError(e)
    } finally {
      deleting.value = null
    }
  }

  return {
    items,
    loading,
    loaded,
    error,
    dialogOpen,
    name,
    nameError,
    dialogError,
    creating,
    created,
    deleting,
    load,
    openCreate,
    submit,
    closeDialog,
    onDialogClosed,
    remove,
  }
}
