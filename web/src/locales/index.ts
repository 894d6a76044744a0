import { createI18n } from 'vue-i18n'
import zhCN, { type Messages } from './zh-CN'
import en from './en'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: readonly Locale[] = ['zh-CN', 'en']
export const DEFAULT_LOCALE: Locale = 'zh-CN'

const STORAGE_KEY = 'kehu.locale'

export function isLocale(v: unknown): v is Locale {
  return typeof v === 'string' && (LOCALES as readonly string[]).includes(v)
}

/** The language remembered in localStorage, else zh-CN (the product's default). */
export function savedLocale(): Locale {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    if (isLocale(v)) return v
  } catch {
    /* storage disabled */
  }
  return DEFAULT_LOCALE
}

export function rememberLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    /* storage disabled: the choice lasts for this page only */
  }
}

export const i18n = createI18n<[Messages], Locale, false>({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: DEFAULT_LOCALE,
  messages: { 'zh-CN': zhCN, en },
  missingWarn: import.meta.env.DEV,
  fallbackWarn: false,
})
