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
    assert.match(status, /version 1\t0 customer\(s\)/);
    assert.match(status, new RegExp(`version 2 \\(current\\)\\t${expected.size} customer\\(s\\)`));
    await checkAll();
  });

  it('the old key is retired once unused; the server keeps decrypting and finding', async () => {
    const refused = server.cli(['keys', 'retire', '2']);
    assert.notEqual(refused.code, 0, 'the current key cannot be retired');
    server.cliOk(['keys', 'retire', '1']);
    await sleep(2500); // the server reloads the key file within a second
    await checkAll();
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
