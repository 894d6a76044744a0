// The import wizard and the 数据质量 page, end to end in Chromium with a GBK CSV: upload, the
// detected encoding and mapping, a column remapped, a template saved, the preview with the bad
// cells marked, a dry run, the run with its progress, the problem report downloaded, then the
// flagged customers fixed from the 数据质量 page. Screenshots: import-desktop.png,
// quality-desktop.png (and the phone-width pages).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { BASE, DESKTOP, PHONE, RUN, newPage, assertNoProblems, shot, input, login, api, pickOption, useBrowser } from './lib.mjs'

useBrowser()

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/import/messy-gbk.csv')

// The fixture made unique to this run (codes, numbers, email domains), still GBK: ASCII
// digits and '-' never occur inside a GBK double-byte character, so they can be replaced
// in the raw bytes.
const N4 = String(parseInt(RUN, 36) % 10000).padStart(4, '0')
const PREFIX = `W${RUN}-`
function uniqueFixture() {
  const numbers = {
    '13800138000': `138${N4}8000`,
    '13900139000': `139${N4}9000`,
    '0335-3051234': `0335-305${N4}`,
    '1380013800': `138${N4}800`,
    '13700137000': `137${N4}7000`,
    '139 0100 2345': `139 ${N4} 2345`,
    '010-65529988': `010-6552${N4}`,
    '0755-23456789': `0755-2345${N4}`,
  }
  let s = fs.readFileSync(FIXTURE).toString('latin1')
  s = s.replace(/(?<![\d ])(13800138000|13900139000|0335-3051234|1380013800|13700137000|139 0100 2345|010-65529988|0755-23456789)(?!\d)/g, (m) => numbers[m])
  s = s.replaceAll('GBK-', PREFIX).replaceAll('@example.com', `@${RUN.toLowerCase()}.example.com`)
  const file = path.join(os.tmpdir(), `kehu-import-${RUN}.csv`)
  fs.writeFileSync(file, Buffer.from(s, 'latin1'))
  return file
}

async function noOverflow(page, what) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `${what} fits 390 px (overflows by ${overflow} px)`)
}

let importedWang = null

test('import wizard: a GBK file, mapping adjusted and saved as a template, preview, dry run, run, report', async () => {
  const file = uniqueFixture()
  const page = await newPage(DESKTOP, 'import')
  await login(page)
  await page.locator('[data-test="menu-import"]').click()
  await page.waitForURL(/\/import$/)
  await page.locator('h1', { hasText: '导入客户' }).waitFor()

  await page.locator('[data-test="import-upload"] input[type=file]').setInputFiles(file)
  await page.locator('[data-test="import-filename"]', { hasText: `kehu-import-${RUN}.csv` }).waitFor()
  // Detected as GB18030 and read correctly.
  await page.locator('[data-test="import-encoding"]', { hasText: 'GB18030' }).waitFor()
  await page.locator('[data-test="import-separator"]', { hasText: '逗号' }).waitFor()
  const preview = page.locator('[data-test="import-preview"]')
  await preview.getByText('秦皇岛海港贸易有限公司').first().waitFor()
  // The guessed mapping: 手机 → 电话（手机）, 微信 → 追加到备注.
  const headers = await page.locator('.map-row .map-header').allTextContents()
  const wechat = headers.indexOf('微信')
  const mobile = headers.indexOf('手机')
  assert.ok(wechat >= 0 && mobile >= 0, headers.join(','))
  await page.locator(`[data-test="map-row-${mobile}"]`, { hasText: '电话（手机）' }).waitFor()
  await page.locator(`[data-test="map-row-${wechat}"]`, { hasText: '追加到备注' }).waitFor()
  // Bad cells are marked: the short number, the broken email, the lost digits; row 4 is not imported.
  await preview.locator('[data-test="bad-cell"]', { hasText: `138${N4}800` }).waitFor()
  await preview.locator('[data-test="bad-cell"]', { hasText: 'wangfang@' }).waitFor()
  await preview.locator('[data-test="bad-cell"]', { hasText: '1.38001E+10' }).waitFor()
  assert.equal(await preview.locator('[data-test="rejected-row"]').count(), 1)
  await page.locator('[data-test="import-problem-summary"]', { hasText: '有问题' }).waitFor()

  // Remap 微信 to 忽略此列: the preview is analysed again and the column says 已调整.
  await pickOption(page, page.locator(`[data-test="map-${wechat}"]`), '忽略此列')
  await page.locator(`[data-test="map-row-${wechat}"]`, { hasText: '已调整' }).waitFor()
  await page.locator(`[data-test="map-row-${mobile}"]`, { hasText: '自动' }).waitFor()
  await page.locator('th', { hasText: '微信' }).filter({ hasText: '→ 忽略此列' }).waitFor()

  // Save the mapping as a template.
  await page.locator('[data-test="import-save-template"]').click()
  const box = page.locator('.el-message-box')
  await box.waitFor()
  await box.locator('input').fill(`展会名单${RUN}`)
  await box.locator('.el-button--primary').click()
  await page.locator('.el-message--success', { hasText: `模板“展会名单${RUN}”已保存` }).waitFor()

  // Dry run: counts, nothing saved.
  await page.locator('[data-test="import-dry-run"]').click()
  const dry = page.locator('[data-test="dry-run-result"]')
  await dry.getByText('试运行完成，没有保存任何数据').waitFor({ timeout: 60_000 })
  assert.equal((await dry.locator('[data-test="total-created"] .stat-value').textContent()).trim(), '5')
  assert.equal((await dry.locator('[data-test="total-rejected"] .stat-value').textContent()).trim(), '1')
  const none = await api(page, 'GET', `/customers?q=${encodeURIComponent(PREFIX)}`)
  assert.equal(none.body.items.length, 0, 'the dry run saved nothing')

  // The run: confirm, progress, result.
  await page.locator('[data-test="import-start"]').click()
  await page.locator('.el-message-box .el-button--primary').click()
  const result = page.locator('[data-test="import-result"]')
  await result.getByText('导入完成').waitFor({ timeout: 60_000 })
  assert.equal((await result.locator('[data-test="total-created"] .stat-value').textContent()).trim(), '5')
  assert.equal((await result.locator('[data-test="total-skipped"] .stat-value').textContent()).trim(), '1')
  assert.equal((await result.locator('[data-test="total-flagged"] .stat-value').textContent()).trim(), '4')
  await shot(page, 'import-desktop.png')

  // The problem report downloads, in Chinese, naming rows, columns, values and reasons.
  const [download] = await Promise.all([page.waitForEvent('download'), result.locator('[data-test="import-report"]').click()])
  const report = fs.readFileSync(await download.path(), 'utf8')
  assert.ok(report.startsWith('\uFEFF行号,列,字段,原值,问题代码,问题'), report.slice(0, 80))
  assert.match(report, new RegExp(`\\n3,手机,phones,138${N4}800,too_short,号码位数太少`))
  assert.match(report, /\n3,邮箱,emails,wangfang@,invalid_email,邮箱格式不对/)
  assert.match(report, /\n4,,,,no_name_or_contact,/)
  assert.match(report, /\n8,手机,phones,1\.38001E\+10,scientific_notation,/)

  const got = await api(page, 'GET', `/customers?q=${encodeURIComponent(`${PREFIX}002`)}`)
  importedWang = got.body.items[0]
  assert.equal(importedWang.quality_issues.length, 2)

  // On to the 数据质量 page.
  await result.locator('[data-test="to-quality"]').click()
  await page.waitForURL(/\/quality$/)
  await page.context().close()
  assertNoProblems()
})

test('数据质量: flagged customers are listed; fixing the number on the edit page clears that issue', async () => {
  assert.ok(importedWang, 'the import test ran first')
  const page = await newPage(DESKTOP, 'quality')
  await login(page)
  await page.locator('[data-test="menu-quality"]').click()
  await page.waitForURL(/\/quality$/)
  const list = page.locator('[data-test="quality-list"]')
  const row = list.locator('tr', { hasText: `${PREFIX}002` })
  await row.waitFor()
  await row.locator('[data-test="quality-raw"]', { hasText: '138***' }).waitFor()
  await row.getByText('邮箱格式不对').waitFor()
  await row.getByText('位数太少').waitFor()
  await list.locator('tr', { hasText: `${PREFIX}007` }).getByText('科学计数法').waitFor()
  await shot(page, 'quality-desktop.png')

  // 修改 opens the edit form, which lists the issues; a valid number replaces the bad one.
  await row.locator('[data-test="quality-fix"]').click()
  await page.waitForURL(new RegExp(`/customers/${importedWang.id}/edit$`))
  await page.locator('[data-test="form-quality"]').getByText('数据质量问题').waitFor()
  const phoneRow = page.locator('[data-test="phone-row-0"]')
  await input(phoneRow, 'phone-number').fill(`138${N4}8001`)
  await page.locator('[data-test="save-customer"]').click()
  await page.waitForURL(new RegExp(`/customers/${importedWang.id}$`))
  const issues = page.locator('[data-test="customer-quality"]')
  await issues.getByText('邮箱格式不对').waitFor()
  assert.equal(await issues.getByText('位数太少').count(), 0, 'the phone issue is gone')

  // 标记为已处理 settles the rest; the customer leaves the queue.
  await page.goto(`${BASE}/quality`)
  const again = page.locator('[data-test="quality-list"] tr', { hasText: `${PREFIX}002` })
  await again.locator('[data-test="quality-dismiss"]').click()
  await page.locator('.el-message-box .el-button--primary').click()
  await page.locator('.el-message--success', { hasText: '已标记为已处理' }).waitFor()
  await again.waitFor({ state: 'detached' })
  const after = await api(page, 'GET', `/customers/${importedWang.id}`)
  assert.deepEqual(after.body.quality_issues, [])
  await page.context().close()
  assertNoProblems()
})

test('phone width: the wizard and the 数据质量 page fit 390 px', async () => {
  const page = await newPage(PHONE, 'import-phone')
  await login(page)
  await page.goto(`${BASE}/import`)
  await page.locator('[data-test="import-upload"]').waitFor()
  await noOverflow(page, 'the upload step')
  await page.locator('[data-test="import-upload"] input[type=file]').setInputFiles(uniqueFixture())
  await page.locator('[data-test="import-preview"]').getByText('秦皇岛海港贸易有限公司').first().waitFor()
  await noOverflow(page, 'the mapping and preview')
  await shot(page, 'import-phone.png')
  await page.goto(`${BASE}/quality`)
  await page.locator('[data-test="quality-card"]').first().waitFor()
  await noOverflow(page, 'the 数据质量 page')
  await shot(page, 'quality-phone.png', false)

  // Leave the server as found: the template made here goes.
  const templates = await api(page, 'GET', '/imports/templates')
  for (const tpl of templates.body.items.filter((x) => x.name === `展会名单${RUN}`)) {
    const del = await api(page, 'DELETE', `/imports/templates/${tpl.id}`)
    assert.equal(del.status, 204)
  }
  await page.context().close()
  assertNoProblems()
})
