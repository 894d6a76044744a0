// Imports: GBK CSV and XLSX uploads, the mapping and preview, dry runs and runs as background
// jobs, the problem report, bad values kept flagged and listed in the 数据质量 queue, idempotent
// re-runs, kill -9 of the server and of the CLI mid-import (the job resumes, every row once),
// templates, permissions, and the CLI on a messy file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  KEHU_BIN, REPO, createMember, expectProblem, expectStatus, revealCustomer, sleep, startServer,
} from './harness.mjs';

const FIXTURES = join(REPO, 'tests/fixtures/import');
const GBK_CSV = readFileSync(join(FIXTURES, 'messy-gbk.csv'));
const XLSX = readFileSync(join(FIXTURES, 'customers.xlsx'));

// Uploads bytes as a file; returns the preview.
async function upload(client, bytes, filename, status = 201) {
  const res = await client.post('/imports', undefined, {
    body: bytes,
    contentType: 'application/octet-stream',
    query: { filename },
  });
  return expectStatus(res, status, `upload ${filename}`);
}

// Polls a run until it is done (or failed); returns it.
async function waitRun(client, runId, { timeoutMs = 120_000 } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const run = expectStatus(await client.get(`/imports/runs/${runId}`), 200);
    if (run.state === 'done' || run.state === 'failed') return run;
    assert.ok(Date.now() < deadline, `run ${runId} not finished: ${JSON.stringify(run)}`);
    await sleep(100);
  }
}

async function runImport(client, importId, options = {}) {
  const started = expectStatus(await client.post(`/imports/${importId}/runs`, options), 202);
  assert.ok(['queued', 'running', 'done'].includes(started.state));
  const run = await waitRun(client, started.id);
  assert.equal(run.state, 'done', JSON.stringify(run));
  return run;
}

// Parses the report CSV (quoted cells, CRLF) into objects keyed by the English header.
// (fetch's text() drops the BOM; a file read with readFileSync keeps it, and must have it.)
function parseReport(text, { bom = false } = {}) {
  if (bom) assert.ok(text.startsWith('\uFEFF'), 'the report starts with a BOM for Excel');
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (quoted) {
      if (ch === '"' && body[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; }
    else if (ch === '\r') { /* CRLF */ }
    else if (ch === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else cell += ch;
  }
  const [header, ...lines] = rows;
  return lines.map((l) => Object.fromEntries(header.map((h, i) => [h, l[i]])));
}

async function report(client, runId, lang = 'en') {
  const res = await client.get(`/imports/runs/${runId}/report`, { query: { lang } });
  expectStatus(res, 200);
  assert.match(res.headers.get('content-type'), /^text\/csv/);
  return parseReport(res.text);
}

async function customersByCode(client, prefix) {
  const all = await client.listAll('/customers', { q: prefix }, { maxPages: 200 });
  return all.filter((c) => c.code?.startsWith(prefix));
}

describe('imports', () => {
  let server;
  let admin;
  before(async () => {
    server = await startServer();
    admin = await server.login();
  });
  after(async () => {
    await server?.stopCleanly();
    await server?.close();
  });

  it('a GBK CSV: detected, mapped from its Chinese headers, previewed with the problems by column', async () => {
    const p = await upload(admin, GBK_CSV, 'messy-gbk.csv');
    assert.equal(p.format, 'csv');
    assert.equal(p.encoding, 'GB18030');
    assert.equal(p.detected_encoding, 'GB18030');
    assert.equal(p.separator, ',');
    assert.equal(p.import.filename, 'messy-gbk.csv');
    assert.equal(p.import.latest_run, null);
    const target = Object.fromEntries(p.columns.map((c) => [c.header, c.target]));
    assert.deepEqual(target, {
      序号: 'ignore', 客户编号: 'code', 姓名: 'name', 公司: 'company', 手机: 'phones:手机', 座机: 'phones:办公',
      邮箱: 'emails', 性别: 'gender', 阶段: 'stage', 标签: 'tags', 备注: 'notes', 微信: 'extra',
    });
    assert.ok(p.columns.every((c) => c.automatic));
    assert.equal(p.rows.length, 7);
    assert.equal(p.rows[0].row, 2);
    assert.equal(p.rows[0].cells[2], '张伟');
    assert.deepEqual(p.rows[0].problems, []);
    const wang = p.rows[1];
    assert.equal(wang.rejected, false);
    const phoneCol = p.columns.find((c) => c.header === '手机').index;
    const mailCol = p.columns.find((c) => c.header === '邮箱').index;
    assert.deepEqual(wang.problems.map((x) => [x.column, x.code]).sort(), [[phoneCol, 'too_short'], [mailCol, 'invalid_email']].sort());
    assert.equal(p.rows[2].rejected, true, 'no name and no contact');
    assert.equal(p.rows[2].problems[0].code, 'no_name_or_contact');
    // Multi-line quoted notes stay one cell.
    assert.equal(wang.cells[10], '两行\n备注');

    // The encoding can be overridden: read as UTF-8 the names are garbage and a warning says so.
    const wrong = expectStatus(await admin.post(`/imports/${p.import.id}/preview`, { encoding: 'UTF-8' }), 200);
    assert.equal(wrong.encoding, 'UTF-8');
    assert.equal(wrong.detected_encoding, 'GB18030');
    assert.ok(wrong.warnings.some((w) => /U\+FFFD/.test(w)), JSON.stringify(wrong.warnings));
    expectProblem(await admin.post(`/imports/${p.import.id}/preview`, { encoding: 'no-such-charset' }), 422, { field: 'encoding' });
    // A mapping override by header; an unknown column or target is a 422 naming it.
    const remapped = expectStatus(await admin.post(`/imports/${p.import.id}/preview`, { mapping: { 微信: 'ignore', 备注: 'extra' } }), 200);
    const t2 = Object.fromEntries(remapped.columns.map((c) => [c.header, [c.target, c.automatic]]));
    assert.deepEqual(t2.微信, ['ignore', false]);
    assert.deepEqual(t2.备注, ['extra', false]);
    expectProblem(await admin.post(`/imports/${p.import.id}/preview`, { mapping: { 没有这列: 'name' } }), 422, { field: 'mapping.没有这列' });
    expectProblem(await admin.post(`/imports/${p.import.id}/preview`, { mapping: { 姓名: 'shoe_size' } }), 422, { field: 'mapping.姓名' });
  });

  it('a dry run checks everything and saves nothing; the run keeps bad values flagged and reports every problem', async () => {
    const p = await upload(admin, GBK_CSV, 'messy-gbk.csv');
    const dry = await runImport(admin, p.import.id, { dry_run: true });
    assert.equal(dry.dry_run, true);
    assert.deepEqual(
      { read: dry.totals.read, created: dry.totals.created, skipped: dry.totals.skipped, rejected: dry.totals.rejected },
      { read: 7, created: 5, skipped: 1, rejected: 1 },
    );
    assert.equal((await customersByCode(admin, 'GBK-')).length, 0, 'a dry run saves nothing');

    const run = await runImport(admin, p.import.id, {});
    assert.deepEqual(
      { read: run.totals.read, created: run.totals.created, merged: run.totals.merged, skipped: run.totals.skipped, rejected: run.totals.rejected, flagged: run.totals.flagged },
      { read: 7, created: 5, merged: 0, skipped: 1, rejected: 1, flagged: 4 },
    );
    assert.equal(run.progress.percent, 100);
    const got = expectStatus(await admin.get(`/imports/${p.import.id}`), 200);
    assert.equal(got.latest_run.id, run.id);

    const imported = await customersByCode(admin, 'GBK-');
    assert.deepEqual(imported.map((c) => c.code).sort(), ['GBK-001', 'GBK-002', 'GBK-004', 'GBK-005', 'GBK-007']);
    const byCode = Object.fromEntries(imported.map((c) => [c.code, c]));
    const zw = await revealCustomer(admin, byCode['GBK-001'].id);
    assert.deepEqual(zw.phones.map((x) => [x.e164, x.label, x.extension]), [
      ['+8613800138000', '手机', ''], ['+8613900139000', '手机', ''], ['+863353051234', '办公', '12']]);
    assert.deepEqual(zw.tags, ['VIP', '展会2024']);
    assert.equal(zw.gender, 'male');
    assert.equal(zw.stage, 'intent');
    assert.equal(zw.notes, '老客户介绍\n微信: zw-123');
    assert.equal(zw.owner_id, admin.user.id, 'imported customers belong to the importer');
    assert.deepEqual(zw.quality_issues, []);

    const wf = await revealCustomer(admin, byCode['GBK-002'].id);
    assert.deepEqual(wf.phones, []);
    assert.deepEqual(wf.quality_issues.map((q) => [q.field, q.raw, q.code, q.column]).sort(), [
      ['emails', 'wangfang@', 'invalid_email', '邮箱'], ['phones', '1380013800', 'too_short', '手机']]);
    // Masked for those who did not reveal.
    const masked = expectStatus(await admin.get(`/customers/${wf.id}`), 200);
    assert.ok(masked.quality_issues.some((q) => q.raw === '138***3800'), JSON.stringify(masked.quality_issues));
    const nameless = byCode['GBK-004'];
    assert.equal(nameless.name, '上海浦江物流有限公司');
    assert.equal(nameless.quality_issues[0].field, 'name');
    const cj = await revealCustomer(admin, byCode['GBK-007'].id);
    assert.equal(cj.company, '深圳"南山"科技有限公司');
    assert.deepEqual(cj.quality_issues.map((q) => [q.field, q.raw, q.code]), [['phones', '1.38001E+10', 'scientific_notation']]);
    const lq = await revealCustomer(admin, byCode['GBK-005'].id);
    assert.equal(lq.phones.length, 2);
    assert.equal(lq.emails.length, 2);
    assert.deepEqual(lq.tags, ['重点', '北京']);

    // The report: row, column, value and reason of every problem, in row order.
    const lines = await report(admin, run.id);
    const brief = lines.map((l) => [l.row, l.column, l.field, l.value, l.code, l.outcome]);
    assert.deepEqual(brief, [
      ['3', '手机', 'phones', '1380013800', 'too_short', 'imported, value flagged'],
      ['3', '邮箱', 'emails', 'wangfang@', 'invalid_email', 'imported, value flagged'],
      ['4', '', '', '', 'no_name_or_contact', 'not imported'],
      ['5', '姓名', 'name', '', 'required', 'imported, value flagged'],
      ['6', '手机', 'phones', '12345', 'too_short', 'imported, value flagged'],
      ['7', '客户编号', 'code', 'GBK-001', 'duplicate', 'skipped (duplicate)'],
      ['8', '手机', 'phones', '1.38001E+10', 'scientific_notation', 'imported, value flagged'],
    ]);
    assert.equal(lines[0].customer_id, String(wf.id));
    assert.equal(lines[5].customer_id, String(zw.id));
    const zh = await report(admin, run.id, 'zh-CN');
    assert.ok('行号' in zh[0] && zh[0].处理结果 === '已导入，该值已标记待处理', JSON.stringify(zh[0]));

    // Audited with counts, not values.
    const audit = expectStatus(await admin.get('/audit', { query: { action: 'customer.import' } }), 200).items;
    const entry = audit.find((e) => e.entity_id === String(p.import.id));
    assert.ok(entry, 'customer.import audit entry');
    assert.equal(entry.details.created, 5);
    assert.equal(entry.details.job, run.id);
    assert.ok(!JSON.stringify(entry.details).includes('1380013800'));

    // Re-running the same file with on_duplicate skip creates nothing.
    const again = await runImport(admin, p.import.id, { on_duplicate: 'skip' });
    assert.equal(again.totals.created, 0);
    assert.equal(again.totals.skipped, 6);
    assert.equal((await customersByCode(admin, 'GBK-')).length, 5);
    // …also when uploaded again as a new file.
    const p2 = await upload(admin, GBK_CSV, 'messy-gbk (copy).csv');
    const third = await runImport(admin, p2.import.id, {});
    assert.equal(third.totals.created, 0);
    assert.equal((await customersByCode(admin, 'GBK-')).length, 5);
  });

  it('the 数据质量 queue lists flagged customers; fixing the field through the normal edit clears the issue', async () => {
    const queue = await admin.listAll('/quality');
    const wf = queue.find((c) => c.code === 'GBK-002');
    assert.ok(wf, 'GBK-002 is in the queue');
    assert.ok(queue.every((c) => c.quality_issues.length > 0));
    assert.ok(!queue.some((c) => c.code === 'GBK-001'), 'a clean customer is not in the queue');
    // Normal validation is not weakened: an invalid number is still a 422.
    expectProblem(await admin.patch(`/customers/${wf.id}`, { phones: [{ number: '12345' }] }, { headers: { 'if-match': `"${wf.version}"` } }), 422, { field: 'phones[0].number' });
    const fixed = expectStatus(await admin.patch(`/customers/${wf.id}`, { phones: [{ number: '138 0013 8001', label: '手机' }] }, { headers: { 'if-match': `"${wf.version}"` } }), 200);
    assert.deepEqual(fixed.quality_issues.map((q) => q.field), ['emails']);
    const fixed2 = expectStatus(await admin.patch(`/customers/${wf.id}`, { emails: [{ address: 'wangfang@example.com' }] }, { headers: { 'if-match': `"${fixed.version}"` } }), 200);
    assert.deepEqual(fixed2.quality_issues, []);
    const after = await admin.listAll('/quality');
    assert.ok(!after.some((c) => c.id === wf.id), 'fixed customers leave the queue');
    // quality_issues: [] settles the rest at once.
    const other = after.find((c) => c.code === 'GBK-007');
    const cleared = expectStatus(await admin.patch(`/customers/${other.id}`, { quality_issues: [] }, { headers: { 'if-match': `"${other.version}"` } }), 200);
    assert.deepEqual(cleared.quality_issues, []);
    expectProblem(await admin.get('/quality', { query: { stage: 'won' } }), 400);
  });

  it('an XLSX: numbers typed into cells come back as their digits, dates as dates, the first sheet by default', async () => {
    const p = await upload(admin, XLSX, 'customers.xlsx');
    assert.equal(p.format, 'xlsx');
    assert.deepEqual(p.sheets, ['客户名单', '说明']);
    assert.equal(p.sheet, '客户名单');
    assert.equal(p.encoding, null);
    assert.deepEqual(p.rows.map((r) => r.row), [2, 3, 5]);
    assert.equal(p.rows[0].cells[2], '13800138111');
    assert.equal(p.rows[0].cells[5], '2024-03-15');
    assert.equal(p.rows[1].cells[2], '13900139222');
    const target = Object.fromEntries(p.columns.map((c) => [c.header, c.target]));
    assert.equal(target.客户编号, 'code');
    assert.equal(target.客户名称, 'name');
    assert.equal(target.联系电话, 'phones');
    assert.equal(target.电子邮件, 'emails');
    assert.equal(target.单位, 'company');
    assert.equal(target.签约日期, 'extra');
    const second = expectStatus(await admin.post(`/imports/${p.import.id}/preview`, { sheet: 2 }), 200);
    assert.equal(second.sheet, '说明');
    expectProblem(await admin.post(`/imports/${p.import.id}/preview`, { sheet: '第九页' }), 422, { field: 'sheet' });

    const run = await runImport(admin, p.import.id, {});
    assert.equal(run.totals.created, 3);
    assert.equal(run.totals.flagged, 1);
    const got = await customersByCode(admin, 'XLSX-');
    const zj = await revealCustomer(admin, got.find((c) => c.code === 'XLSX-001').id);
    assert.equal(zj.phones[0].e164, '+8613800138111');
    assert.equal(zj.company, '南京金桥电子有限公司');
    assert.equal(zj.province, '江苏省');
    assert.match(zj.notes, /签约日期: 2024-03-15/);
    const zy = await revealCustomer(admin, got.find((c) => c.code === 'XLSX-004').id);
    assert.equal(zy.phones[0].e164, '+862587654321');
  });

  it('rejects what is not a spreadsheet, and needs customer.import', async () => {
    expectProblem(await admin.post('/imports', undefined, { body: Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0]), contentType: 'application/octet-stream', query: { filename: 'old.xls' } }), 422, { field: 'file', codes: ['unsupported_format'] });
    expectProblem(await admin.post('/imports', undefined, { body: Buffer.from('PK\x03\x04 broken'), contentType: 'application/octet-stream' }), 422, { field: 'file' });
    expectProblem(await admin.post('/imports', undefined, { body: Buffer.alloc(0), contentType: 'application/octet-stream' }), 422, { field: 'file' });
    const rep = await createMember(server, admin, 'imp_rep', { role: 'sales' });
    expectProblem(await rep.post('/imports', undefined, { body: GBK_CSV, contentType: 'text/csv', query: { filename: 'x.csv' } }), 403);
    expectProblem(await rep.get('/imports'), 403);
    expectProblem(await rep.get('/imports/templates'), 403);
    const mine = (await admin.listAll('/imports'))[0];
    expectProblem(await rep.get(`/imports/${mine.id}`), 403);
    expectProblem(await rep.get(`/imports/runs/${mine.latest_run?.id ?? 1}`), 403);
    // A sales rep sees only their own customers in the quality queue.
    const q = expectStatus(await rep.get('/quality'), 200);
    assert.deepEqual(q.items, []);
    // A manager may import but sees only their own imports.
    const mgr = await createMember(server, admin, 'imp_mgr', { role: 'sales_manager' });
    expectProblem(await mgr.get(`/imports/${mine.id}`), 404);
    const own = await upload(mgr, Buffer.from('姓名,手机\n经理的客户,13700001111\n'), 'mgr.csv');
    const run = await runImport(mgr, own.import.id, {});
    assert.equal(run.totals.created, 1);
    const c = (await mgr.listAll('/customers', { q: '经理的客户' }))[0];
    assert.equal(c.owner_id, mgr.user.id);
  });

  it('templates: a mapping saved under a name, used by a preview, replaced, deleted', async () => {
    const saved = expectStatus(await admin.post('/imports/templates', { name: '展会名单', mapping: { 微信: 'notes', 手机: 'phones:手机' } }), 200);
    assert.equal(saved.name, '展会名单');
    expectProblem(await admin.post('/imports/templates', { name: '坏的', mapping: { 手机: 'shoe' } }), 422, { field: 'mapping.手机' });
    expectProblem(await admin.post('/imports/templates', { name: '', mapping: { a: 'name' } }), 422, { field: 'name' });
    const p = await upload(admin, GBK_CSV, 'messy-gbk.csv');
    const pre = expectStatus(await admin.post(`/imports/${p.import.id}/preview`, { template: '展会名单' }), 200);
    assert.equal(pre.columns.find((c) => c.header === '微信').target, 'notes');
    expectProblem(await admin.post(`/imports/${p.import.id}/preview`, { template: '没有' }), 422, { field: 'template' });
    const replaced = expectStatus(await admin.post('/imports/templates', { name: '展会名单', mapping: { 微信: 'ignore' } }), 200);
    assert.equal(replaced.id, saved.id);
    const list = expectStatus(await admin.get('/imports/templates'), 200).items;
    assert.deepEqual(list.find((t) => t.name === '展会名单').mapping, { 微信: 'ignore' });
    assert.equal(expectStatus(await admin.del(`/imports/templates/${saved.id}`), 204), undefined);
    expectProblem(await admin.del(`/imports/templates/${saved.id}`), 404);
  });

  it('merge fills empty fields and adds new numbers; create makes a second customer and keeps the taken code flagged', async () => {
    const base = await upload(admin, Buffer.from('编号,姓名,手机\nMRG-1,赵六,13600001111\n'), 'base.csv');
    await runImport(admin, base.import.id, {});
    const more = Buffer.from('编号,姓名,公司,手机,邮箱\nMRG-1,赵六,合并公司,13600002222,zl@example.com\n');
    const p = await upload(admin, more, 'more.csv');
    const merged = await runImport(admin, p.import.id, { on_duplicate: 'merge' });
    assert.equal(merged.totals.merged, 1);
    const [c] = await customersByCode(admin, 'MRG-');
    const clear = await revealCustomer(admin, c.id);
    assert.equal(clear.company, '合并公司');
    assert.deepEqual(clear.phones.map((x) => x.e164), ['+8613600001111', '+8613600002222']);
    const created = await runImport(admin, p.import.id, { on_duplicate: 'create' });
    assert.equal(created.totals.created, 1);
    const twins = (await admin.listAll('/customers', { q: '赵六' }));
    assert.equal(twins.length, 2);
    const copy = twins.find((x) => x.id !== c.id);
    assert.equal(copy.code, null);
    assert.deepEqual(copy.quality_issues.map((q) => [q.field, q.code, q.raw]), [['code', 'not_unique', 'MRG-1']]);
    expectProblem(await admin.post(`/imports/${p.import.id}/runs`, { on_duplicate: 'sometimes' }), 422, { field: 'on_duplicate' });
  });

  it('kill -9 of the server mid-import: restarted on the same data, the job resumes and every row is there once', async () => {
    const N = 20000;
    let csv = '客户编号,姓名,手机,公司\n';
    for (let i = 0; i < N; i++) csv += `K9-${String(i).padStart(6, '0')},客户${i},139${String(20000000 + i)},公司${i % 97}\n`;
    const p = await upload(admin, Buffer.from(csv), 'big.csv');
    const started = expectStatus(await admin.post(`/imports/${p.import.id}/runs`, {}), 202);
    let seen;
    for (let i = 0; i < 600; i++) {
      seen = expectStatus(await admin.get(`/imports/runs/${started.id}`), 200);
      if (seen.cursor > 0 || seen.state === 'done') break;
      await sleep(20);
    }
    assert.equal(seen.state, 'running', `the run must be caught midway: ${JSON.stringify(seen)}`);
    assert.ok(seen.cursor < N + 1);
    server.proc.kill('SIGKILL');
    const exit = await server.exited;
    assert.equal(exit.signal, 'SIGKILL');
    server.exit = null;
    await server.launch();
    admin = await server.login();
    const done = await waitRun(admin, started.id, { timeoutMs: 180_000 });
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.equal(done.totals.read, N);
    assert.equal(done.totals.created, N);
    const codes = (await customersByCode(admin, 'K9-')).map((c) => c.code);
    assert.equal(codes.length, N, 'every row once');
    assert.equal(new Set(codes).size, N);
  });

  it('kill -9 of the CLI mid-import: running the same command again continues the job', async () => {
    const N = 20000;
    let csv = '客户编号,姓名,手机\n';
    for (let i = 0; i < N; i++) csv += `CLI9-${String(i).padStart(6, '0')},命令行客户${i},137${String(30000000 + i)}\n`;
    const file = join(server.dir, 'cli-big.csv');
    writeFileSync(file, csv);
    const args = ['import', 'customers', file, ...server.globalArgs()];
    const child = spawn(KEHU_BIN, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    // Wait until the CLI's job has committed something, then kill it.
    let run;
    for (let i = 0; i < 1500; i++) {
      const list = expectStatus(await admin.get('/imports'), 200).items;
      run = list.find((f) => f.filename === 'cli-big.csv')?.latest_run;
      if (run && (run.cursor > 0 || run.state === 'done')) break;
      await sleep(20);
    }
    assert.ok(run && run.state === 'running' && run.cursor > 0, `caught midway: ${JSON.stringify(run)}`);
    child.kill('SIGKILL');
    assert.equal((await exited).signal, 'SIGKILL');
    const partial = (await customersByCode(admin, 'CLI9-')).length;
    assert.ok(partial > 0 && partial < N, `${partial} stored before the kill`);
    const again = await server.cliAsync(['import', 'customers', file]);
    assert.equal(again.code, 0, again.stderr + again.stdout);
    assert.match(again.stderr, new RegExp(`continuing import job ${run.id} after row \\d+`));
    const codes = (await customersByCode(admin, 'CLI9-')).map((c) => c.code);
    assert.equal(codes.length, N);
    assert.equal(new Set(codes).size, N);
    const final = expectStatus(await admin.get(`/imports/runs/${run.id}`), 200);
    assert.equal(final.state, 'done');
    assert.equal(final.totals.created, N);
  });

  it('the CLI on a messy file: a summary, and a report naming the rows', async () => {
    const file = join(server.dir, 'cli-messy.csv');
    writeFileSync(file, '姓名;电话;邮箱;性别\n孙七;13512345678 13612345678;sq@example.com;男\n;;;\n周八;010-1234;zb@;未说\n;;;女\n吴九;0335-3051299/8001;;\n');
    const reportFile = join(server.dir, 'errors.csv');
    const r = server.cli(['import', 'customers', file, '--report', reportFile, '--english']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /read 4 rows: 3 created, 0 merged, 0 skipped \(duplicates\), 1 not imported; 2 rows with problems/);
    const lines = parseReport(readFileSync(reportFile, 'utf8'), { bom: true });
    assert.deepEqual(lines.map((l) => [l.row, l.column, l.value, l.code]), [
      ['4', '性别', '未说', 'invalid_choice'],
      ['4', '电话', '010-1234', 'invalid_number'],
      ['4', '邮箱', 'zb@', 'invalid_email'],
      ['5', '', '', 'no_name_or_contact'],
    ]);
    const sun = (await admin.listAll('/customers', { q: '孙七' }))[0];
    assert.equal(sun.phones.length, 2);
    const wu = await revealCustomer(admin, (await admin.listAll('/customers', { q: '吴九' }))[0].id);
    assert.equal(wu.phones[0].extension, '8001');
    // A dry run from the CLI says so and stores nothing new.
    const dry = server.cli(['import', 'customers', file, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /^dry run \(nothing saved\): read 4 rows: 0 would be created, 0 merged, 3 skipped/);
  });
});
