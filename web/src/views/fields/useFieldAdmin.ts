import { computed, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { createField, deleteField, type Field, type FieldType } from '@/api/fields'
import { ApiError } from '@/api/http'
import { useFieldsStore } from '@/stores/fields'
import { useErrors } from '@/composables/useErrors'

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,39}$/

interface FieldDraft {
  name: string
  label: string
  type: FieldType
  options: string[]
  required: boolean
}

function emptyDraft(): FieldDraft {
  return { name: '', label: '', type: 'text', options: [], required: false }
}

/** The custom fields admin page: list, add dialog with server-side errors, delete. */
export function useFieldAdmin() {
  const { t } = useI18n()
  const store = useFieldsStore()
  const { toastError, fieldErrorMap, problemText } = useErrors()

  const loading = ref(false)
  const error = ref<unknown>(null)
  const dialogOpen = ref(false)
  const saving = ref(false)
  const draft = reactive<FieldDraft>(emptyDraft())
  const errors = ref<Record<string, string>>({})
  const dialogError = ref('')
  const deleting = ref<string | null>(null)

  const needsOptions = computed(() => draft.type === 'select' || draft.type === 'multiselect')

  async function load(): Promise<void> {
    loading.value = true
    error.value = null
    try {
      await store.load(true)
    } catch (e) {
      error.value = e
    } finally {
      loading.value = false
    }
  }

  function openCreate(): void {
    Object.assign(draft, emptyDraft())
    errors.value = {}
    dialogError.value = ''
    dialogOpen.value = true
  }

  function validate(): boolean {
    const out: Record<string, string> = {}
    if (!NAME_PATTERN.test(draft.name)) out.name = t('fields.namePattern')
    if (!draft.label.trim()) out.label = t('errors.code.required')
    if (needsOptions.value && draft.options.length === 0) out.options = t('fields.optionsRequired')
    errors.value = out
    return Object.keys(out).length === 0
  }

  async function submit(): Promise<void> {
    dialogError.value = ''
    if (!validate()) return
    saving.value = true
    try {
      await createField({
        name: draft.name,
        label: draft.label.trim(),
        type: draft.type,
        options: needsOptions.value ? draft.options.map((o) => o.trim()).filter(Boolean) : [],
        required: draft.required,
      })
      dialogOpen.value = false
      ElMessage.success(t('fields.created'))
      await store.load(true)
    } catch (e) {
      if (e instanceof ApiError && e.fieldErrors.length) {
        errors.value = fieldErrorMap(e.fieldErrors)
        const known = new Set(['name', 'label', 'type', 'options', 'required'])
        const rest = Object.entries(errors.value).filter(([k]) => !known.has(k.replace(/\[\d+\]$/, '')))
        if (rest.length) dialogError.value = rest.map(([k, v]) => `${k}: ${v}`).join('; ')
        // options[2] → show under the options input
        for (const [k, v] of Object.entries(errors.value)) {
          if (k.startsWith('options[') && !errors.value.options) errors.value = { ...errors.value, options: v }
        }
      } else if (e instanceof ApiError && e.status === 409) {
        errors.value = { name: t('errors.code.not_unique') }
      } else {
        dialogError.value = problemText(e)
      }
    } finally {
      saving.value = false
    }
  }

  async function remove(f: Field): Promise<void> {
    try {
      await ElMessageBox.confirm(t('fields.deleteConfirm', { label: f.label }), t('common.delete'), {
        type: 'warning',
        confirmButtonText: t('common.delete'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    deleting.value = f.name
    try {
      await deleteField(f.name)
      ElMessage.success(t('fields.deleted'))
      await store.load(true)
    } catch (e) {
      toastError(e)
    } finally {
      deleting.value = null
    }
  }

  function clearError(key: string): void {
    if (errors.value[key]) errors.value = { ...errors.value, [key]: '' }
  }

  return {
    fields: computed(() => store.fields),
    loading,
    error,
    dialogOpen,
    saving,
    draft,
    errors,
    dialogError,
    deleting,
    needsOptions,
    load,
    openCreate,
    submit,
    remove,
    clearError,
  }
}
