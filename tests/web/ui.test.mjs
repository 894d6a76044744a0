// End-to-end test of the Kehu web UI against a running `kehu serve`.
//
//   KEHU_URL=http://127.0.0.1:18080 KEHU_ADMIN_USER=admin KEHU_ADMIN_PASSWORD=... \
//     node --test tests/web/ui.test.mjs
//
// Drives Debian's Chromium (/usr/bin/chromium, or KEHU_CHROMIUM) through playwright-core.
// Saves screenshots to docs/screenshots/ (or KEHU_SCREENSHOT_DIR). Any console error,
// uncaught page error, CSP violation or 5xx answer fails the test.

import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = path.dirname(fileURLToPath(import.meta.url))
const BASE = (process.env.KEHU_URL ?? '').replace(/\/+$/, '')
const USER = process.env.KEHU_ADMIN_USER ?? ''
const PASSWORD = process.env.KEHU_ADMIN_PASSWORD ?? ''
const CHROMIUM = process.env.KEHU_CHROMIUM ?? '/usr/bin/chromium'
const SHOTS = process.env.KEHU_SCREENSHOT_DIR ?? path.resolve(here, '../../docs/screenshots')

if (!BASE || !USER || !PASSWORD) {
  throw new Error('KEHU_URL, KEHU_ADMIN_USER and KEHU_ADMIN_PASSWORD must be set')
}

const DESKTOP = { width: 1366, height: 900 }
const PHONE = { width: 390, height: 844 }

// Unique per run, so the test also passes against a server that already has data.
const RUN = Date.now().toString(36).slice(-5).toUpperCase()
const CUSTOMER = `张伟测试${RUN}`
const COMPANY = '秦皇岛海港贸易有限公司'

/** Console messages Chromium prints for HTTP answers the test provokes on purpose. */
const EXPECTED_CONSOLE = [/Failed to load resource: the server responded with a status of (400|401|404|409|412|422)\b/]

let browser
/** Problems seen in any page; checked after every test. */
const problems = []

function watch(page, name) {
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

async function newPage(viewport, name, storageState) {
  const context = await browser.newContext({
    viewport,
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    isMobile: viewport.width < 500,
    hasTouch: viewport.width < 500,
    storageState,
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

function assertNoProblems() {
  const seen = problems.splice(0)
  assert.deepEqual(seen, [], `problems in the page:\n${seen.join('\n')}`)
}

/**
 * Saves a screenshot. A full-page one is taken by growing the viewport to the page's
 * height, so that sticky headers and footers sit where a reader expects them.
 */
async function shot(page, file, fullPage = true) {
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
function input(scope, dataTest) {
  return scope.locator(`input[data-test="${dataTest}"], [data-test="${dataTest}"] input`).first()
}

async function login(page) {
  await page.goto(`${BASE}/`)
  await page.waitForURL(/\/login/)
  await input(page, 'login-username').fill(USER)
  await input(page, 'login-password').fill(PASSWORD)
  await page.locator('[data-test="login-submit"]').click()
  await page.waitForURL(/\/customers/)
  await page.locator('h1', { hasText: '客户' }).waitFor()
}

/** Creates a few customers through the API (same session) so lists look like real use. */
async function seedCustomers(page) {
  await page.evaluate(async (run) => {
    const me = await (await fetch('/api/v1/auth/me', { credentials: 'same-origin' })).json()
    const rows = [
      { name: `王芳${run}`, company: '杭州云栖科技有限公司', stage: 'won', source: '官网', phones: [{ number: '0571-8702 2088', label: '办公' }] },
      { name: `李强${run}`, company: '上海浦江物流有限公司', stage: 'active', source: '转介绍', phones: [{ number: '+86 139 0100 2345', label: '手机' }] },
      { name: `陈静${run}`, company: '北京朝阳文化传媒有限公司', stage: 'dormant', source: '广告', phones: [{ number: '010-6512 3456', label: '办公' }] },
    ]
    for (const body of rows) {
      const res = await fetch('/api/v1/customers', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
        body: JSON.stringify(body),
      })
      if (res.status !== 201) throw new Error(`seeding ${body.name}: HTTP ${res.status} ${await res.text()}`)
    }
  }, RUN)
}

async function pickOption(page, selectLocator, text) {
  await selectLocator.click()
  const option = page.locator('.el-select-dropdown__item:visible', { hasText: text }).first()
  await option.click()
}

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

let desktopState
let customerPath = ''

test('login page: wrong password shows 用户名或密码错误, then the right one signs in', async () => {
  const page = await newPage(DESKTOP, 'login')
  await page.goto(`${BASE}/customers`)
  await page.waitForURL(/\/login\?redirect=/)
  await shot(page, 'login-desktop.png', false)

  await input(page, 'login-username').fill(USER)
  await input(page, 'login-password').fill(`${PASSWORD}-wrong`)
  await page.locator('[data-test="login-submit"]').click()
  await page.locator('[data-test="login-error"]', { hasText: '用户名或密码错误' }).waitFor()

  await input(page, 'login-password').fill(PASSWORD)
  await page.locator('[data-test="login-submit"]').click()
  await page.waitForURL(/\/customers$/)
  await page.locator('[data-test="user-menu"]').waitFor()
  desktopState = await page.context().storageState()
  await page.context().close()
  assertNoProblems()
})

test('create a customer with messy numbers; the detail shows them normalised', async () => {
  const page = await newPage(DESKTOP, 'create')
  await login(page)
  await seedCustomers(page)

  await page.locator('[data-test="new-customer"]').click()
  await page.waitForURL(/\/customers\/new$/)
  await input(page, 'input-name').fill(CUSTOMER)
  await input(page, 'input-company').fill(COMPANY)

  const row0 = page.locator('[data-test="phone-row-0"]')
  await input(row0, 'phone-number').fill('＋86 138-0013-8000')
  await page.locator('[data-test="add-phone"]').click()
  const row1 = page.locator('[data-test="phone-row-1"]')
  await input(row1, 'phone-number').fill('0335-3051234 转 12')
  await pickOption(page, row1.locator('[data-test="phone-label"]'), '办公')
  await input(page, 'input-name').click() // leave the phone input: the number is checked
  await shot(page, 'customer-form-desktop.png')

  await page.locator('[data-test="save-customer"]').click()
  await page.waitForURL(/\/customers\/\d+$/)
  customerPath = new URL(page.url()).pathname

  await page.locator('[data-test="customer-name"]', { hasText: CUSTOMER }).waitFor()
  const phones = page.locator('[data-test="phone-list"]')
  await phones.locator('[data-test="phone-display"]', { hasText: '138 0013 8000' }).waitFor()
  await phones.locator('[data-test="phone-region"]', { hasText: '河北省秦皇岛市' }).waitFor()
  const fixed = phones.locator('[data-test="phone-card"]', { hasText: '河北省秦皇岛市' })
  assert.match(await fixed.locator('[data-test="phone-display"]').innerText(), /0335/)
  assert.match(await fixed.innerText(), /12/, 'the extension is shown')
  await shot(page, 'customer-detail-desktop.png')
  await page.context().close()
  assertNoProblems()
})

test('the list finds the customer by name and by the last 4 digits, with the normalised number', async () => {
  const page = await newPage(DESKTOP, 'list', desktopState)
  await page.goto(`${BASE}/customers`)
  const table = page.locator('[data-test="customer-table"]')
  await table.getByText(CUSTOMER).waitFor()
  const row = table.locator('.el-table__row', { hasText: CUSTOMER })
  await row.locator('[data-test="phone-display"]', { hasText: '138 0013 8000' }).waitFor()
  await shot(page, 'customers-desktop.png', false)

  // Search answers replace the rows: wait for the answer, then look.
  const searched = (q) =>
    page.waitForResponse((r) => r.url().includes('/api/v1/customers?') && new URL(r.url()).searchParams.get('q') === q)
  let answer = searched('8000')
  await input(page, 'customer-search').fill('8000')
  assert.equal((await answer).status(), 200)
  await table.locator('.el-table__row', { hasText: CUSTOMER }).waitFor()
  assert.equal(await table.locator('.el-table__row', { hasText: `王芳${RUN}` }).count(), 0, 'the last 4 digits narrow the list')

  answer = searched(CUSTOMER)
  await input(page, 'customer-search').fill(CUSTOMER)
  assert.equal((await answer).status(), 200)
  await page.waitForURL(/q=/)
  assert.equal(await table.locator('.el-table__row').count(), 1, 'the name finds exactly this customer')
  await table.locator('.el-table__row', { hasText: CUSTOMER }).click()
  await page.waitForURL(new RegExp(`${customerPath}$`))
  await page.context().close()
  assertNoProblems()
})

test('an invalid number gets its error next to the phone input', async () => {
  const page = await newPage(DESKTOP, 'invalid', desktopState)
  await page.goto(`${BASE}/customers/new`)
  await input(page, 'input-name').fill(`无效号码${RUN}`)
  const row0 = page.locator('[data-test="phone-row-0"]')
  await input(row0, 'phone-number').fill('12345')
  await page.locator('[data-test="save-customer"]').click()
  const err = row0.locator('[data-test="phone-error"]')
  await err.waitFor()
  const text = (await err.innerText()).trim()
  assert.ok(text.length > 0, 'the phone row shows an error text')
  assert.doesNotMatch(text, /^[a-z_]+$/, `the error is translated, not a bare code: ${text}`)
  assert.match(page.url(), /\/customers\/new$/, 'nothing was saved')
  await page.context().close()
  assertNoProblems()
})

test('phone width: list as cards, detail, and the form with a phone error', async () => {
  const page = await newPage(PHONE, 'phone', desktopState)
  await page.goto(`${BASE}/customers`)
  const cards = page.locator('[data-test="customer-cards"]')
  await cards.getByText(CUSTOMER).waitFor()
  await cards.locator('[data-test="phone-display"]', { hasText: '138 0013 8000' }).first().waitFor()
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `the list fits 390 px (overflows by ${overflow} px)`)
  await shot(page, 'customers-phone.png', false)

  await page.locator('[data-test="menu-toggle"]').click()
  await page.locator('.menu-drawer [data-test="menu-recycle-bin"]').waitFor()
  await shot(page, 'menu-phone.png', false)
  await page.keyboard.press('Escape')
  await page.locator('.menu-drawer').waitFor({ state: 'hidden' })

  await page.goto(`${BASE}${customerPath}`)
  await page.locator('[data-test="phone-region"]', { hasText: '河北省秦皇岛市' }).waitFor()
  await shot(page, 'customer-detail-phone.png')

  await page.goto(`${BASE}/customers/new`)
  await input(page, 'input-name').fill(`无效号码${RUN}`)
  const row0 = page.locator('[data-test="phone-row-0"]')
  await input(row0, 'phone-number').fill('12345')
  await page.locator('[data-test="save-customer"]').click()
  await row0.locator('[data-test="phone-error"]').waitFor()
  await page.evaluate(() => document.querySelector('[data-test="phone-row-0"]')?.scrollIntoView({ block: 'center' }))
  await shot(page, 'customer-form-phone.png', false)
  await page.context().close()
  assertNoProblems()
})

test('language switch to English is remembered across a reload', async () => {
  const page = await newPage(DESKTOP, 'i18n', desktopState)
  await page.goto(`${BASE}/customers`)
  await page.locator('h1', { hasText: '客户' }).waitFor()
  await page.locator('.header [data-test="lang-switch"]').click()
  await page.locator('[data-test="lang-en"]:visible').click()
  await page.locator('h1', { hasText: 'Customers' }).waitFor()
  await page.reload()
  await page.locator('h1', { hasText: 'Customers' }).waitFor()
  assert.equal(await page.evaluate(() => document.documentElement.lang), 'en')
  await shot(page, 'customers-desktop-en.png', false)
  await page.context().close()
  assertNoProblems()
})

test('custom fields: an admin adds a select field, the form offers it, then deletes it', async () => {
  const page = await newPage(DESKTOP, 'fields', desktopState)
  const name = `e2e_${RUN.toLowerCase()}`
  const label = `行业${RUN}`
  await page.goto(`${BASE}/fields`)
  await page.locator('[data-test="add-field"]').click()
  const dialog = page.locator('.el-dialog:visible')
  await input(dialog, 'field-label').fill(label)
  await input(dialog, 'field-name').fill(name)
  await pickOption(page, dialog.locator('[data-test="field-type"]'), '单选')
  const options = input(dialog, 'field-options')
  for (const o of ['外贸', '制造']) {
    await options.pressSequentially(o) // typed, as a person would: each Enter adds a tag
    await options.press('Enter')
  }
  await dialog.locator('[data-test="field-submit"]').click()
  await dialog.waitFor({ state: 'hidden' })
  const row = page.locator('.el-table__row', { hasText: name })
  await row.getByText('外贸').waitFor()

  await page.goto(`${BASE}/customers/new`)
  await page.locator('[data-test="custom-section"]').getByText(label).waitFor()

  await page.goto(`${BASE}/fields`)
  await page.locator('.el-table__row', { hasText: name }).locator('[data-test="delete-field"]').click()
  await page.locator('.el-message-box .el-button--danger').click()
  await page.locator('.el-table__row', { hasText: name }).waitFor({ state: 'detached' })
  await page.context().close()
  assertNoProblems()
})

test('API tokens: the secret is shown once with a copy button, and the token can be deleted', async () => {
  const page = await newPage(DESKTOP, 'tokens', desktopState)
  const name = `ERP 同步 ${RUN}`
  await page.goto(`${BASE}/tokens`)
  await page.locator('[data-test="create-token"]').click()
  await input(page, 'token-name').fill(name)
  await page.locator('[data-test="token-submit"]').click()
  const secret = await input(page, 'token-secret').inputValue()
  assert.match(secret, /^kehu_/, 'the token is shown')
  await page.locator('[data-test="copy-token"]').waitFor()
  await page.locator('.el-dialog:visible .el-dialog__footer .el-button').click()
  const row = page.locator('.el-table__row', { hasText: name })
  await row.waitFor()
  assert.equal(await page.getByText(secret).count(), 0, 'the secret is gone once the dialog is closed')
  await row.locator('[data-test="delete-token"]').click()
  await page.locator('.el-message-box .el-button--danger').click()
  await row.waitFor({ state: 'detached' })
  await page.context().close()
  assertNoProblems()
})

test('delete moves the customer to the recycle bin, and restore brings it back', async () => {
  const page = await newPage(DESKTOP, 'recycle', desktopState)
  await page.goto(`${BASE}${customerPath}`)
  await page.locator('[data-test="delete-customer"]').click()
  await page.locator('.el-message-box .el-button--danger').click()
  await page.waitForURL(/\/customers$/)

  await page.goto(`${BASE}/recycle-bin`)
  const row = page.locator('[data-test="recycle-table"] .el-table__row', { hasText: CUSTOMER })
  await row.waitFor()
  await shot(page, 'recycle-bin-desktop.png', false)
  await row.locator('[data-test="restore"]').click()
  await page.locator('.el-message-box .el-button--primary').click()
  await row.waitFor({ state: 'detached' })

  await page.goto(`${BASE}${customerPath}`)
  await page.locator('[data-test="customer-name"]', { hasText: CUSTOMER }).waitFor()
  await page.context().close()
  assertNoProblems()
})
