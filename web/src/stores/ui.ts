import { ref, watch } from 'vue'
import { defineStore } from 'pinia'
import { i18n, rememberLocale, type Locale } from '@/locales'
import { MOBILE_MAX_WIDTH } from '@/constants'

/** Language and screen size: things every page reacts to. */
export const useUiStore = defineStore('ui', () => {
  const locale = ref<Locale>(i18n.global.locale.value)

  function setLocale(l: Locale): void {
    locale.value = l
  }

  watch(
    locale,
    (l) => {
      i18n.global.locale.value = l
      rememberLocale(l)
      document.documentElement.lang = l
    },
    { immediate: true },
  )

  const query = window.matchMedia(`(max-width: ${MOBILE_MAX_WIDTH}px)`)
  const isMobile = ref(query.matches)
  query.addEventListener('change', (e) => {
    isMobile.value = e.matches
  })

  return { locale, setLocale, isMobile }
})
