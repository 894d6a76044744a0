// Customer lists: cursor pagination, sorting, filters, search; phone lookup.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  createCustomer, createMember, expectProblem, expectStatus, sleep, startServer,
 revealCustomer,
} from './harness.mjs';

const ids = (items) => items.map((c) => c.id);

describe('customer lists', () => {
  let server;
  let admin;
  let member;
  const batch = []; // 25 customers created back to back
  before(async () => {
    server = await startServer();
    admin = await server.login();
    member = await createMember(server, admin, 'list_member');
    for (let i = 1; i <= 25; i++) {
      batch.push(await createCustomer(admin, { name: `分页客户 ${String(i).padStart(2, '0')}`, source: '分页测试' }));
    }
  });
  after(async () => {
    await server?.close();
  });

  describe('pagination', () => {
    it('limit=10 pages through all customers without duplicates or gaps', async () => {
      const pages = [];
      let cursor;
      for (let n = 0; n < 10; n++) {
        const res = await admin.get('/customers', { query: { limit: 10, cursor, source: '分页测试' } });
        const body = expectStatus(res, 200);
        assert.ok(body.items.length <= 10);
        pages.push(ids(body.items));
        cursor = body.next_cursor;
        if (cursor === null) break;
      }
      assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
      const all = pages.flat();
      assert.equal(new Set(all).size, all.length, 'no duplicates');
      assert.deepEqual([...all].sort((a, b) => a - b), ids(batch).sort((a, b) => a - b), 'no gaps');
    });

    it('default order is created_at desc (newest first)', async () => {
      const body = expectStatus(await admin.get('/customers', { query: { limit: 25, source: '分页测试' } }), 200);
      assert.deepEqual(ids(body.items), ids(batch).reverse());
    });

    it('order=asc pages in creation order', async () => {
      const all = await admin.listAll('/customers', { source: '分页测试', order: 'asc' }, { limit: 7 });
      assert.deepEqual(ids(all), ids(batch));
    });

    it('pages are stable while a new customer is created between pages', async () => {
      const first = expectStatus(await admin.get('/customers', { query: { limit: 10, source: '分页测试' } }), 200);
      const extra = await createCustomer(admin, { name: '分页插入', source: '分页测试-插入' });
      const rest = await admin.listAll('/customers', { source: '分页测试', cursor: first.next_cursor }, { limit: 10 });
      const all = [...ids(first.items), ...ids(rest)];
      assert.equal(new Set(all).size, 25);
      assert.ok(!all.includes(extra.id));
    });

    it('limit defaults to 50 and accepts 1 and 200', async () => {
      for (let i = 0; i < 30; i++) await createCustomer(admin, { name: `填充 ${i}`, source: '填充' });
      const d = expectStatus(await admin.get('/customers'), 200);
      assert.equal(d.items.length, 50);
      assert.equal(typeof d.next_cursor, 'string');
      assert.equal(expectStatus(await admin.get('/customers', { query: { limit: 1 } }), 200).items.length, 1);
      const big = expectStatus(await admin.get('/customers', { query: { limit: 200 } }), 200);
      assert.ok(big.items.length > 50 && big.next_cursor === null);
    });

    const badParams = [
      ['limit=0', { limit: 0 }],
      ['limit=201', { limit: 201 }],
      ['limit=abc', { limit: 'abc' }],
      ['limit=-5', { limit: -5 }],
      ['cursor=garbage', { cursor: 'garbage!!' }],
      ['sort=password', { sort: 'password' }],
      ['order=sideways', { order: 'sideways' }],
      ['stage=unknown', { stage: 'unknown' }],
      ['owner_id=abc', { owner_id: 'abc' }],
      ['created_from=yesterday', { created_from: 'yesterday' }],
      ['created_to=2024-02-30', { created_to: '2024-02-30' }],
      ['deleted=maybe', { deleted: 'maybe' }],
    ];
    for (const [name, query] of badParams) {
      it(`bad query parameter ${name} → 400`, async () => {
        expectProblem(await admin.get('/customers', { query }), 400);
      });
    }
  });

  describe('sort', () => {
    const names = ['Sort-C', 'Sort-A', 'Sort-E', 'Sort-B', 'Sort-D'];
    before(async () => {
      for (const name of names) await createCustomer(admin, { name, code: `S-${name.slice(-1)}`, source: '排序' });
    });
    for (const [order, want] of [['asc', ['Sort-A', 'Sort-B', 'Sort-C', 'Sort-D', 'Sort-E']], ['desc', ['Sort-E', 'Sort-D', 'Sort-C', 'Sort-B', 'Sort-A']]]) {
      it(`sort=name order=${order}`, async () => {
        const body = expectStatus(await admin.get('/customers', { query: { source: '排序', sort: 'name', order } }), 200);
        assert.deepEqual(body.items.map((c) => c.name), want);
      });
      it(`sort=name order=${order} across pages of 2`, async () => {
        const all = await admin.listAll('/customers', { source: '排序', sort: 'name', order }, { limit: 2 });
        assert.deepEqual(all.map((c) => c.name), want);
      });
      it(`sort=code order=${order}`, async () => {
        const body = expectStatus(await admin.get('/customers', { query: { source: '排序', sort: 'code', order } }), 200);
        assert.deepEqual(body.items.map((c) => c.name), want);
      });
    }
    it('sort=updated_at desc puts the last changed first', async () => {
      const list = expectStatus(await admin.get('/customers', { query: { source: '排序', sort: 'name', order: 'asc' } }), 200).items;
      const c = list[2];
      await sleep(5);
      expectStatus(await admin.patch(`/customers/${c.id}`, { notes: '刚改过' }, { headers: { 'if-match': `"${c.version}"` } }), 200);
      const body = expectStatus(await admin.get('/customers', { query: { source: '排序', sort: 'updated_at', order: 'desc' } }), 200);
      assert.equal(body.items[0].id, c.id);
    });
  });

  describe('filters and search', () => {
    let a; let b; let c; let d;
    before(async () => {
      a = await createCustomer(admin, {
        name: '赵敏', company: '北京星辰科技有限公司', code: 'KH-F001', source: '展会', province: '北京市', city: '北京市',
        stage: 'intent', owner_id: member.user.id, phones: [{ number: '139 1234 5678' }],
      });
      await sleep(30);
      b = await createCustomer(admin, {
        name: '钱伟', company: '上海浦江贸易有限公司', code: 'KH-F002', source: '官网', province: '上海市', city: '上海市',
        stage: 'won', owner_id: admin.user.id, phones: [{ number: '021-6234 5678' }],
      });
      await sleep(30);
      c = await createCustomer(admin, {
        name: '孙丽', company: '深圳湾电子有限公司', code: 'KH-F003', source: '展会', province: '广东省', city: '深圳市',
        stage: 'won', owner_id: member.user.id, phones: [{ number: '0755-8376 5432' }],
      });
      d = await createCustomer(admin, {
        name: '李强', company: '秦皇岛港务集团', code: 'KH-F004', source: '转介绍', province: '河北省', city: '秦皇岛市',
        stage: 'dormant', phones: [{ number: '0335-3051234 转 12' }],
      });
    });

    // [name, query (built after before() ran), expected customers among a–d, predicate every item meets]
    const byOwner = (id) => (x) => x.owner_id === id;
    const filterCases = [
      ['owner_id=member', () => ({ owner_id: member.user.id }), () => [a, c], () => byOwner(member.user.id)],
      // d was created without an owner: whatever default it got, the filter must agree with it.
      ['owner_id=admin', () => ({ owner_id: admin.user.id }), () => [b, d].filter((x) => x.owner_id === admin.user.id), () => byOwner(admin.user.id)],
      ['source=展会', () => ({ source: '展会' }), () => [a, c], () => (x) => x.source === '展会'],
      ['province=上海市', () => ({ province: '上海市' }), () => [b], () => (x) => x.province === '上海市'],
      ['city=深圳市', () => ({ city: '深圳市' }), () => [c], () => (x) => x.city === '深圳市'],
      ['stage=won', () => ({ stage: 'won' }), () => [b, c], () => (x) => x.stage === 'won'],
      ['stage=won & source=展会', () => ({ stage: 'won', source: '展会' }), () => [c], () => (x) => x.stage === 'won' && x.source === '展会'],
      ['q=赵 (name prefix)', () => ({ q: '赵' }), () => [a]],
      ['q=伟 (name contains)', () => ({ q: '伟' }), () => [b]],
      ['q=浦江 (company contains)', () => ({ q: '浦江' }), () => [b]],
      ['q=深圳湾电子 (company prefix)', () => ({ q: '深圳湾电子' }), () => [c]],
      ['q=KH-F003 (code)', () => ({ q: 'KH-F003' }), () => [c]],
      ['q=+86 139-1234-5678 (phone, other format)', () => ({ q: '+86 139-1234-5678' }), () => [a]],
      ['q=8613912345678 (phone, digits only)', () => ({ q: '8613912345678' }), () => [a]],
      ['q=１３９１２３４５６７８ (phone, full-width)', () => ({ q: '１３９１２３４５６７８' }), () => [a]],
      ['q=(021) 62345678 (fixed line)', () => ({ q: '(021) 62345678' }), () => [b]],
      ['q=5432 (last 4 digits)', () => ({ q: '5432' }), () => [c]],
      ['q=5678 (last 4 digits, two customers)', () => ({ q: '5678' }), () => [a, b]],
      ['q=0335-3051234 (number stored with an extension)', () => ({ q: '0335-3051234' }), () => [d]],
    ];
    for (const [name, query, want, pred] of filterCases) {
      it(name, async () => {
        const got = await admin.listAll('/customers', query());
        const scope = new Set(ids([a, b, c, d]));
        const inScope = ids(got.filter((x) => scope.has(x.id))).sort((x, y) => x - y);
        assert.deepEqual(inScope, ids(want()).sort((x, y) => x - y), `got ${got.map((x) => x.name).join(', ')}`);
        if (pred) {
          const p = pred();
          const wrong = got.filter((x) => !p(x));
          assert.deepEqual(wrong.map((x) => x.name), [], 'every item matches the filter');
        }
      });
    }

    it('created_from / created_to with RFC 3339 split the customers by time', async () => {
      const mid = new Date((Date.parse(a.created_at) + Date.parse(b.created_at)) / 2).toISOString();
      const from = ids(await admin.listAll('/customers', { created_from: mid }));
      const to = ids(await admin.listAll('/customers', { created_to: mid }));
      assert.ok(!from.includes(a.id) && from.includes(b.id) && from.includes(c.id), 'created_from');
      assert.ok(to.includes(a.id) && !to.includes(b.id) && !to.includes(c.id), 'created_to');
    });

    it('created_from / created_to accept YYYY-MM-DD', async () => {
      const day = 24 * 3600 * 1000;
      const ymd = (t) => new Date(t).toISOString().slice(0, 10);
      const now = Date.now();
      const all = await admin.listAll('/customers');
      assert.equal((await admin.listAll('/customers', { created_from: ymd(now - 2 * day) })).length, all.length);
      assert.equal((await admin.listAll('/customers', { created_to: ymd(now + 2 * day) })).length, all.length);
      assert.equal((await admin.listAll('/customers', { created_from: ymd(now + 2 * day) })).length, 0);
      assert.equal((await admin.listAll('/customers', { created_to: ymd(now - 2 * day) })).length, 0);
    });

    it('a search matches nothing it should not', async () => {
      assert.deepEqual(await admin.listAll('/customers', { q: '不存在的客户名称' }), []);
      assert.deepEqual(await admin.listAll('/customers', { q: '13700000000' }), []);
    });

    it('deleted customers are not found by search; they are with deleted=true', async () => {
      const x = await createCustomer(admin, { name: '删除后搜索', phones: [{ number: '13600136000' }] });
      expectStatus(await admin.del(`/customers/${x.id}`), 204);
      assert.deepEqual(ids(await admin.listAll('/customers', { q: '删除后搜索' })), []);
      assert.deepEqual(ids(await admin.listAll('/customers', { q: '删除后搜索', deleted: 'true' })), [x.id]);
      const look = expectStatus(await admin.get('/lookup/phone', { query: { number: '13600136000' } }), 200);
      assert.deepEqual(look.items, []);
    });
  });

  describe('lookup/phone', () => {
    let m1; let m2; let f;
    before(async () => {
      m1 = await createCustomer(admin, { name: '来电甲', company: '甲公司', code: 'KH-L1', phones: [{ number: '+86 138-0013-8000', label: '手机' }] });
      // Two customers with one mobile, on purpose (caller ID lists both).
      m2 = await createCustomer(admin, { name: '来电乙', phones: [{ number: '010-6552 9988', label: '办公' }, { number: '13800138000', label: '私人' }] },
        '', { confirmDuplicate: true });
      f = await createCustomer(admin, { name: '来电丙', phones: [{ number: '(0335) 305-1234', label: '办公' }] });
    });

    const numbers = ['13800138000', '+86 138 0013 8000', '+8613800138000', '0086-138-0013-8000', '１３８００１３８０００', '138-0013-8000'];
    for (const number of numbers) {
      it(`${JSON.stringify(number)} finds both customers with 13800138000`, async () => {
        const body = expectStatus(await admin.get('/lookup/phone', { query: { number } }), 200);
        assert.equal(body.number.e164, '+8613800138000');
        assert.equal(body.number.valid, true);
        assert.equal(body.number.type, 'mobile');
        assert.deepEqual(ids(body.items).sort((x, y) => x - y), [m1.id, m2.id].sort((x, y) => x - y));
        const i1 = body.items.find((x) => x.id === m1.id);
        assert.deepEqual(i1, { id: m1.id, name: '来电甲', company: '甲公司', code: 'KH-L1', owner_id: m1.owner_id, phone_label: '手机' });
        assert.equal(body.items.find((x) => x.id === m2.id).phone_label, '私人');
      });
    }

    it('a fixed line written differently finds its customer, region in Chinese', async () => {
      const body = expectStatus(await admin.get('/lookup/phone', { query: { number: '0335 305 1234' } }), 200);
      assert.equal(body.number.e164, '+863353051234');
      assert.equal(body.number.extension, '');
      assert.ok(body.number.region.includes('秦皇岛'), body.number.region);
      assert.ok(ids(body.items).includes(f.id), `found ${JSON.stringify(body.items)}`);
      // Every hit really has that number (with or without an extension).
      for (const item of body.items) {
        const c = await revealCustomer(admin, item.id);
        assert.ok(c.phones.some((p) => p.e164 === '+863353051234'), `${c.name} has no +863353051234`);
      }
    });

    it('a valid number nobody has → 200 with no items', async () => {
      const body = expectStatus(await admin.get('/lookup/phone', { query: { number: '13700000000' } }), 200);
      assert.equal(body.number.e164, '+8613700000000');
      assert.deepEqual(body.items, []);
    });

    for (const q of [{ number: 'hello' }, { number: '' }, {}, { number: '!!!' }]) {
      it(`garbage ${JSON.stringify(q)} → 400`, async () => {
        expectProblem(await admin.get('/lookup/phone', { query: q }), 400);
      });
    }
  });

  it('server exits 0 on SIGTERM', async () => {
    await server.stopCleanly();
  });
});
