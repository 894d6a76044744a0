import { ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ElMessage, ElMessageBox } from 'element-plus'
import { resetUserMfa } from '@/api/mfa'
import type { User } from '@/api/users'
import { useErrors } from '@/composables/useErrors'

/**
 * 重置两步验证 on the users page (user.admin): turns another user's MFA off after a lost
 * phone (DELETE /users/{id}/mfa, audited), then reloads the list.
 */
export function useUserMfa(reload: () => Promise<void>) {
  const { t } = useI18n()
  const { toastError } = useErrors()
  const resetting = ref<number | null>(null)

  async function reset(u: User): Promise<void> {
    const name = u.display_name || u.username
    try {
      await ElMessageBox.confirm(t('users.mfaResetConfirm', { name }), t('users.mfaReset'), {
        type: 'warning',
        confirmButtonText: t('users.mfaReset'),
        cancelButtonText: t('common.cancel'),
        confirmButtonClass: 'el-button--danger',
      })
    } catch {
      return
    }
    resetting.value = u.id
    try {
      await resetUserMfa(u.id)
      ElMessage.success(t('users.mfaResetDone', { name }))
      await reload()
    } catch (e) {
      toastError(e)
    } finally {
      resetting.value = null
    }
  }

  return { resetting, reset }
}
