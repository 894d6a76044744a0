import { createApp } from 'vue'
import { createPinia } from 'pinia'
import 'dayjs/locale/zh-cn'
// Styles of the Element Plus services called from scripts (templates import their own).
import 'element-plus/es/components/message/style/css'
import 'element-plus/es/components/message-box/style/css'
import 'element-plus/es/components/notification/style/css'
import 'element-plus/es/components/loading/style/css'
import './styles/main.css'

import App from './App.vue'
import { i18n } from './locales'
import { router } from './router'
import { configureHttp } from './api/http'
import { useAuthStore } from './stores/auth'
import { useUsersStore } from './stores/users'
import { useFieldsStore } from './stores/fields'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)

const auth = useAuthStore(pinia)
let redirecting = false
configureHttp({
  csrfToken: () => auth.csrfToken,
  refreshCsrf: async () => ((await auth.fetchMe()) ? auth.csrfToken : null),
  onUnauthenticated: () => {
    // The session ended (expired, logged out elsewhere): forget it and go to the login page.
    auth.clear()
    useUsersStore(pinia).reset()
    useFieldsStore(pinia).reset()
    const current = router.currentRoute.value
    if (redirecting || current.meta.public) return
    redirecting = true
    void router
      .replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
      .finally(() => {
        redirecting = false
      })
  },
  onMfaEnrollmentRequired: () => {
    // The role started requiring two-step verification while the user was working.
    if (redirecting) return
    redirecting = true
    void auth
      .fetchMe()
      .then(() => router.replace({ name: 'security' }))
      .catch(() => {})
      .finally(() => {
        redirecting = false
      })
  },
})

app.use(router)
app.mount('#app')
