// Customer exports: GET /customers/export (CSV in UTF-8 and GBK, XLSX, JSON), its count, the
// filters of the list, data scope, masking and reveal (with the daily quota), the audit entry
// and `kehu export customers`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  ENGINE, createCustomer, createMember, expectProblem, expectStatus, revealCustomer, startServer,
} from './harness.mjs';
import { API_PREFIX, checkAnswer } from './openapi.mjs';

const BOM = '\uFEFF';
const HEADERS_ZH = ['客户编号', '姓名', '性别', '公司', '职位', '手机', '电话', '邮箱', '省份', '城市', '区县', '地址', '来源', '负责人', '阶段', '备注'];

// One entry of a zip file (an XLSX), read with python3's zipfile (ZIP64-aware).
function unzipEntry(buf, name) {
  const r = spawnSync('python3', ['-c', 'import io,sys,zipfile; z=zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read())); sys.stdout.buffer.write(z.read(sys.argv[1]))', name], { input: buf });
  assert.equal(r.status, 0, `unzip ${name}: ${r.stderr}`);
  return r.stdout.toString('utf8');
}

// The cells of a worksheet XML: {A1: {t, s, text}}.
function sheetCells(xml) {
  const cells = {};
  for (const m of xml.matchAll(/<c r="([A-Z]+\d+)"([^>]*?)(?:\/>|>(.*?)<\/c>)/gs)) {
    const attrs = m[2];
    const text = (m[3] ?? '').replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
    cells[m[1]] = { t: /\bt="([^"]+)"/.exec(attrs)?.[1] ?? '', s: /\bs="(\d+)"/.exec(attrs)?.[1] ?? '', text };
  }
  return cells;
}

// RFC 4180 parser (quoted fields, "" escapes, CRLF).
function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false; else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i++; } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

describe(`customer export (${ENGINE})`, () => {
  let server;
  let admin;
  let rep; // own scope, may export and reveal (quota 3)
  let other; // another rep of that role
  let viewer; // readonly: no customer.export
  let exporter; // customer.export without phone.reveal
  const ids = {};

  // GET /customers/export with raw bytes; the answer is checked against openapi.yaml.
  async function download(client, query = {}) {
    const url = new URL(`${API_PREFIX}/customers/export`, server.origin);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, String(v));
    const headers = {};
    if (client.cookie) headers.cookie = `kehu_session=${client.cookie}`;
    if (client.token) headers.authorization = `Bearer ${client.token}`;
    const res = await server.fetch(url, { headers, signal: AbortSignal.timeout(60_000) });
    const buf = Buffer.from(await res.arrayBuffer());
    const ctype = res.headers.get('content-type') ?? '';
    const text = ctype.includes('json') ? buf.toString('utf8') : '';
    const { problems, json } = checkAnswer({ method: 'GET', pathname: url.pathname, status: res.status, headers: res.headers, text });
    assert.deepEqual(problems, [], `GET ${url.pathname}${url.search}`);
    return { status: res.status, headers: res.headers, buf, json, body: json, url: url.pathname + url.search, text };
  }

  async function downloadOk(client, query) {
    const d = await download(client, query);
    assert.equal(d.status, 200, `${d.url}: ${d.status} ${d.buf.toString('utf8').slice(0, 300)}`);
    return d;
  }

  const csvRows = (d) => {
    const text = d.buf.toString('utf8');
    assert.ok(text.startsWith(BOM), 'UTF-8 CSV starts with a BOM');
    return parseCsv(text.slice(1));
  };

  async function lastExportAudit() {
    const items = expectStatus(await admin.get('/audit', { query: { action: 'customer.export', limit: 1 } }), 200).items;
    assert.equal(items.length, 1, 'a customer.export audit entry');
    return items[0];
  }

  before(async () => {
    server = await startServer();
    admin = await server.login();
    expectStatus(await admin.post('/fields', { name: 'industry', label: '行业', type: 'text' }), 201);
    expectStatus(await admin.post('/fields', { name: 'budget', label: '预算', type: 'number' }), 201);
    expectStatus(await admin.post('/roles', {
      key: 'rep_export', name: '可导出销售', scope: 'own', reveal_quota: 3,
      permissions: ['customer.read', 'customer.create', 'customer.export', 'phone.reveal'],
    }), 201);
    expectStatus(await admin.post('/roles', {
      key: 'export_only', name: '只导出', scope: 'all', permissions: ['customer.read', 'customer.export'],
    }), 201);
    rep = await createMember(server, admin, 'rep_x', { role: 'rep_export', display_name: '销售小王' });
    other = await createMember(server, admin, 'rep_y', { role: 'rep_export' });
    viewer = await createMember(server, admin, 'viewer_x', { role: 'readonly' });
    exporter = await createMember(server, admin, 'exporter_x', { role: 'export_only' });

    ids.zhang = (await createCustomer(admin, {
      name: '张伟', code: 'KH-001', gender: 'male', company: '秦皇岛海港贸易有限公司', title: '采购经理',
      phones: [{ number: '138 0013 8000', label: '手机' }, { number: '0335-3051234 转 12', label: '办公' }, { number: '+1 650 253 0000' }],
      emails: [{ address: 'zhang.wei@example.com' }, { address: 'zw@example.org' }],
      id_number: '11010519491231002X', province: '河北省', city: '秦皇岛市', district: '海港区', address: '河北大街 1 号',
      source: '展会', stage: 'won', notes: '说 "你好", 第二行\n第三行', custom: { industry: '外贸', budget: 50000 },
    })).id;
    ids.wang = (await createCustomer(admin, {
      name: '王芳', company: '=HYPERLINK("http://x")', phones: [{ number: '13900139000' }], source: '官网', city: '北京市', province: '北京市',
    })).id;
    ids.yoshi = (await createCustomer(admin, { name: '𠮷田 😀', source: '展会', city: '秦皇岛市', phones: [{ number: '010-6552 9988' }] })).id;
    ids.repOwn = (await createCustomer(rep, { name: '赵敏', phones: [{ number: '13700137000' }], source: '展会' })).id;
    ids.repOwn2 = (await createCustomer(rep, { name: '钱多', phones: [{ number: '13700137001' }] })).id;
    ids.otherOwn = (await createCustomer(other, { name: '孙悟', phones: [{ number: '13600136000' }] })).id;
  });

  after(async () => {
    await server?.close();
  });

  it('CSV by default: UTF-8 with BOM, Chinese headers the importer maps, masked numbers, streamed', async () => {
    const d = await downloadOk(admin);
    assert.equal(d.headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.equal(d.headers.get('transfer-encoding'), 'chunked');
    assert.match(d.headers.get('content-disposition'), /filename\*=UTF-8''%E5%AE%A2%E6%88%B7-\d{8}-\d{4}\.csv$/);
    const rows = csvRows(d);
    assert.deepEqual(rows[0], [...HEADERS_ZH, '行业', '预算', '创建时间', '更新时间']);
    assert.equal(rows.length, 1 + 6);
    const byName = Object.fromEntries(rows.slice(1).map((r) => [r[1], Object.fromEntries(rows[0].map((h, i) => [h, r[i]]))]));
    const z = byName['张伟'];
    assert.equal(z['客户编号'], 'KH-001');
    assert.equal(z['性别'], '男');
    assert.equal(z['手机'], '138****8000');
    assert.equal(z['电话'], '033****1234; 165****0000');
    assert.equal(z['邮箱'], 'z***@example.com; z***@example.org');
    assert.equal(z['地址'], '****');
    assert.equal(z['阶段'], '成交');
    assert.equal(z['备注'], '说 "你好", 第二行\n第三行');
    assert.equal(z['行业'], '外贸');
    assert.equal(z['预算'], '50000');
    assert.match(z['创建时间'], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    assert.equal(z['负责人'], '管理员');
    // Formulas are defused; no clear number anywhere.
    assert.equal(byName['王芳']['公司'], '\'=HYPERLINK("http://x")');
    const text = d.buf.toString('utf8');
    for (const clear of ['13800138000', '0013 8000', '3051234', 'zhang.wei', '11010519491231002X', '河北大街']) {
      assert.ok(!text.includes(clear), `masked export leaks ${clear}`);
    }
    const entry = await lastExportAudit();
    assert.equal(entry.details.format, 'csv');
    assert.equal(entry.details.encoding, 'utf8');
    assert.equal(entry.details.rows, 6);
    assert.equal(entry.details.clear, false);
    assert.equal(entry.details.complete, true);
  });

  it('CSV in GBK: no BOM, GBK bytes, characters GBK lacks become ? and are counted in the audit entry', async () => {
    const d = await downloadOk(admin, { encoding: 'gbk', q: '田' });
    assert.equal(d.headers.get('content-type'), 'text/csv; charset=gbk');
    assert.equal(d.buf.subarray(0, 8).toString('hex'), 'bfcdbba7b1e0bac5', '客户编号 in GBK, no BOM');
    const rows = parseCsv(new TextDecoder('gbk').decode(d.buf));
    assert.equal(rows[0][1], '姓名');
    assert.equal(rows.length, 2);
    assert.equal(rows[1][1], '?田 ?');
    const entry = await lastExportAudit();
    assert.equal(entry.details.replaced_characters, 2);
    assert.equal(entry.details.filter.q, '田');
  });

  it('XLSX: constant-memory inline strings, phones as text cells, bold frozen header', async () => {
    const d = await downloadOk(admin, { format: 'xlsx', sort: 'name', order: 'asc', q: '张伟' });
    assert.equal(d.headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    assert.match(d.headers.get('content-disposition'), /\.xlsx$/);
    assert.equal(d.buf.subarray(0, 2).toString('latin1'), 'PK');
    const xml = unzipEntry(d.buf, 'xl/worksheets/sheet1.xml');
    const cells = sheetCells(xml);
    assert.equal(cells.A1.text, '客户编号');
    assert.equal(cells.F1.text, '手机');
    assert.equal(cells.B2.text, '张伟');
    assert.equal(cells.F2.t, 'inlineStr');
    assert.equal(cells.F2.text, '138****8000');
    assert.equal(cells.G2.t, 'inlineStr');
    assert.equal(cells.R2.t, '', 'the number custom field is a number');
    assert.equal(cells.R2.text, '50000');
    assert.match(xml, /<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"\/>/);
    assert.match(xml, /<autoFilter ref="A1:T2"\/>/);
    assert.match(unzipEntry(d.buf, 'xl/styles.xml'), /<b\/>/);
    assert.match(unzipEntry(d.buf, 'xl/workbook.xml'), /name="客户"/);
  });

  it('XLSX with clear values keeps leading zeros and + as text', async () => {
    const d = await downloadOk(admin, { format: 'xlsx', reveal: true, q: 'KH-001', lang: 'en' });
    const cells = sheetCells(unzipEntry(d.buf, 'xl/worksheets/sheet1.xml'));
    assert.equal(cells.F1.text, 'Mobile');
    assert.equal(cells.F2.text, '138 0013 8000');
    assert.equal(cells.G2.t, 'inlineStr');
    assert.equal(cells.G2.text, '0335-305 1234 转 12; +1 650-253-0000');
    assert.match(d.headers.get('content-disposition'), /filename\*=UTF-8''customers-\d{8}-\d{4}\.xlsx$/);
  });

  it('JSON: an array of exactly the customers GET /customers/{id} answers', async () => {
    const d = await downloadOk(admin, { format: 'json' });
    assert.equal(d.headers.get('content-type'), 'application/json');
    assert.ok(Array.isArray(d.json));
    assert.equal(d.json.length, 6);
    const list = await admin.listAll('/customers');
    assert.deepEqual(d.json.map((c) => c.id), list.map((c) => c.id), 'same order as the list');
    for (const item of d.json) {
      const one = expectStatus(await admin.get(`/customers/${item.id}`), 200);
      assert.deepEqual(item, one);
    }
  });

  it('JSON with reveal=true: the clear customers POST /customers/{id}/reveal answers', async () => {
    const d = await downloadOk(admin, { format: 'json', reveal: 'true', q: 'KH-001' });
    assert.equal(d.json.length, 1);
    const clear = await revealCustomer(admin, ids.zhang);
    assert.deepEqual(d.json[0], clear);
    assert.equal(d.json[0].masked, false);
    assert.equal(d.json[0].phones[0].e164, '+8613800138000');
    const entry = (expectStatus(await admin.get('/audit', { query: { action: 'customer.export', limit: 1 } }), 200)).items[0];
    assert.equal(entry.details.clear, true);
    assert.equal(entry.details.format, 'json');
    assert.equal(entry.details.filter.q, 'KH-001');
  });

  it('honours the filters and sort of the list', async () => {
    const cases = [
      { source: '展会' },
      { source: '展会', city: '秦皇岛市' },
      { province: '北京市' },
      { q: '13900139000' },
      { q: '8000' },
      { q: 'zhangwei' },
      { stage: 'won' },
      { sort: 'name', order: 'asc' },
      { sort: 'code', order: 'asc' },
      { created_from: '2000-01-01', created_to: '2999-12-31' },
      { created_to: '2000-01-01' },
    ];
    for (const filter of cases) {
      const want = (await admin.listAll('/customers', filter)).map((c) => c.id);
      const d = await downloadOk(admin, { ...filter, format: 'json' });
      assert.deepEqual(d.json.map((c) => c.id), want, JSON.stringify(filter));
      const count = expectStatus(await admin.get('/customers/export/count', { query: filter }), 200);
      assert.equal(count.count, want.length, JSON.stringify(filter));
    }
    const searched = (await admin.listAll('/customers', { q: '13900139000' }))[0];
    assert.equal(searched.id, ids.wang);
    const entry = await lastExportAudit();
    assert.deepEqual(entry.details.filter, { created_to: entry.details.filter.created_to, sort: 'created_at', order: 'desc' });
    const d = await downloadOk(admin, { q: '13900139000' });
    assert.equal(csvRows(d).length, 2);
    assert.equal((await lastExportAudit()).details.filter.q, '139****9000', 'a searched number is masked in the audit trail');
  });

  it('the recycle bin can be exported with deleted=true', async () => {
    const gone = await createCustomer(admin, { name: '已删除客户' });
    expectStatus(await admin.del(`/customers/${gone.id}`), 204);
    const d = await downloadOk(admin, { format: 'json', deleted: 'true' });
    assert.deepEqual(d.json.map((c) => c.id), [gone.id]);
    assert.ok(d.json[0].deleted_at);
  });

  it('a user with own scope exports only their own customers', async () => {
    const d = await downloadOk(rep, { format: 'json' });
    assert.deepEqual(d.json.map((c) => c.id).sort(), [ids.repOwn, ids.repOwn2].sort());
    const csv = csvRows(await downloadOk(rep));
    assert.deepEqual(csv.slice(1).map((r) => r[1]).sort(), ['赵敏', '钱多'].sort());
    assert.equal(csv[1][13], '销售小王');
    assert.equal(expectStatus(await rep.get('/customers/export/count'), 200).count, 2);
    const o = await downloadOk(other, { format: 'json' });
    assert.deepEqual(o.json.map((c) => c.id), [ids.otherOwn]);
  });

  it('403 without customer.export, and for clear values without phone.reveal', async () => {
    expectProblem(await download(viewer), 403);
    expectProblem(await download(viewer, { format: 'json' }), 403);
    expectProblem(await viewer.get('/customers/export/count'), 403);
    const count = expectStatus(await exporter.get('/customers/export/count'), 200);
    assert.equal(count.reveal_allowed, false);
    assert.equal(count.count, 6);
    expectProblem(await download(exporter, { reveal: 'true' }), 403);
    const masked = await downloadOk(exporter, { format: 'json' });
    assert.ok(masked.json.every((c) => c.masked === true));
    expectProblem(await server.anon().get('/customers/export'), 401);
  });

  it('a clear export counts one reveal per customer, all or nothing, against the daily quota', async () => {
    let count = expectStatus(await rep.get('/customers/export/count'), 200);
    assert.deepEqual(count, { count: 2, reveal_allowed: true, reveal_quota: 3, reveals_today: 0 });
    const d = await downloadOk(rep, { format: 'json', reveal: 'true' });
    assert.deepEqual(d.json.map((c) => c.phones[0].e164).sort(), ['+8613700137000', '+8613700137001']);
    count = expectStatus(await rep.get('/customers/export/count'), 200);
    assert.equal(count.reveals_today, 2);
    // One reveal left, two customers: refused, nothing counted.
    expectProblem(await download(rep, { reveal: 'true' }), 429);
    assert.equal(expectStatus(await rep.get('/customers/export/count'), 200).reveals_today, 2);
    // A masked export still works, and one customer still fits.
    await downloadOk(rep);
    const one = await downloadOk(rep, { format: 'json', reveal: 'true', q: '赵敏' });
    assert.equal(one.json[0].phones[0].e164, '+8613700137000');
    assert.equal(expectStatus(await rep.get('/customers/export/count'), 200).reveals_today, 3);
    const entry = await lastExportAudit();
    assert.equal(entry.actor_name, 'rep_x');
    assert.equal(entry.details.reveals_charged, 1);
    const alerts = expectStatus(await admin.get('/audit', { query: { action: 'alert.' } }), 200).items;
    assert.ok(alerts.some((a) => a.action === 'alert.reveal_quota' && a.actor_name === 'rep_x'));
  });

  it('bad parameters are 400 naming the parameter', async () => {
    const bad = async (query, field) => {
      const p = expectProblem(await download(admin, query), 400);
      if (field) assert.equal(p.errors?.[0]?.field, field, JSON.stringify(p));
    };
    await bad({ format: 'pdf' }, 'format');
    await bad({ encoding: 'big5' }, 'encoding');
    await bad({ format: 'json', encoding: 'gbk' }, 'encoding');
    await bad({ reveal: 'yes' }, 'reveal');
    await bad({ lang: 'fr' }, 'lang');
    await bad({ limit: '5' });
    await bad({ cursor: 'x' });
    await bad({ stage: 'hot' });
    await bad({ created_from: 'yesterday' });
    expectProblem(await admin.get('/customers/export/count', { query: { format: 'csv' } }), 400);
  });

  it('more customers than one batch: all of them, in the list order', async () => {
    for (let i = 0; i < 520; i++) {
      const res = await admin.post('/customers', { name: `批量${i}`, source: '批量', phones: [`1350000${String(i).padStart(4, '0')}`] });
      expectStatus(res, 201);
    }
    const want = (await admin.listAll('/customers', { source: '批量', sort: 'name', order: 'asc' })).map((c) => c.name);
    assert.equal(want.length, 520);
    const rows = csvRows(await downloadOk(admin, { source: '批量', sort: 'name', order: 'asc' }));
    assert.deepEqual(rows.slice(1).map((r) => r[1]), want);
    const x = await downloadOk(admin, { source: '批量', format: 'xlsx' });
    const cells = sheetCells(unzipEntry(x.buf, 'xl/worksheets/sheet1.xml'));
    assert.ok(cells.B521 && !cells.B522, 'XLSX holds 520 rows after the header');
  });

  it('an export that fails after it started ends the download at once, visibly incomplete', async () => {
    // The last of the 520 customers above (name order) gets a damaged phone ciphertext: the
    // JSON export has sent several pieces when it reaches that row and cannot go on.
    const last = expectStatus(await admin.get('/customers', { query: { source: '批量', sort: 'name', order: 'desc', limit: 1 } }), 200).items[0];
    server.storeSql(`UPDATE customers SET phones_enc = 'x' || phones_enc WHERE id = ${last.id}`);
    try {
      const url = new URL(`${API_PREFIX}/customers/export`, server.origin);
      for (const [k, v] of Object.entries({ source: '批量', sort: 'name', order: 'asc', format: 'json' })) {
        url.searchParams.set(k, v);
      }
      const started = Date.now();
      const res = await server.fetch(url, { headers: { cookie: `kehu_session=${admin.cookie}` }, signal: AbortSignal.timeout(50_000) });
      assert.equal(res.status, 200, 'the answer had started');
      // Without the final chunk the body cannot complete: the read fails, and fails soon
      // (before, the connection stayed open until the server's 60 s request timeout).
      await assert.rejects(res.arrayBuffer(), (e) => e.name !== 'TimeoutError', 'the body must be cut short, not hang');
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 20, `the client waited ${seconds} s for the connection to end`);
      const entry = await lastExportAudit();
      assert.equal(entry.details.complete, false, 'audited as not complete');
      assert.ok(entry.details.error, 'with the error');
    } finally {
      server.storeSql(`UPDATE customers SET phones_enc = substr(phones_enc, 2) WHERE id = ${last.id}`);
    }
    // The server goes on answering, and the repaired customer exports again.
    const ok = await downloadOk(admin, { source: '批量', format: 'json' });
    assert.equal(ok.json.length, 520);
  });

  it('kehu export customers writes the same files from the command line, audited', async () => {
    const dir = server.dir;
    const out = join(dir, 'out.csv');
    const r = server.cliOk(['export', 'customers', '--format', 'csv', '--filter', 'city=秦皇岛市', '--filter', 'sort=name', '--output', out]);
    assert.match(r.stderr, /exported 2 customer\(s\) \(contact data masked\) to /);
    const rows = parseCsv(readFileSync(out, 'utf8').slice(1));
    assert.deepEqual(rows.slice(1).map((x) => x[1]).sort(), ['张伟', '𠮷田 😀'].sort());
    const json = server.cliOk(['export', 'customers', '--format', 'json', '--reveal', '--filter', 'q=KH-001']);
    const items = JSON.parse(json.stdout);
    assert.equal(items.length, 1);
    assert.equal(items[0].phones[0].e164, '+8613800138000');
    const gbk = server.cli(['export', 'customers', '--encoding', 'gbk', '--filter', 'q=田']);
    assert.equal(gbk.code, 0);
    assert.match(gbk.stderr, /2 character\(s\) that GBK cannot represent were written as '\?'/);
    const xlsx = join(dir, 'out.xlsx');
    server.cliOk(['export', 'customers', '--format', 'xlsx', '--output', xlsx]);
    assert.equal(readFileSync(xlsx).subarray(0, 2).toString('latin1'), 'PK');
    const noFile = server.cli(['export', 'customers', '--format', 'xlsx']);
    assert.equal(noFile.code, 1);
    assert.match(noFile.stderr, /needs --output/);
    const badFilter = server.cli(['export', 'customers', '--filter', 'colour=red']);
    assert.equal(badFilter.code, 1);
    assert.match(badFilter.stderr, /unknown query parameter colour/);
    const entries = expectStatus(await admin.get('/audit', { query: { action: 'customer.export', actor_id: 0 } }), 200).items;
    assert.ok(entries.some((e) => e.details.format === 'json' && e.details.clear === true && e.details.rows === 1));
    rmSync(out, { force: true });
    rmSync(xlsx, { force: true });
  });

  it('leaves no temporary files in the data directory', () => {
    const r = spawnSync('find', [join(server.dataDir, 'tmp'), '-type', 'f'], { encoding: 'utf8' });
    assert.equal(r.stdout.trim(), '');
  });

  it('stops serving cleanly', async () => {
    await server.stopCleanly();
  });
});
