import { useI18n } from 'vue-i18n'
import {
  EMAIL_LABEL_SUGGESTIONS,
  PHONE_LABEL_SUGGESTIONS,
  SOURCE_SUGGESTIONS,
  type Suggestion,
} from '@/constants'
import type { Gender, PhoneType, Stage } from '@/api/customers'
import type { FieldType } from '@/api/fields'
import { BUILTIN_ROLE_NAMES, type Scope } from '@/api/auth'

/** Labels for enum values and suggested free-text values, in the current language. */
export function useLabels() {
  const { t, te } = useI18n()

  function suggested(list: readonly Suggestion[], prefix: string, value: string | null | undefined): string {
    if (!value) return ''
    const s = list.find((x) => x.value === value)
    return s ? t(`${prefix}.${s.key}`) : value
  }

  function options(list: readonly Suggestion[], prefix: string) {
    return list.map((s) => ({ value: s.value, label: t(`${prefix}.${s.key}`) }))
  }

  /** A translation under `prefix` when the locale has one, else the value as sent. */
  function known(prefix: string, value: string | null | undefined): string {
    if (!value) return ''
    const key = `${prefix}.${value}`
    return te(key) ? t(key) : value
  }

  return {
    /**
     * A role's name: a built-in role in the UI language unless an admin renamed it, else
     * `name` from GET /roles, else the key.
     */
    role: (key: string | null | undefined, name?: string): string => {
      if (!key) return name ?? ''
      const builtinName = BUILTIN_ROLE_NAMES[key]
      if (builtinName !== undefined && (name === undefined || name === builtinName) && te(`role.${key}`)) {
        return t(`role.${key}`)
      }
      return name ?? key
    },
    /** `customer.read` → 查看客户. */
    permission: (p: string) => known('perm', p),
    scope: (s: Scope) => known('scope', s),
    auditAction: (a: string) => known('auditAction', a),
    auditGroup: (g: string) => known('auditGroup', g),
    auditEntity: (e: string) => known('auditEntity', e),
    stage: (s: Stage | null | undefined) => (s && te(`stage.${s}`) ? t(`stage.${s}`) : (s ?? '')),
    gender: (g: Gender | null | undefined) => (g && te(`gender.${g}`) ? t(`gender.${g}`) : ''),
    phoneType: (p: PhoneType | string | null | undefined) =>
      p && te(`phoneType.${p}`) ? t(`phoneType.${p}`) : (p ?? ''),
    fieldType: (f: FieldType) => (te(`fields.types.${f}`) ? t(`fields.types.${f}`) : f),
    source: (v: string | null | undefined) => suggested(SOURCE_SUGGESTIONS, 'sourceValue', v),
    phoneLabel: (v: string | null | undefined) => suggested(PHONE_LABEL_SUGGESTIONS, 'phoneLabel', v),
    emailLabel: (v: string | null | undefined) => suggested(EMAIL_LABEL_SUGGESTIONS, 'emailLabel', v),
    sourceOptions: () => options(SOURCE_SUGGESTIONS, 'sourceValue'),
    phoneLabelOptions: () => options(PHONE_LABEL_SUGGESTIONS, 'phoneLabel'),
    emailLabelOptions: () => options(EMAIL_LABEL_SUGGESTIONS, 'emailLabel'),
  }
}
