// A short description of a browser from its User-Agent header, for the session and device
// lists: "Chrome 131 · Windows", "Safari 17 · iPhone", "微信 8 · Android". Product names are
// proper names and stay as they are, except the few that have a name per language (locale
// keys under `agent.`); what cannot be recognised is null.

import type { Composer } from 'vue-i18n'

type T = Composer['t']

export interface AgentSummary {
  /**
   * Browser or client with its major version, e.g. `Edge 131`, `curl 8`; a name starting
   * with `@` is a locale key under `agent.` (`@wechat 8`); null if unknown.
   */
  browser: string | null
  /** Operating system or device, e.g. `Windows`, `macOS`, `iPhone`; null if unknown. */
  os: string | null
  /** Phone or tablet. */
  mobile: boolean
}

interface Rule {
  name: string
  re: RegExp
}

// Order matters: Edge, Opera, WeChat … also say "Chrome"; Chrome also says "Safari".
const BROWSERS: Rule[] = [
  { name: '@wxwork', re: /wxwork\/(\d+)/ },
  { name: '@wechat', re: /MicroMessenger\/(\d+)/ },
  { name: '@dingtalk', re: /DingTalk\/(\d+)/ },
  { name: 'Edge', re: /Edg(?:e|A|iOS)?\/(\d+)/ },
  { name: 'Opera', re: /(?:OPR|Opera)\/(\d+)/ },
  { name: 'Samsung Internet', re: /SamsungBrowser\/(\d+)/ },
  { name: 'UC', re: /UCBrowser\/(\d+)/ },
  { name: 'QQ', re: /QQBrowser\/(\d+)/ },
  { name: '360', re: /QihooBrowser\/(\d+)/ },
  { name: 'Firefox', re: /(?:Firefox|FxiOS)\/(\d+)/ },
  { name: '@headless', re: /HeadlessChrome\/(\d+)/ },
  { name: 'Chrome', re: /(?:Chrome|CriOS)\/(\d+)/ },
  { name: 'Chromium', re: /Chromium\/(\d+)/ },
  { name: 'Safari', re: /Version\/(\d+)[.\d]* (?:Mobile\/\S+ )?Safari\// },
  { name: 'curl', re: /^curl\/(\d+)/ },
  { name: 'Wget', re: /^Wget\/(\d+)/ },
  { name: 'Python', re: /python-requests\/(\d+)|Python-urllib\/(\d+)/ },
  { name: 'Node.js', re: /^node(?:-fetch)?\/?(\d*)|undici/ },
  { name: 'Postman', re: /PostmanRuntime\/(\d+)/ },
]

const SYSTEMS: { name: string; re: RegExp; mobile?: boolean }[] = [
  { name: 'iPhone', re: /iPhone/, mobile: true },
  { name: 'iPad', re: /iPad/, mobile: true },
  { name: 'HarmonyOS', re: /HarmonyOS|OpenHarmony/, mobile: true },
  { name: 'Android', re: /Android/, mobile: true },
  { name: 'Windows', re: /Windows/ },
  { name: 'macOS', re: /Mac OS X|Macintosh/ },
  { name: 'ChromeOS', re: /CrOS/ },
  { name: 'Linux', re: /Linux|X11/ },
]

export function summariseUserAgent(ua: string | null | undefined): AgentSummary {
  const s = (ua ?? '').trim()
  if (!s) return { browser: null, os: null, mobile: false }
  let browser: string | null = null
  for (const b of BROWSERS) {
    const m = b.re.exec(s)
    if (m) {
      const version = m.slice(1).find((x) => x)
      browser = version ? `${b.name} ${version}` : b.name
      break
    }
  }
  let os: string | null = null
  let mobile = false
  for (const o of SYSTEMS) {
    if (o.re.test(s)) {
      os = o.name
      mobile = o.mobile === true
      break
    }
  }
  if (!mobile && /Mobi/.test(s)) mobile = true
  return { browser, os, mobile }
}

/** "Chrome 131 · Windows" in the UI language; `agent.unknown` when nothing is recognised. */
export function agentText(ua: string | null | undefined, t: T): string {
  const a = summariseUserAgent(ua)
  const browser = a.browser?.startsWith('@')
    ? a.browser.replace(/^@(\w+)/, (_m, key: string) => t(`agent.${key}`))
    : a.browser
  if (browser && a.os) return t('agent.browserOn', { browser, os: a.os })
  return browser ?? a.os ?? t('agent.unknown')
}
