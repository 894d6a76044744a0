// Shared by the web UI tests (tests/web/*.test.mjs): environment, browser, pages that report
// console errors, CSP violations and 5xx answers, screenshots, login and API calls.

import { before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

export const here = path.dirname(fileURLToPath(import.meta.url))
export const BASE = (process.env.KEHU_URL ?? '').replace(/\/+$/, '')
export const USER = process.env.KEHU_ADMIN_USER ?? ''
export const PASSWORD = process.env.KEHU_ADMIN_PASSWORD ?? ''
export const CHROMIUM = process.env.KEHU_CHROMIUM ?? '/usr/bin/chromium'
export const SHOTS = process.env.KEHU_SCREENSHOT_DIR ?? path.resolve(here, '../../docs/screenshots')

if (!BASE || !USER || !PASSWORD) {
  throw new Error('KEHU_URL, KEHU_ADMIN_USER and KEHU_ADMIN_PASSWORD must be set')
}

export const DESKTOP = { width: 1366, height: 900 }
export const PHONE = { width: 390, height: 844 }

// Unique per run, so the test also passes against a server that already has data.
export const RUN = Date.now().toString(36).slice(-5).toUpperCase()
export const CUSTOMER = `张伟测试${RUN}`
export const COMPANY = '秦皇岛海港贸易有限公司'

/** Console messages Chromium prints for HTTP answers the test provokes on purpose. */
export const EXPECTED_CONSOLE = [/Failed to load resource: the server responded with a status of (400|401|403|404|409|412|422|429)\b/]

let browser
/** Problems seen in any page; checked after every test. */
export const problems = []

export function watch(page, name) {
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    const text = msg.text()
    if (EXPECTED_CONSOLE.some((re) => re.test(text))) return
    problems.push(`[${name}] console error: ${text}`)
  })
  page.on('pageerror', (err) => problems.push(`[${name}] page error: ${err.message}`))
  page.on('response', (res) => {
    if (res.status() >= 500) problems.push(`[${name}] HTTP ${res.status()} for ${res.request().method()} ${res.url()}`)
  })
  page.on('requestfailed', (req) => {
    const failure = req.failure()?.errorText ?? ''
    // Navigations away abort pending requests; that is not a fault.
    if (failure.includes('ERR_ABORTED')) return
    problems.push(`[${name}] request failed: ${req.method()} ${req.url()} ${failure}`)
  })
}

/** A phone browser, for the server a different device than the test's headless Chromium. */
export const IPHONE_UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'

export async function newPage(viewport, name, storageState, userAgent) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    isMobile: viewport.width < 500,
    hasTouch: viewport.width < 500,
    storageState,
    userAgent,
  })
  // CSP violations do not always reach the console: report them explicitly.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`)
    })
  })
  const page = await context.newPage()
  page.setDefaultTimeout(15_000)
  watch(page, name)
  return page
}

export function assertNoProblems() {
  const seen = problems.splice(0)
  assert.deepEqual(seen, [], `problems in the page:\n${seen.join('\n')}`)
}

/**
 * Saves a screenshot. A full-page one is taken by growing the viewport to the page's
 * height, so that sticky headers and footers sit where a reader expects them.
 */
export async function shot(page, file, fullPage = true) {
  fs.mkdirSync(SHOTS, { recursive: true })
  // Let transitions settle so the picture shows the page, not an animation.
  await page.waitForTimeout(400)
  const viewport = page.viewportSize()
  if (fullPage) {
    const height = await page.evaluate(() => document.documentElement.scrollHeight)
    if (height > viewport.height) {
      await page.setViewportSize({ width: viewport.width, height })
      await page.waitForTimeout(300)
    }
  }
  await page.screenshot({ path: path.join(SHOTS, file), animations: 'disabled' })
  if (fullPage) await page.setViewportSize(viewport)
}

/** The native <input> of an Element Plus input marked with data-test. */
export function input(scope, dataTest) {
  return scope.locator(`input[data-test="${dataTest}"], [data-test="${dataTest}"] input`).first()
}

export async function login(page, user = USER, password = PASSWORD) {
  await page.goto(`${BASE}/`)
  await page.waitForURL(/\/login/)
  await input(page, 'login-username').fill(user)
  await input(page, 'login-password').fill(password)
  await page.locator('[data-test="login-submit"]').click()
  await page.waitForURL(/\/customers/)
  await page.locator('h1', { hasText: '客户' }).waitFor()
}

/** Creates a few customers through the API (same session) so lists look like real use. */
export async function seedCustomers(page) {
  await page.evaluate(async (run) => {
    const me = await (await fetch('/api/v1/auth/me', { credentials: 'same-origin' })).json()
    const rows = [
      { name: `王芳${run}`, company: '杭州云栖科技有限公司', stage: 'won', source: '官网', phones: [{ number: '0571-8702 2088', label: '办公' }] },
      { name: `李强${run}`, company: '上海浦江物流有限公司', stage: 'active', source: '转介绍', phones: [{ number: '+86 139 0100 2345', label: '手机' }] },
      { name: `陈静${run}`, company: '北京朝阳文化传媒有限公司', stage: 'dormant', source: '广告', phones: [{ number: '010-6512 3456', label: '办公' }] },
    ]
    for (const body of rows) {
      const res = await fetch('/api/v1/customers?confirm_duplicate=true', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify(body),
      })
      if (res.status !== 201) throw new Error(`seeding ${body.name}: HTTP ${res.status} ${await res.text()}`)
    }
  }, RUN)
}

/** Calls the API with the page's session (CSRF header on writes); returns {status, body}. */
export async function api(page, method, url, body) {
  return page.evaluate(
    async ({ method, url, body }) => {
      const me = await (await fetch('/api/v1/auth/me', { credentials: 'same-origin' })).json()
      const res = await fetch(`/api/v1${url}`, {
        method,
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token ?? '' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : null }
    },
    { method, url, body },
  )
}

export async function pickOption(page, selectLocator, text) {
  await selectLocator.click()
  const option = page.locator('.el-select-dropdown__item:visible', { hasText: text }).first()
  await option.click()
}

/** Starts Chromium before the file's tests and closes it after; call once per test file. */
export function useBrowser() {
  before(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    })
  })

  after(async () => {
    await browser?.close()
  })
}
