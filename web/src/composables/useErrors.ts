import { useI18n } from 'vue-i18n'
import { ElMessage } from 'element-plus'
import { fieldErrorMap, fieldErrorText, problemText, waitText } from '@/utils/errors'
import type { FieldError } from '@/api/http'

/** Error texts in the current language, and a toast for failures nobody else shows. */
export function useErrors() {
  const { t, te } = useI18n()
  return {
    problemText: (err: unknown) => problemText(err, t, te),
    fieldErrorText: (fe: FieldError) => fieldErrorText(fe, t, te),
    fieldErrorMap: (errors: FieldError[]) => fieldErrorMap(errors, t, te),
    /** "42 秒" / "15 分钟" in the UI language. */
    waitText: (seconds: number) => waitText(seconds, t),
    toastError: (err: unknown) => {
      ElMessage.error({ message: problemText(err, t, te), grouping: true, showClose: true })
    },
  }
}
