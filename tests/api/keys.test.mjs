// Online master-key rotation under concurrent writes, and retiring the old key.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createCustomer, expectStatus, revealCustomer, sleep, startServer } from './harness.mjs';

describe('key rotation', () => {
  let server;
  let admin;
  const expected = new Map(); // customer id -> {phone, email}
  before(async () => {
    server = await startServer();
    admin = await server.login();
  });
  after(async () => {
    await server?.close();
  });

  const phoneOf = (n) => `139${String(10000000 + n).slice(-8)}`;

  // A merge made on key 1: its snapshot keeps both customers encrypted, for the undo.
  let merge;
  let loser;
  it('a merge made before the rotation', async () => {
    const a = expectStatus(await admin.post('/customers', { name: '合并甲', phones: [{ number: '13766660001' }] }), 201);
    loser = expectStatus(await admin.post('/customers', { name: '合并甲', phones: [{ number: '13766660001' }, { number: '13766660002' }] },
      { query: { confirm_duplicate: true } }), 201);
    merge = expectStatus(await admin.post('/merges', { survivor_id: a.id, loser_ids: [loser.id], versions: { [a.id]: a.version, [loser.id]: loser.version } }), 201);
    assert.match(server.cliOk(['keys', 'status']).stdout, /version 1 \(current\)\t2 customer\(s\)\t0 MFA secret\(s\)\t1 merge snapshot\(s\)/);
  });

  it('re-encrypts everything while customers are created and changed, and nothing is lost', async () => {
    let n = 0;
    for (; n < 60; n++) {
      const c = await createCustomer(admin, { name: `轮换${n}`, phones: [phoneOf(n)], emails: [`k${n}@rot.example.com`] });
      expected.set(c.id, { phone: phoneOf(n), email: `k${n}@rot.example.com` });
    }
    let stop = false;
    let writes = 0;
    const writer = (async () => {
      while (!stop) {
        // A new customer, and a change of the numbers of an existing one.
        const c = await createCustomer(admin, { name: `轮换${n}`, phones: [phoneOf(n)], emails: [`k${n}@rot.example.com`] });
        expected.set(c.id, { phone: phoneOf(n), email: `k${n}@rot.example.com` });
        n++;
        const ids = [...expected.keys()];
        const id = ids[writes % ids.length];
        const now = expectStatus(await admin.get(`/customers/${id}`), 200);
        const phone = phoneOf(100000 + writes);
        const res = await admin.patch(`/customers/${id}`, { phones: [phone], title: `改${writes}` }, { headers: { 'if-match': `"${now.version}"` } });
        if (res.status === 200) expected.set(id, { ...expected.get(id), phone });
        writes++;
      }
    })();
    const rotated = await server.cliAsync(['keys', 'rotate', '--batch', '7']);
    stop = true;
    await writer;
    assert.equal(rotated.code, 0, rotated.stderr);
    assert.match(rotated.stdout, /every customer uses key version 2/);
    assert.ok(writes > 5, `only ${writes} concurrent writes happened`);
    // Writes that landed after the last pass are caught by a second run.
    const again = server.cliOk(['keys', 'reencrypt']);
    assert.match(again.stdout, /key version 2/);
    const status = server.cliOk(['keys', 'status']).stdout;
    assert.match(status, /version 1\t0 customer\(s\)\t0 MFA secret\(s\)\t0 merge snapshot\(s\)/);
    // The merge's survivor and loser (in the recycle bin) are customers too.
    assert.match(status, new RegExp(`version 2 \\(current\\)\\t${expected.size + 2} customer\\(s\\)\\t0 MFA secret\\(s\\)\\t1 merge snapshot\\(s\\)`));
    await checkAll();
  });

  it('the old key is retired once unused; the server keeps decrypting and finding', async () => {
    const refused = server.cli(['keys', 'retire', '2']);
    assert.notEqual(refused.code, 0, 'the current key cannot be retired');
    server.cliOk(['keys', 'retire', '1']);
    await sleep(2500); // the server reloads the key file within a second
    await checkAll();
    // The merge made on the retired key can still be undone, exactly.
    expectStatus(await admin.post(`/merges/${merge.id}/undo`, {}), 200);
    const back = await revealCustomer(admin, loser.id);
    assert.deepEqual(back.phones.map((p) => p.number), ['13766660001', '13766660002']);
    const audit = expectStatus(await admin.get('/audit', { query: { action: 'settings.' } }), 200).items;
    assert.deepEqual(audit.map((e) => e.action).filter((a) => a.startsWith('settings.key')).sort(),
      ['settings.key_retire', 'settings.key_rotate']);
  });

  async function checkAll() {
    for (const [id, want] of expected) {
      const c = await revealCustomer(admin, id);
      assert.equal(c.phones[0].number, want.phone, `customer ${id} phone`);
      assert.equal(c.emails[0].address, want.email, `customer ${id} email`);
      const hits = expectStatus(await admin.get('/lookup/phone', { query: { number: want.phone } }), 200);
      assert.ok(hits.items.some((h) => h.id === id), `lookup of ${want.phone} finds customer ${id}`);
      const found = expectStatus(await admin.get('/customers', { query: { q: want.email } }), 200);
      assert.ok(found.items.some((x) => x.id === id), `search by ${want.email} finds customer ${id}`);
    }
  }
});
