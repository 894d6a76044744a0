// Web UI: 导出 on the customer list. The dialog counts the customers of the current filters,
// the downloads (XLSX, CSV in GBK, JSON with clear numbers) hold exactly those customers, and a
// user without customer.export has no button. Screenshots: export-dialog-{desktop,phone}.png.
//
// Run through tests/web/run.sh (it starts the server); see tests/web/README.md.

import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { spawnSync } from 'node:child_process'

import { BASE, DESKTOP, PHONE, RUN, newPage, assertNoProblems, shot, login, api, input, useBrowser } from './lib.mjs'

useBrowser()

const SOURCE = `导出${RUN}`
const NAMES = [`导出甲${RUN}`, `导出乙${RUN}`, `导出丙${RUN}`]
let adminState

/** One entry of a zip file (an XLSX), read with python3's zipfile. */
function unzipEntry(file, name) {
  const r = spawnSync('python3', ['-c', 'import sys,zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read(sys.argv[2]))', file, name])
  assert.equal(r.status, 0, `unzip ${name}: ${r.stderr}`)
  return r.stdout.toString('utf8')
}

async function openDialog(page) {
  await page.goto(`${BASE}/customers?source=${encodeURIComponent(SOURCE)}`)
  await page.locator('[data-test="export-customers"]').click()
  const dialog = page.locator('[data-test="export-dialog"]')
  await dialog.locator('[data-test="export-count"]', { hasText: '将导出符合当前筛选条件的 3 位客户' }).waitFor()
  return dialog
}

async function downloadFrom(page, dialog) {
  const [download] = await Promise.all([page.waitForEvent('download'), dialog.locator('[data-test="export-download"]').click()])
  await page.locator('.el-message', { hasText: '已开始下载' }).waitFor()
  const file = await download.path()
  assert.ok(file, `download failed: ${await download.failure()}`)
  return { name: download.suggestedFilename(), file }
}

test('导出 counts the filtered customers and downloads them as XLSX, GBK CSV and JSON', async () => {
  const page = await newPage(DESKTOP, 'export')
  await login(page)
  adminState = await page.context().storageState()
  const numbers = ['138 1111 2201', '0335-305 2202', '+86 139 1111 2203']
  for (let i = 0; i < 3; i++) {
    const res = await api(page, 'POST', '/customers', {
      name: NAMES[i],
      company: '秦皇岛导出测试有限公司',
      source: SOURCE,
      phones: [{ number: numbers[i], label: '手机' }],
    })
    assert.equal(res.status, 201, JSON.stringify(res.body))
  }
  // Someone else's customer with another source must not be in the files.
  assert.equal((await api(page, 'POST', '/customers', { name: `其他${RUN}`, source: '官网' })).status, 201)

  let dialog = await openDialog(page)
  await shot(page, 'export-dialog-desktop.png', false)

  // XLSX (the default): the three customers, numbers masked, phone cells as text.
  let got = await downloadFrom(page, dialog)
  assert.match(got.name, /^客户-\d{8}-\d{4}\.xlsx$/)
  const sheet = unzipEntry(got.file, 'xl/worksheets/sheet1.xml')
  for (const n of NAMES) assert.ok(sheet.includes(n), `${n} in the sheet`)
  assert.ok(!sheet.includes(`其他${RUN}`))
  assert.match(sheet, /<c r="F\d+" s="\d+" t="inlineStr"><is><t>138\*\*\*\*2201<\/t><\/is><\/c>/)
  assert.ok(!sheet.includes('11112201'))

  // CSV in GBK.
  dialog = await openDialog(page)
  await dialog.locator('[data-test="export-format"]').getByText('CSV').click()
  await dialog.locator('[data-test="export-encoding"]').getByText('GBK').click()
  await dialog.getByText('GBK 没有的字符').waitFor()
  got = await downloadFrom(page, dialog)
  assert.match(got.name, /^客户-\d{8}-\d{4}\.csv$/)
  const bytes = fs.readFileSync(got.file)
  assert.notEqual(bytes.subarray(0, 3).toString('hex'), 'efbbbf', 'GBK has no BOM')
  const text = new TextDecoder('gbk').decode(bytes)
  const lines = text.trim().split('\r\n')
  assert.equal(lines[0].split(',').slice(0, 6).join(','), '客户编号,姓名,性别,公司,职位,手机')
  assert.equal(lines.length, 4)
  for (const n of NAMES) assert.ok(text.includes(n))
  assert.ok(text.includes('033****2202'))

  // JSON with clear numbers (the admin may reveal without a quota).
  dialog = await openDialog(page)
  await dialog.locator('[data-test="export-format"]').getByText('JSON').click()
  await dialog.locator('[data-test="export-reveal"]').click()
  await dialog.getByText('明文导出').waitFor()
  got = await downloadFrom(page, dialog)
  assert.match(got.name, /\.json$/)
  const items = JSON.parse(fs.readFileSync(got.file, 'utf8'))
  assert.deepEqual(items.map((c) => c.name).sort(), [...NAMES].sort())
  assert.deepEqual(items.map((c) => c.phones[0].e164).sort(), ['+8613811112201', '+8613911112203', '+863353052202'])
  assert.ok(items.every((c) => c.masked === false))

  const audit = await api(page, 'GET', '/audit?action=customer.export&limit=3')
  assert.equal(audit.status, 200)
  assert.deepEqual(audit.body.items.map((e) => [e.details.format, e.details.rows, e.details.clear]), [['json', 3, true], ['csv', 3, false], ['xlsx', 3, false]])
  assert.equal(audit.body.items[0].details.filter.source, SOURCE)
  await page.context().close()
  assertNoProblems()
})

test('at 390 px the dialog fits; a user without customer.export has no 导出 button', async () => {
  const phone = await newPage(PHONE, 'export-phone', adminState)
  const dialog = await openDialog(phone)
  await dialog.locator('[data-test="export-format"]').getByText('CSV').click()
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px`)
  const box = await dialog.locator('.el-dialog').or(dialog).first().boundingBox()
  assert.ok(box && box.width <= 390, `dialog ${box?.width}px wide`)
  await shot(phone, 'export-dialog-phone.png', false)
  await phone.context().close()

  const admin = await newPage(DESKTOP, 'export-admin', adminState)
  await admin.goto(`${BASE}/customers`)
  const username = `noexport_${RUN.toLowerCase()}`
  const password = `No-export-${RUN}`
  const res = await api(admin, 'POST', '/users', { username, password, role: 'readonly' })
  assert.equal(res.status, 201, JSON.stringify(res.body))
  await admin.context().close()

  const viewer = await newPage(DESKTOP, 'export-viewer')
  await viewer.goto(`${BASE}/`)
  await viewer.waitForURL(/\/login/)
  await input(viewer, 'login-username').fill(username)
  await input(viewer, 'login-password').fill(password)
  await viewer.locator('[data-test="login-submit"]').click()
  await viewer.waitForURL(/\/customers/)
  await viewer.locator('[data-test="customer-search"]').waitFor()
  assert.equal(await viewer.locator('[data-test="export-customers"]').count(), 0)
  await viewer.context().close()
  assertNoProblems()
})
