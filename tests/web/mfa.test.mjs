// Two-step verification in the web UI: enrolment on 我的安全 (QR code, secret, first code,
// recovery codes), the code step of the login page (wrong code, right code, recovery code,
// at 390 px too), a role that requires MFA sending its user to enrol, the roles page switch,
// and the users page's status and reset. The codes are computed here (RFC 6238, node:crypto).
// Uses its own users and role; the admin account other tests use never gets MFA.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import fs from 'node:fs'

import { BASE, DESKTOP, PHONE, RUN, IPHONE_UA, newPage, assertNoProblems, shot, input, login, api, useBrowser } from './lib.mjs'

useBrowser()

const MFA_USER = `mfa_${RUN.toLowerCase()}`
const FORCED_USER = `mfa_forced_${RUN.toLowerCase()}`
const ROLE_KEY = `mfa_role_${RUN.toLowerCase()}`
const MFA_PASSWORD = 'violet-harbor-lamp-47'

// --- RFC 6238 (HMAC-SHA-1, 30 s, 6 digits) -----------------------------------------------------

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
function base32Decode(text) {
  let bits = 0
  let value = 0
  const out = []
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = BASE32.indexOf(ch)
    if (v < 0) throw new Error(`not base32: ${ch}`)
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff)
      bits -= 8
    }
  }
  return Buffer.from(out)
}
function totp(key, unixSeconds) {
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)))
  const mac = createHmac('sha1', key).update(counter).digest()
  const o = mac[mac.length - 1] & 0x0f
  const bin = ((mac[o] & 0x7f) << 24) | (mac[o + 1] << 16) | (mac[o + 2] << 8) | mac[o + 3]
  return String(bin % 1_000_000).padStart(6, '0')
}
// The RFC's own vector, so a broken helper fails here rather than as a confusing UI error.
assert.equal(totp(Buffer.from('12345678901234567890'), 59), '287082')

const stepNow = () => Math.floor(Date.now() / 30_000)
/** Waits while the current step has under 6 s left; returns the step. */
async function freshStep() {
  while (30 - ((Date.now() / 1000) % 30) < 6) await new Promise((r) => setTimeout(r, 500))
  return stepNow()
}

/** Codes each user has used: the server takes every code once, so each login needs a new one. */
const lastStep = new Map()
/** A code the server has not seen: this step's, or the next one's (one step of skew is fine). */
async function nextCode(user, secret) {
  const now = await freshStep()
  const step = Math.max(now, (lastStep.get(user) ?? -1) + 1)
  assert.ok(step <= now + 1, 'more than one new code per 30 s asked for')
  lastStep.set(user, step)
  return totp(base32Decode(secret), step * 30)
}

// --- shared state and helpers -------------------------------------------------------------------

let secret = ''
let recovery = []

async function adminApi(method, url, body) {
  const admin = await newPage(DESKTOP, 'mfa-admin-api')
  await login(admin)
  const res = await api(admin, method, url, body)
  await admin.context().close()
  return res
}

async function logout(page) {
  await page.locator('[data-test="user-menu"]').click()
  await page.locator('[data-test="logout"]:visible').click()
  await page.waitForURL(/\/login/)
}

/** Fills the password step; the page then shows the code step. */
async function passwordStep(page, user) {
  await page.goto(`${BASE}/login`)
  await input(page, 'login-username').fill(user)
  await input(page, 'login-password').fill(MFA_PASSWORD)
  await page.locator('[data-test="login-submit"]').click()
  await page.locator('[data-test="mfa-login-form"]').waitFor()
}

async function submitCode(page, code) {
  await input(page, 'mfa-login-code').fill(code)
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login/mfa')),
    page.locator('[data-test="mfa-login-submit"]').click(),
  ])
  return res.status()
}

/** Enrols on the open 我的安全 page; returns the secret and the recovery codes shown. */
async function enrolOnPage(page, user, screenshot) {
  const card = page.locator('[data-test="mfa-card"]')
  await card.locator('[data-test="mfa-start"]').click()
  const qr = card.locator('[data-test="mfa-qr"]')
  await qr.waitFor()
  // The QR code is an SVG data: image: it must really load under the CSP.
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await qr.elementHandle())
  const src = await qr.getAttribute('src')
  assert.match(src, /^data:image\/svg\+xml/)
  const shown = (await card.locator('[data-test="mfa-secret"]').innerText()).replace(/\s+/g, '')
  assert.match(shown, /^[A-Z2-7]{32}$/)
  if (screenshot) await shot(page, screenshot)

  const confirm = async (code) => {
    await input(card, 'mfa-code').fill(code)
    const [res] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/mfa/confirm')),
      card.locator('[data-test="mfa-confirm"]').click(),
    ])
    return res.status()
  }
  const good = await nextCode(user, shown)
  const bad = String((Number(good) + 500_000) % 1_000_000).padStart(6, '0')
  assert.equal(await confirm(bad), 422)
  await card.locator('[data-test="mfa-code-error"]', { hasText: '验证码不正确' }).waitFor()
  assert.equal(await confirm(good), 200)

  const list = card.locator('[data-test="mfa-recovery-codes"] li')
  await list.first().waitFor()
  const codes = (await list.allInnerTexts()).map((x) => x.trim())
  assert.equal(codes.length, 10)
  for (const c of codes) assert.match(c, /^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$/)
  return { secret: shown, codes, card }
}

// --- tests --------------------------------------------------------------------------------------

test('a new user turns on two-step verification on 我的安全 and keeps the recovery codes', async () => {
  const created = await adminApi('POST', '/users', { username: MFA_USER, password: MFA_PASSWORD, display_name: `两步${RUN}`, role: 'sales' })
  assert.equal(created.status, 201, JSON.stringify(created.body))

  const page = await newPage(DESKTOP, 'mfa-enrol')
  await login(page, MFA_USER, MFA_PASSWORD)
  await page.goto(`${BASE}/security`)
  const status = page.locator('[data-test="mfa-card"] [data-test="mfa-status"]')
  await status.filter({ hasText: '未开启' }).waitFor()

  const r = await enrolOnPage(page, MFA_USER, 'mfa-enroll-desktop.png')
  secret = r.secret
  recovery = r.codes
  const card = r.card
  // Download the codes as a text file.
  const [download] = await Promise.all([page.waitForEvent('download'), card.locator('[data-test="mfa-download-codes"]').click()])
  assert.match(download.suggestedFilename(), new RegExp(`^kehu-recovery-codes-${MFA_USER}\\.txt$`))
  const text = fs.readFileSync(await download.path(), 'utf8')
  for (const c of recovery) assert.ok(text.includes(c), `${c} missing from the file`)

  // 完成 only once the user says the codes are saved; then they are gone from the page.
  const done = card.locator('[data-test="mfa-done"]')
  assert.equal(await done.isDisabled(), true)
  await card.locator('[data-test="mfa-saved"]').click()
  await done.click()
  await status.filter({ hasText: '已开启' }).waitFor()
  await card.locator('[data-test="mfa-codes-left"]', { hasText: '剩余恢复码 10 个' }).waitFor()
  assert.equal(await card.locator('[data-test="mfa-recovery-codes"]').count(), 0)
  const me = await api(page, 'GET', '/auth/me')
  assert.equal(me.body.user.mfa_enabled, true)
  await logout(page)
  await page.context().close()
  assertNoProblems()
})

test('signing in then asks for the code: a wrong one gets a clear message, the right one signs in', async () => {
  assert.ok(secret, 'the enrolment test ran first')
  const page = await newPage(DESKTOP, 'mfa-login')
  await passwordStep(page, MFA_USER)
  await page.locator('[data-test="mfa-login-hint"]', { hasText: '6 位验证码' }).waitFor()
  assert.match(page.url(), /\/login/, 'no session before the code')

  const good = await nextCode(MFA_USER, secret)
  const wrong = String((Number(good) + 123_457) % 1_000_000).padStart(6, '0')
  assert.equal(await submitCode(page, wrong), 401)
  await page.locator('[data-test="login-error"]', { hasText: '验证码不正确' }).waitFor()
  // Five digits are caught before anything is sent.
  await input(page, 'mfa-login-code').fill('12345')
  await page.locator('[data-test="mfa-login-submit"]').click()
  await page.locator('[data-test="login-error"]', { hasText: '验证码是 6 位数字' }).waitFor()

  assert.equal(await submitCode(page, good), 200)
  await page.waitForURL(/\/customers/)
  await page.locator('h1', { hasText: '客户' }).waitFor()
  await logout(page)
  await page.context().close()
  assertNoProblems()
})

test('on a phone (390 px), a recovery code signs in once', async () => {
  const page = await newPage(PHONE, 'mfa-phone', undefined, IPHONE_UA)
  await passwordStep(page, MFA_USER)
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
  assert.ok(overflow <= 0, `the code step overflows by ${overflow}px`)
  await shot(page, 'mfa-login-phone.png')

  await page.locator('[data-test="mfa-use-recovery"]').click()
  await page.locator('[data-test="mfa-login-hint"]', { hasText: '恢复码' }).waitFor()
  assert.equal(await submitCode(page, recovery[0]), 200)
  await page.waitForURL(/\/customers/)
  const left = await api(page, 'GET', '/auth/mfa')
  assert.equal(left.body.recovery_codes_left, 9)
  assert.equal((await api(page, 'POST', '/auth/logout')).status, 204)

  // The same code again is refused.
  await passwordStep(page, MFA_USER)
  await page.locator('[data-test="mfa-use-recovery"]').click()
  assert.equal(await submitCode(page, recovery[0]), 401)
  await page.locator('[data-test="login-error"]', { hasText: '恢复码不正确或已经用过' }).waitFor()
  await page.context().close()
  assertNoProblems()
})

test('a role that requires two-step verification sends its user to enrol first; the roles page shows the switch', async () => {
  const role = await adminApi('POST', '/roles', {
    key: ROLE_KEY, name: `两步角色${RUN}`, permissions: ['customer.read'], scope: 'own', reveal_quota: 0,
  })
  assert.equal(role.status, 201, JSON.stringify(role.body))
  assert.equal(role.body.mfa_required, false)

  // The admin turns the requirement on in the matrix and saves (PATCH with If-Match).
  const admin = await newPage(DESKTOP, 'mfa-roles')
  await login(admin)
  await admin.goto(`${BASE}/admin/roles`)
  const toggle = admin.locator(`[data-test="mfa-required-${ROLE_KEY}"]`)
  await toggle.waitFor()
  assert.equal(await toggle.evaluate((el) => el.classList.contains('is-checked')), false)
  await toggle.click()
  const [patch] = await Promise.all([
    admin.waitForResponse((r) => r.request().method() === 'PATCH' && /\/api\/v1\/roles\/\d+$/.test(r.url())),
    admin.locator(`[data-test="save-role-${ROLE_KEY}"]`).click(),
  ])
  assert.equal(patch.status(), 200)
  assert.deepEqual(JSON.parse(patch.request().postData()), { mfa_required: true })
  assert.ok(patch.request().headers()['if-match'], 'If-Match sent')
  await admin.reload()
  await admin.locator(`[data-test="mfa-required-${ROLE_KEY}"].is-checked`).waitFor()
  const user = await api(admin, 'POST', '/users', { username: FORCED_USER, password: MFA_PASSWORD, role: ROLE_KEY })
  assert.equal(user.status, 201)

  // Its user signs in with the password and lands on 我的安全, where only enrolling is possible.
  const page = await newPage(DESKTOP, 'mfa-forced')
  await page.goto(`${BASE}/login`)
  await input(page, 'login-username').fill(FORCED_USER)
  await input(page, 'login-password').fill(MFA_PASSWORD)
  await page.locator('[data-test="login-submit"]').click()
  await page.waitForURL(/\/security$/)
  await page.locator('[data-test="mfa-required-alert"]').waitFor()
  assert.equal(await page.locator('[data-test="password-card"]').count(), 0)
  const blocked = await api(page, 'GET', '/customers')
  assert.equal(blocked.status, 403)
  assert.equal(blocked.body.errors[0].code, 'mfa/enrollment_required')
  await page.goto(`${BASE}/customers`)
  await page.waitForURL(/\/security$/)

  const { card } = await enrolOnPage(page, FORCED_USER)
  // The codes stay on screen while the rest of the page appears.
  await page.locator('[data-test="password-card"]').waitFor()
  await card.locator('[data-test="mfa-saved"]').click()
  await card.locator('[data-test="mfa-done"]').click()
  await card.locator('[data-test="mfa-status"]', { hasText: '已开启' }).waitFor()
  // Required by the role: no 关闭 button.
  assert.equal(await card.locator('[data-test="mfa-disable"]').count(), 0)
  await page.goto(`${BASE}/customers`)
  await page.locator('h1', { hasText: '客户' }).waitFor()
  await page.context().close()

  // Users page: the status, and the reset (a lost phone).
  await admin.goto(`${BASE}/admin/users`)
  const row = admin.locator('[data-test="users-table"] .el-table__row', { hasText: FORCED_USER })
  await row.locator('[data-test="user-mfa-on"]').waitFor()
  await row.locator('[data-test="user-mfa-reset"]').click()
  const [reset] = await Promise.all([
    admin.waitForResponse((r) => r.request().method() === 'DELETE' && /\/api\/v1\/users\/\d+\/mfa$/.test(r.url())),
    admin.locator('.el-message-box__btns .el-button--danger').click(),
  ])
  assert.equal(reset.status(), 200)
  await row.locator('[data-test="user-mfa-off"]').waitFor()
  const audit = await api(admin, 'GET', '/audit?action=auth.mfa_reset')
  assert.ok(audit.body.items.length >= 1)
  await admin.context().close()
  assertNoProblems()
})
