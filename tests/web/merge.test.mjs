// Merging in the web UI: the 重复客户 review queue opens a group side by side, a field's value
// is picked, 合并 merges (every phone, email and tag kept), 合并记录 lists it and 撤销合并
// takes it back; a merged-away customer's page links to the survivor, and the recycle bin
// shows it as merged with a link to the merge records; on a phone the
// comparison fits 390 px; the administrators' bulk button shows the dry-run count first.
//
// Run by tests/web/run.sh with the other web tests (one server for all of them): uses its own
// customers and leaves them unmerged; the bulk merge is only opened and cancelled.

import { test } from 'node:test'
import assert from 'node:assert/strict'

import { BASE, DESKTOP, PHONE, RUN, newPage, assertNoProblems, shot, login, api, useBrowser } from './lib.mjs'

useBrowser()

const stamp = String(Date.now()).slice(-8)
const MOBILE = `135${stamp}`
const NAME = `李娜${RUN}`

test('a group is compared side by side, merged with a chosen value, and the merge undone', async () => {
  const page = await newPage(DESKTOP, 'merge')
  await login(page)
  const a = await api(page, 'POST', '/customers', {
    name: NAME, company: '宁波港通物流有限公司', phones: [{ number: MOBILE, label: '手机' }], tags: ['VIP'],
  })
  assert.equal(a.status, 201, JSON.stringify(a.body))
  const b = await api(page, 'POST', '/customers?confirm_duplicate=true', {
    name: NAME, company: '港通物流', city: '宁波', phones: [{ number: `+86 ${MOBILE}` }, { number: '0574-8765 4321', label: '办公' }],
    emails: [{ address: `lina${stamp}@example.com` }], tags: ['展会'],
  })
  assert.equal(b.status, 201, JSON.stringify(b.body))
  const [A, B] = [a.body.id, b.body.id]

  await page.goto(`${BASE}/duplicates`)
  const group = page.locator('[data-test="duplicate-group"]', { hasText: NAME })
  await group.waitFor()
  await group.locator('[data-test="open-merge"]').click()
  const dialog = page.locator('.el-dialog', { has: page.locator('[data-test="merge-compare"]') })
  await dialog.locator('[data-test="merge-compare"]').waitFor()
  // The more complete one (city, email, two numbers) is suggested; its company is the default.
  assert.ok(await dialog.locator(`[data-test="survivor-${B}"] input`).isChecked(), 'B suggested as survivor')
  const company = dialog.locator('tr[data-field="company"]')
  assert.ok(await company.locator(`[data-test="choice-company-${B}"] input`).isChecked())
  await company.locator(`[data-test="choice-company-${A}"]`).click()
  assert.ok(await company.locator(`[data-test="choice-company-${A}"] input`).isChecked())
  const kept = await dialog.locator('[data-test="merge-kept"]').innerText()
  assert.ok(kept.includes('VIP') && kept.includes('展会'), kept)
  assert.ok(!kept.includes(MOBILE), 'numbers masked in the comparison')
  await shot(page, 'merge-compare-desktop.png', false)

  const merged = page.waitForResponse((r) => r.url().endsWith('/api/v1/merges') && r.request().method() === 'POST')
  await dialog.locator('[data-test="merge-submit"]').click()
  const res = await merged
  assert.equal(res.status(), 201)
  const record = await res.json()
  assert.equal(record.survivor_id, B)
  await dialog.waitFor({ state: 'hidden' })

  const survivor = (await api(page, 'GET', `/customers/${B}`)).body
  assert.equal(survivor.company, '宁波港通物流有限公司', 'the chosen value')
  assert.equal(survivor.phones.length, 2)
  assert.deepEqual([...survivor.tags].sort(), ['VIP', '展会'].sort())
  assert.equal((await api(page, 'GET', `/customers/${A}`)).status, 404)

  // The merged-away customer's page says where it went.
  await page.goto(`${BASE}/customers/${A}`)
  const moved = page.locator('[data-test="merged-into"]')
  await moved.waitFor()
  assert.match(await moved.innerText(), /已合并/)
  await shot(page, 'merge-merged-into-desktop.png', false)
  await moved.locator('button').click()
  await page.waitForURL(new RegExp(`/customers/${B}$`))
  await page.locator('h1, .hero', { hasText: NAME }).first().waitFor()
  // Its history includes the merged customer's entries.
  const history = page.locator('[data-test="customer-history"]')
  await history.locator('li[data-action="customer.merge"]').waitFor()
  assert.match(await history.innerText(), new RegExp(`来自被合并的客户 #${A}`))
  await history.scrollIntoViewIfNeeded()
  await shot(page, 'merge-survivor-history-desktop.png', false)

  // The recycle bin says A was merged into B, and leads to the merge records to undo it.
  await page.goto(`${BASE}/recycle-bin`)
  const binRow = page.locator('[data-test="recycle-table"] .el-table__row', { hasText: NAME })
  const inBin = binRow.locator('[data-test="merged"]')
  await inBin.waitFor()
  assert.match(await inBin.innerText(), new RegExp(`已合并到客户 #${B}`))
  assert.equal(await binRow.locator('[data-test="restore"]').count(), 0, 'no restore button for a merged customer')
  await shot(page, 'recycle-bin-merged-desktop.png', false)

  // 合并记录: undo.
  await inBin.locator('a', { hasText: '撤销合并' }).click()
  await page.waitForURL(/\/duplicates\?tab=history$/)
  const row = page.locator(`[data-test="merge-record"][data-merge="${record.id}"]`)
  await row.waitFor()
  assert.match(await row.innerText(), new RegExp(NAME))
  await shot(page, 'merge-history-desktop.png', false)
  await row.locator('[data-test="merge-undo"]').click()
  const undone = page.waitForResponse((r) => r.url().endsWith(`/api/v1/merges/${record.id}/undo`))
  await page.locator('.el-message-box__btns .el-button--primary').click()
  assert.equal((await undone).status(), 200)
  await row.locator('[data-test="merge-undone"]').waitFor()
  assert.equal((await api(page, 'GET', `/customers/${A}`)).status, 200)
  const back = (await api(page, 'GET', `/customers/${B}`)).body
  assert.equal(back.company, '港通物流')
  assert.deepEqual(back.tags, ['展会'])
  await page.context().close()
  assertNoProblems()
})

test('on a phone the comparison fits 390 px; the bulk button shows the dry-run count first', async () => {
  const page = await newPage(DESKTOP, 'merge-bulk')
  await login(page)
  await page.goto(`${BASE}/duplicates`)
  const group = page.locator('[data-test="duplicate-group"]', { hasText: NAME })
  await group.waitFor()
  const dry = page.waitForResponse((r) => r.url().endsWith('/api/v1/merges/bulk-exact-phone'))
  await page.locator('[data-test="merge-bulk"]').click()
  const answer = await (await dry).json()
  assert.equal(answer.dry_run, true)
  assert.ok(answer.groups >= 1, JSON.stringify(answer))
  const box = page.locator('.el-message-box')
  await box.waitFor()
  assert.match(await box.innerText(), new RegExp(`${answer.groups} 组`))
  await shot(page, 'merge-bulk-desktop.png', false)
  await box.locator('.el-button', { hasText: '取消' }).click()
  await box.waitFor({ state: 'hidden' })
  const state = await page.context().storageState()
  await page.context().close()

  const phone = await newPage(PHONE, 'merge-phone', state)
  await phone.goto(`${BASE}/duplicates`)
  const pgroup = phone.locator('[data-test="duplicate-group"]', { hasText: NAME })
  await pgroup.waitFor()
  await pgroup.locator('[data-test="open-merge"]').click()
  await phone.locator('[data-test="merge-compare"]').waitFor()
  const width = await phone.evaluate(() => document.documentElement.scrollWidth)
  assert.ok(width <= PHONE.width, `no sideways page scrolling at 390 px (scrollWidth ${width})`)
  const submit = phone.locator('[data-test="merge-submit"]')
  const r = await submit.boundingBox()
  assert.ok(r && r.x >= 0 && r.x + r.width <= PHONE.width, `merge button on screen: ${JSON.stringify(r)}`)
  await shot(phone, 'merge-compare-phone.png', false)
  await phone.context().close()
  // Nothing was merged: both still there.
  const check = await newPage(DESKTOP, 'merge-check', state)
  await check.goto(`${BASE}/customers`)
  const list = await api(check, 'GET', `/customers?q=${MOBILE}`)
  assert.equal(list.body.items.length, 2, JSON.stringify(list.body))
  await check.context().close()
  assertNoProblems()
})
