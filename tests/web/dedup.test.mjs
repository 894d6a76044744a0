// Duplicates in the web UI: the customer form points out a same-number customer and saves
// only after 仍然保存; the 重复客户 page lists a planted group side by side.
//
// Run by tests/web/run.sh with the other web tests (one server for all of them).

import { test } from 'node:test'
import assert from 'node:assert/strict'

import { BASE, DESKTOP, PHONE, RUN, newPage, assertNoProblems, shot, input, login, api, useBrowser } from './lib.mjs'

useBrowser()

// Numbers of this run only: other test files use other ones.
const stamp = String(Date.now()).slice(-8)
const MOBILE = `158${stamp}`
const OTHER = `159${stamp}`

test('the form points out a customer with the same number, and 仍然保存 saves', async () => {
  const page = await newPage(DESKTOP, 'dedup-form')
  await login(page)
  const first = await api(page, 'POST', '/customers', {
    name: `赵敏${RUN}`,
    company: '秦皇岛海港贸易有限公司',
    phones: [{ number: MOBILE, label: '手机' }],
  })
  assert.equal(first.status, 201, JSON.stringify(first.body))

  await page.goto(`${BASE}/customers/new`)
  await input(page, 'input-name').fill(`趙敏${RUN}`)
  const row0 = page.locator('[data-test="phone-row-0"]')
  await input(row0, 'phone-number').fill(`+86 ${MOBILE.slice(0, 3)}-${MOBILE.slice(3, 7)}-${MOBILE.slice(7)}`)
  await input(page, 'input-name').click()
  const refused = page.waitForResponse((r) => r.url().endsWith('/api/v1/customers') && r.request().method() === 'POST')
  await page.locator('[data-test="save-customer"]').click()
  assert.equal((await refused).status(), 409)

  const warning = page.locator('[data-test="duplicate-warning"]')
  await warning.waitFor()
  const match = warning.locator('[data-test="duplicate-match"]')
  assert.equal(await match.count(), 1)
  assert.match(await match.innerText(), new RegExp(`赵敏${RUN}`))
  assert.match(await match.innerText(), new RegExp(`${MOBILE.slice(0, 3)}\\*+${MOBILE.slice(-4)}`), 'the number is masked')
  assert.ok(!(await warning.innerText()).includes(MOBILE), 'the clear number is not shown')
  assert.match(await warning.innerText(), /可能是同一人/)
  assert.match(await row0.innerText(), /其他客户已登记此号码或邮箱/)
  assert.match(page.url(), /\/customers\/new$/, 'nothing saved yet')
  await shot(page, 'customer-duplicate-desktop.png')

  const saved = page.waitForResponse((r) => r.url().includes('/api/v1/customers?confirm_duplicate=true'))
  await page.locator('[data-test="save-anyway"]').click()
  assert.equal((await saved).status(), 201)
  await page.waitForURL(/\/customers\/\d+$/)
  const both = await api(page, 'GET', `/customers?q=${MOBILE}`)
  assert.equal(both.body.items.length, 2, JSON.stringify(both.body))
  await page.context().close()
  assertNoProblems()
})

test('重复客户 lists a planted group side by side, not the namesakes; it fits a phone', async () => {
  const page = await newPage(DESKTOP, 'dedup-page')
  await login(page)
  const planted = [
    { name: '孙悦', company: '杭州云栖科技有限公司', city: '杭州', phones: [{ number: OTHER }], emails: [{ address: `sunyue${stamp}@example.com` }] },
    { name: 'Sun Yue', company: '云栖科技（杭州）', city: '杭州市', phones: [{ number: `+86 ${OTHER}` }] },
    { name: '孫悅', emails: [{ address: `SunYue${stamp}@example.com` }] },
    // Namesakes: a common name in two other places.
    { name: '王芳', company: '东方贸易有限公司', city: '成都', phones: [{ number: `137${stamp}` }] },
    { name: '王芳', company: '恒达机械有限公司', city: '西安', phones: [{ number: `136${stamp}` }] },
  ]
  const ids = []
  for (const body of planted) {
    const res = await api(page, 'POST', '/customers?confirm_duplicate=true', body)
    assert.equal(res.status, 201, JSON.stringify(res.body))
    ids.push(res.body.id)
  }

  await page.locator('[data-test="menu-duplicates"]').click()
  await page.waitForURL(/\/duplicates$/)
  await page.locator('h1', { hasText: '重复客户' }).waitFor()
  await page.locator('[data-test="scan-summary"]').waitFor()
  const group = page.locator('[data-test="duplicate-group"]', { hasText: 'Sun Yue' })
  await group.waitFor()
  const members = group.locator('[data-test="duplicate-member"]')
  assert.equal(await members.count(), 3)
  const text = await group.innerText()
  for (const name of ['孙悦', 'Sun Yue', '孫悅']) assert.ok(text.includes(name), `${name} in ${text}`)
  for (const reason of ['手机号相同', '邮箱相同', '姓名拼音相同']) assert.ok(text.includes(reason), `${reason} in ${text}`)
  assert.ok(!text.includes(OTHER), 'numbers are masked')
  // Side by side on a desktop: the members' boxes share a row.
  const boxes = await members.evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top))
  assert.equal(new Set(boxes.map(Math.round)).size, 1, `members on one row: ${boxes}`)
  const scan = await api(page, 'POST', '/duplicates/scan', { limit: 5000 })
  assert.ok(!scan.body.groups.some((g) => g.members.some((m) => m.id === ids[3]) && g.members.some((m) => m.id === ids[4])),
    'the two 王芳 are not grouped')
  await group.scrollIntoViewIfNeeded()
  await shot(page, 'duplicates-desktop.png')
  const state = await page.context().storageState()
  await page.context().close()

  const phone = await newPage(PHONE, 'dedup-phone', state)
  await phone.goto(`${BASE}/duplicates`)
  const pgroup = phone.locator('[data-test="duplicate-group"]', { hasText: 'Sun Yue' })
  await pgroup.waitFor()
  const width = await phone.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= PHONE.width, `no sideways scrolling at 390 px (scrollWidth ${width})`)
  const tops = await pgroup.locator('[data-test="duplicate-member"]').evaluateAll((els) => els.map((e) => e.getBoundingClientRect().top))
  assert.equal(new Set(tops.map(Math.round)).size, 3, 'members one above the other on a phone')
  await shot(phone, 'duplicates-phone.png', false)
  await phone.context().close()
  assertNoProblems()
})
