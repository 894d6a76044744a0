// Cross-team access on every customer endpoint: a customer outside the caller's data scope does
// not exist for them — by id (GET, PATCH, DELETE, restore, reveal), in the list with any
// filter or sort, in search (name, pinyin, code, company, phone in any format, last four
// digits, email), in caller ID and in the recycle bin — with a session and with an API token;
// and what they get for it is exactly what they get for an id that was never used.
// access.test.mjs covers the common cases; this is the full matrix, with positive controls (a
// manager of the owning team finds the same customers with the same requests).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createCustomer, createMember, expectStatus, startServer } from './harness.mjs';

const UNKNOWN_ID = 987654321;

describe('data scope on every customer endpoint', () => {
  let server;
  let admin;
  let users;
  let owner; // sales rep in 华北区 who owns the customers
  let insider; // sales_manager of 华北区: sees them (positive control)
  let live;
  let binned;
  const outsiders = []; // [label, client]

  before(async () => {
    server = await startServer();
    admin = await server.login();
    const north = expectStatus(await admin.post('/teams', { name: '华北区' }), 201);
    const south = expectStatus(await admin.post('/teams', { name: '华南区' }), 201);
    const member = async (username, role, team) => {
      const s = await createMember(server, admin, username, { role });
      const u = expectStatus(await admin.get('/users'), 200).items.find((x) => x.username === username);
      const res = await admin.patch(`/users/${u.id}`, { team_id: team.id }, { headers: { 'if-match': `"${u.version}"` } });
      expectStatus(res, 200, `put ${username} in ${team.name}`);
      s.id = u.id;
      return s;
    };
    owner = await member('m_owner', 'sales', north);
    insider = await member('m_boss_n', 'sales_manager', north);
    const otherBoss = await member('m_boss_s', 'sales_manager', south);
    const otherRep = await member('m_rep_s', 'sales', south);
    const teammate = await member('m_rep_n', 'sales', north);
    users = { owner, insider, otherBoss, otherRep, teammate };

    live = await createCustomer(owner, {
      name: '欧阳娜娜', code: 'KH-MATRIX-1', company: '秦皇岛港务矩阵有限公司',
      phones: ['0335-3051234 转 12', '13712345678'], emails: ['ouyang.nana@example.com'],
      source: '矩阵展会', province: '河北省', city: '秦皇岛市', stage: 'intent',
    });
    binned = await createCustomer(owner, { name: '司马懿', code: 'KH-MATRIX-2', phones: ['13687654321'], source: '矩阵展会' });
    expectStatus(await insider.del(`/customers/${binned.id}`), 204, 'the owning team manager bins one');
    // Customers of the outsiders' own, so their lists are not empty.
    await createCustomer(otherBoss, { name: '欧阳锋', code: 'KH-MATRIX-S', phones: ['020-8888 1234'], source: '矩阵展会' });
    await createCustomer(otherRep, { name: '欧阳克', phones: ['13512341234'] });

    const token = expectStatus(await otherBoss.post('/tokens', { name: 'matrix' }), 201).token;
    outsiders.push(
      ['the other team\'s manager (session)', otherBoss],
      ['the other team\'s manager (API token)', server.bearer(token)],
      ['the other team\'s sales rep', otherRep],
      ['a sales rep of the same team (own scope)', teammate],
    );
  });
  after(async () => {
    await server?.close();
  });

  // Every by-id request, for one id.
  const byId = (id) => [
    ['GET', `/customers/${id}`, {}],
    ['PATCH', `/customers/${id}`, { json: { title: '越权' }, headers: { 'if-match': '"1"' } }],
    ['DELETE', `/customers/${id}`, {}],
    ['POST', `/customers/${id}/restore`, { json: {} }],
    ['POST', `/customers/${id}/reveal`, { json: {} }],
  ];

  // status, problem type and detail with the id taken out: what the caller learns.
  const seen = (res, id) => ({
    status: res.status,
    type: res.body?.type,
    detail: String(res.body?.detail ?? '').replaceAll(String(id), '<id>'),
  });

  // Every list, search and caller-ID request that finds the live customer for an insider.
  const searches = () => [
    {},
    { q: '欧阳娜娜' }, { q: 'ouyangnana' }, { q: 'ouyang' }, { q: 'KH-MATRIX-1' }, { q: '港务矩阵' },
    { q: '0335-3051234' }, { q: '+86 335 305 1234' }, { q: '03353051234' }, { q: '13712345678' },
    { q: '+86 137 1234 5678' }, { q: '5678' }, { q: 'ouyang.nana@example.com' },
    { source: '矩阵展会' }, { province: '河北省', city: '秦皇岛市' }, { stage: 'intent' },
    { owner_id: owner.id }, { sort: 'name', order: 'asc' }, { sort: 'code', order: 'desc' },
    { sort: 'updated_at', created_from: '2020-01-01' },
  ];
  const lookups = ['0335-3051234', '0335 305 1234 转 12', '+863353051234', '13712345678', '+86 137-1234-5678'];

  it('the positive control: the owning team\'s manager finds it with every request', async () => {
    for (const query of searches()) {
      const ids = (await insider.listAll('/customers', query)).map((c) => c.id);
      assert.ok(ids.includes(live.id), `manager of the owning team misses it with ${JSON.stringify(query)}`);
    }
    for (const number of lookups) {
      const hits = expectStatus(await insider.get('/lookup/phone', { query: { number } }), 200);
      assert.ok(hits.items.some((h) => h.id === live.id), `caller ID ${number} misses it`);
    }
    const bin = (await insider.listAll('/customers', { deleted: 'true' })).map((c) => c.id);
    assert.ok(bin.includes(binned.id), 'the owning team sees its recycle bin');
    expectStatus(await insider.get(`/customers/${live.id}`), 200);
  });

  for (const [i, label] of ['session', 'token', 'rep', 'teammate'].entries()) {
    describe(`outsider: ${label}`, () => {
      const who = () => outsiders[i];

      it('gets for the live and the binned customer exactly what an unknown id gets', async () => {
        const [name, client] = who();
        for (const hidden of [live.id, binned.id]) {
          const hiddenCalls = byId(hidden);
          const unknownCalls = byId(UNKNOWN_ID);
          for (let k = 0; k < hiddenCalls.length; k++) {
            const [method, path, opts] = hiddenCalls[k];
            const got = await client.request(method, path, opts);
            const [, upath, uopts] = unknownCalls[k];
            const ref = await client.request(method, upath, uopts);
            assert.deepEqual(seen(got, hidden), seen(ref, UNKNOWN_ID), `${name}: ${method} ${path} differs from an unknown id`);
            assert.ok([403, 404].includes(got.status), `${name}: ${method} ${path} answered ${got.status}`);
            if (method === 'GET' || method === 'PATCH' || method === 'POST' && path.endsWith('/reveal')) {
              assert.equal(got.status, 404, `${name}: ${method} ${path} must be 404, not ${got.status}`);
            }
          }
        }
      });

      it('never finds it in lists, search, filters, sorts or caller ID', async () => {
        const [name, client] = who();
        for (const query of searches()) {
          const items = await client.listAll('/customers', query);
          const ids = items.map((c) => c.id);
          assert.ok(!ids.includes(live.id) && !ids.includes(binned.id), `${name} sees it with ${JSON.stringify(query)}`);
          assert.ok(!JSON.stringify(items).includes('欧阳娜娜'), `${name}: the name leaks with ${JSON.stringify(query)}`);
        }
        for (const number of lookups) {
          const hits = expectStatus(await client.get('/lookup/phone', { query: { number } }), 200);
          assert.deepEqual(hits.items.filter((h) => h.id === live.id || h.name === '欧阳娜娜'), [], `${name}: caller ID ${number}`);
        }
      });

      it('never finds the binned one in the recycle bin (where it may look)', async () => {
        const [name, client] = who();
        for (const query of [{ deleted: 'true' }, { deleted: 'true', q: '司马懿' }, { deleted: 'true', q: 'KH-MATRIX-2' }, { deleted: 'true', source: '矩阵展会' }]) {
          const res = await client.get('/customers', { query });
          if (res.status === 403) continue; // no customer.delete: no recycle bin at all
          const items = await client.listAll('/customers', query);
          assert.ok(!items.some((c) => c.id === binned.id || c.id === live.id), `${name} sees it in the bin with ${JSON.stringify(query)}`);
        }
      });
    });
  }

  it('none of it changed anything: the customers are as the owner left them', async () => {
    const now = expectStatus(await owner.get(`/customers/${live.id}`), 200);
    assert.equal(now.version, live.version);
    assert.equal(now.title, null);
    assert.equal(now.deleted_at, null);
    const bin = (await insider.listAll('/customers', { deleted: 'true' })).map((c) => c.id);
    assert.ok(bin.includes(binned.id), 'the binned customer is still in the bin');
    const reveals = expectStatus(await admin.get('/audit', { query: { action: 'customer.reveal', limit: 500 } }), 200).items;
    const outsiderIds = new Set([users.otherBoss.id, users.otherRep.id, users.teammate.id]);
    assert.deepEqual(reveals.filter((e) => outsiderIds.has(e.actor_id)), [], 'no reveal by an outsider was recorded');
  });
});
