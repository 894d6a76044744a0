import { useI18n } from 'vue-i18n'
import { useFieldsStore } from '@/stores/fields'

/** Words for data-quality issues: the field they are about and what is wrong. */
export function useQualityText() {
  const { t, te } = useI18n()
  const fields = useFieldsStore()

  /** `phones` → 电话, `custom.budget` → the custom field's label, `owner_id` → 负责人. */
  function fieldLabel(field: string): string {
    if (field.startsWith('custom.')) {
      const name = field.slice(7)
      return fields.fields.find((f) => f.name === name)?.label ?? name
    }
    if (field === 'owner_id') return t('customer.owner')
    return te(`customer.${field}`) ? t(`customer.${field}`) : field
  }

  /** The problem in the UI language; the server's English message when there is no word for it. */
  function problemLabel(code: string, message = ''): string {
    return te(`quality.problem.${code}`) ? t(`quality.problem.${code}`) : message || code
  }

  return { fieldLabel, problemLabel }
}
