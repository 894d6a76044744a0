// Encryption at rest: phone numbers, emails, ID numbers and street addresses never appear in
// the stored bytes (SQLite files incl. WAL, or a pg_dump of the PostgreSQL database).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { residentId } from './cn_ids.mjs';
import { createCustomer, expectStatus, startServer } from './harness.mjs';

function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

function pgDumpBinary() {
  for (const p of ['/usr/lib/postgresql/15/bin/pg_dump', '/usr/lib/postgresql/16/bin/pg_dump', '/usr/lib/postgresql/17/bin/pg_dump']) {
    if (existsSync(p)) return p;
  }
  return 'pg_dump';
}

describe('encryption at rest', () => {
  let server;
  let admin;
  const name = '加密测试客户甲';
  const company = '加密验证有限公司';
  const mobile = '+86 139 8765 4321';
  const landline = '0755-8376 5432 转 66';
  const email = 'Kehu.Secret.4711@Example.ORG';
  const idNumber = residentId('440305', '19880808', 17);
  const street = '深南大道 9988 号机密大厦';
  before(async () => {
    server = await startServer();
    admin = await server.login();
    const c = await createCustomer(admin, {
      name, company, phones: [{ number: mobile, label: '手机' }, { number: landline, label: '办公' }],
      emails: [{ address: email }], id_number: idNumber, address: street,
    });
    // Searchable by phone although encrypted (blind index).
    const found = expectStatus(await admin.get('/lookup/phone', { query: { number: '13987654321' } }), 200);
    assert.deepEqual(found.items.map((x) => x.id), [c.id]);
    // An update writes a second version of the row (and, on SQLite, WAL frames).
    expectStatus(await admin.patch(`/customers/${c.id}`, { notes: '更新一次' }, { headers: { 'if-match': '"1"' } }), 200);
  });
  after(async () => {
    await server?.close();
  });

  // Strings that must not occur anywhere in the stored bytes.
  const secrets = [
    ['mobile E.164 digits', '8613987654321'],
    ['mobile national digits', '13987654321'],
    ['mobile as typed', mobile],
    ['mobile national with spaces', '139 8765 4321'],
    ['landline digits', '83765432'],
    ['landline as typed', landline],
    ['email', email],
    ['email normalised', 'Kehu.Secret.4711@example.org'],
    ['email local part', 'Kehu.Secret.4711'],
    ['ID number', idNumber],
    ['street address', '机密大厦'],
  ];

  function assertSecretsAbsent(bytes, where) {
    const found = secrets.filter(([, s]) => bytes.includes(Buffer.from(s, 'utf8')) || bytes.includes(Buffer.from(s, 'utf16le')));
    assert.deepEqual(found.map(([what]) => what), [], `found in ${where}`);
    // Sanity: the plaintext name (not encrypted by design) is there, so we read the real store.
    assert.ok(bytes.includes(Buffer.from(name, 'utf8')), `customer name not found in ${where}: wrong file?`);
  }

  it('server exits 0 on SIGTERM', async () => {
    await server.stopCleanly();
  });

  it('no personal data in plaintext in the stored bytes', async () => {
    if (server.database) {
      const r = spawnSync(pgDumpBinary(), ['--no-owner', '--dbname', server.database.url], { maxBuffer: 256 * 1024 * 1024 });
      assert.equal(r.status, 0, `pg_dump failed: ${r.stderr}`);
      assertSecretsAbsent(r.stdout, 'pg_dump output');
    } else {
      const files = filesUnder(server.dataDir);
      const dbFiles = files.filter((f) => /\.(db|sqlite|sqlite3)(-wal|-shm|-journal)?$/.test(f));
      assert.ok(dbFiles.length > 0, `no SQLite database file in ${server.dataDir}: ${files.join(', ')}`);
      // Every file in the data directory counts (database, WAL, journals, anything else).
      const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
      assertSecretsAbsent(bytes, `${server.dataDir} (${files.map((f) => f.slice(server.dataDir.length + 1)).join(', ')})`);
    }
  });

  it('the master key is not inside the data directory', () => {
    assert.ok(existsSync(server.keyFile), `key file ${server.keyFile} exists`);
    const key = readFileSync(server.keyFile);
    const files = filesUnder(server.dataDir);
    for (const f of files) assert.ok(!readFileSync(f).includes(key), `key material found in ${f}`);
  });
});
