// Merging duplicates: the side-by-side suggestion, a merge that keeps every phone, email and
// tag, merged-away customers gone from lists, caller ID and the scan (pointing to the
// survivor), history, exact undo, undo refused after an edit, stale versions, data scope,
// the bulk exact-phone merge (mobiles yes, a shared landline no), the audit trail and the CLI.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createMember, expectProblem, expectStatus, revealCustomer, startServer } from './harness.mjs';

const CONFIRM = { query: { confirm_duplicate: true } };

// A customer's JSON without what a write moves on.
function comparable(c) {
  const { version, updated_at, ...rest } = c;
  return rest;
}

describe('merging duplicates', () => {
  let server;
  let admin;
  let boss; // sales manager of the north team
  let repNorth;
  let repSouth;

  before(async () => {
    server = await startServer();
    admin = await server.login();
    const north = expectStatus(await admin.post('/teams', { name: '华北合并' }), 201);
    const south = expectStatus(await admin.post('/teams', { name: '华南合并' }), 201);
    async function member(username, role, team) {
      const s = await createMember(server, admin, username, { role });
      const u = expectStatus(await admin.get('/users'), 200).items.find((x) => x.username === username);
      expectStatus(await admin.patch(`/users/${u.id}`, { team_id: team.id }, { headers: { 'if-match': `"${u.version}"` } }), 200);
      s.userId = u.id;
      return s;
    }
    boss = await member('merge-boss', 'sales_manager', north);
    repNorth = await member('merge-rep-n', 'sales', north);
    repSouth = await member('merge-rep-s', 'sales', south);
  });
  after(async () => {
    await server?.close();
  });

  async function create(body, opts = CONFIRM) {
    return expectStatus(await admin.post('/customers', body, opts), 201, `create ${body.name}`);
  }
  async function get(id) {
    return expectStatus(await admin.get(`/customers/${id}`), 200, `get ${id}`);
  }
  const versions = (...cs) => Object.fromEntries(cs.map((c) => [String(c.id), c.version]));

  describe('one group, merged and undone', () => {
    let a;
    let b;
    let beforeA;
    let beforeB;
    let clearA;
    let clearB;
    let merge;

    before(async () => {
      a = await create({
        name: '李明', code: 'MG-A', company: '秦皇岛海港贸易有限公司', gender: 'male',
        phones: [{ number: '13900001111', label: '手机', primary: true }],
        emails: [{ address: 'li.ming@example.com' }], tags: ['VIP'],
      }, {});
      b = await create({
        name: '李明', code: 'MG-B', company: '海港贸易', city: '秦皇岛',
        phones: [{ number: '139-0000-1111' }, { number: '010-66661234', label: '办公室', primary: true }],
        emails: [{ address: 'LI.MING@example.com' }, { address: 'ming@haigang.cn' }], tags: ['展会', 'VIP'],
      });
      beforeA = await get(a.id);
      beforeB = await get(b.id);
      clearA = await revealCustomer(admin, a.id);
      clearB = await revealCustomer(admin, b.id);
    });

    it('suggests a survivor and lays the fields side by side, masked', async () => {
      const s = expectStatus(await admin.post('/duplicates/suggest', { ids: [a.id, b.id] }), 200);
      assert.deepEqual(s.members.map((m) => m.customer.id).sort(), [a.id, b.id].sort());
      // b has more contact points and a city: the more complete one.
      assert.equal(s.survivor_id, b.id);
      assert.equal(s.members[0].customer.id, b.id);
      const company = s.fields.find((f) => f.field === 'company');
      assert.equal(company.differs, true);
      assert.equal(company.default, b.id);
      assert.deepEqual(Object.fromEntries(company.values.map((v) => [v.customer_id, v.value])), {
        [a.id]: '秦皇岛海港贸易有限公司', [b.id]: '海港贸易',
      });
      const name = s.fields.find((f) => f.field === 'name');
      assert.equal(name.differs, false);
      const gender = s.fields.find((f) => f.field === 'gender');
      assert.equal(gender.default, a.id, 'an empty value is filled from the member that has one');
      assert.equal(s.preview.phones.length, 2);
      assert.equal(s.preview.emails.length, 2);
      assert.deepEqual([...s.preview.tags].sort(), ['VIP', '展会'].sort());
      assert.ok(!JSON.stringify(s).includes('13900001111'), 'suggestion leaks a clear number');
      expectProblem(await admin.post('/duplicates/suggest', { ids: [a.id] }), 422, { field: 'ids' });
      expectProblem(await admin.post('/duplicates/suggest', { ids: [a.id, 999999] }), 404);
      expectProblem(await repNorth.post('/duplicates/suggest', { ids: [a.id, b.id] }), 403);
    });

    it('a stale version is refused and nothing changes', async () => {
      const res = await admin.post('/merges', { survivor_id: a.id, loser_ids: [b.id], versions: { [a.id]: a.version, [b.id]: b.version + 5 } });
      expectProblem(res, 412);
      assert.deepEqual(await get(a.id), beforeA);
      assert.deepEqual(await get(b.id), beforeB);
      expectProblem(await admin.post('/merges', { survivor_id: a.id, loser_ids: [b.id], versions: { [a.id]: a.version } }), 422, { field: `versions.${b.id}` });
      expectProblem(await admin.post('/merges', { survivor_id: a.id, loser_ids: [b.id], choices: { nope: a.id }, versions: versions(a, b) }), 422, { field: 'choices.nope' });
      expectProblem(await admin.post('/merges', { survivor_id: a.id, loser_ids: [a.id], versions: versions(a, b) }), 422);
      assert.deepEqual(await get(a.id), beforeA);
    });

    it('merges: every phone, email and tag kept, the chosen values taken', async () => {
      const res = await admin.post('/merges', {
        survivor_id: a.id, loser_ids: [b.id], choices: { company: b.id }, versions: versions(a, b),
      });
      merge = expectStatus(res, 201, 'merge');
      assert.equal(merge.survivor_id, a.id);
      assert.deepEqual(merge.loser_ids, [b.id]);
      assert.equal(merge.undone_at, null);
      assert.ok(merge.fields.includes('company') && merge.fields.includes('city'), merge.fields.join());
      const s = await get(a.id);
      assert.equal(s.company, '海港贸易');
      assert.equal(s.city, '秦皇岛', 'empty field filled from the loser');
      assert.equal(s.gender, 'male');
      assert.equal(s.code, 'MG-A');
      assert.deepEqual([...s.tags].sort(), ['VIP', '展会'].sort());
      const clear = await revealCustomer(admin, a.id);
      assert.deepEqual(clear.phones.map((p) => p.e164).sort(), ['+8613900001111', '+861066661234'].sort());
      assert.equal(clear.phones.filter((p) => p.primary).length, 1, 'one primary phone');
      assert.equal(clear.phones.find((p) => p.primary).e164, '+8613900001111', "the survivor's primary stays");
      assert.deepEqual(clear.emails.map((e) => e.address.toLowerCase()).sort(), ['li.ming@example.com', 'ming@haigang.cn']);
    });

    it('the merged-away customer is gone from lists, caller ID and the scan, and points to the survivor', async () => {
      const p = expectProblem(await admin.get(`/customers/${b.id}`), 404);
      assert.equal(p.merged_into, a.id);
      const list = expectStatus(await admin.get('/customers', { query: { q: '李明' } }), 200);
      assert.deepEqual(list.items.map((c) => c.id), [a.id]);
      const lookup = expectStatus(await admin.get('/lookup/phone', { query: { number: '010-66661234' } }), 200);
      assert.deepEqual(lookup.items.map((h) => h.id), [a.id]);
      const scan = expectStatus(await admin.post('/duplicates/scan', {}), 200);
      assert.ok(!scan.groups.some((g) => g.members.some((m) => m.id === b.id)), 'loser still in the scan');
      // The recycle bin holds it, but restoring it is refused: undo the merge instead.
      const r = expectProblem(await admin.post(`/customers/${b.id}/restore`, {}), 409);
      assert.match(r.detail, /merged into customer/);
      // The recycle bin says where it went; a customer deleted the ordinary way has no merged_into.
      const other = await create({ name: '回收站对照', phones: [{ number: '13700009999' }] }, {});
      expectStatus(await admin.del(`/customers/${other.id}`), 204);
      const bin = expectStatus(await admin.get('/customers', { query: { deleted: true, limit: 200 } }), 200).items;
      assert.equal(bin.find((c) => c.id === b.id)?.merged_into, a.id);
      assert.equal(bin.find((c) => c.id === other.id)?.merged_into, undefined);
      assert.ok(!bin.some((c) => c.id === a.id));
    });

    it("the survivor's history includes the merged customer's entries", async () => {
      const h = expectStatus(await admin.get(`/customers/${a.id}/history`, { query: { limit: 100 } }), 200);
      const seen = h.items.map((e) => `${e.action}:${e.entity_id}`);
      assert.ok(seen.includes(`customer.create:${b.id}`), seen.join());
      assert.ok(seen.includes(`customer.create:${a.id}`), seen.join());
      assert.ok(seen.includes(`customer.merge:${a.id}`), seen.join());
      expectProblem(await repNorth.get(`/customers/${a.id}/history`), 404);
    });

    it('the merge is listed and audited, without contact data', async () => {
      const list = expectStatus(await admin.get('/merges'), 200);
      assert.equal(list.items[0].id, merge.id);
      assert.equal(list.items[0].survivor_name, '李明');
      expectStatus(await admin.get(`/merges/${merge.id}`), 200);
      expectProblem(await admin.get('/merges/999999'), 404);
      const audit = expectStatus(await admin.get('/audit', { query: { action: 'customer.merge' } }), 200);
      const e = audit.items.find((x) => x.details.merge_id === merge.id);
      assert.ok(e, JSON.stringify(audit.items));
      assert.equal(e.entity_id, String(a.id));
      assert.deepEqual(e.details.loser_ids, [b.id]);
      assert.ok(!JSON.stringify(e).includes('13900001111') && !JSON.stringify(e).includes('haigang'), JSON.stringify(e));
    });

    it('undo puts both back exactly, once', async () => {
      const undone = expectStatus(await admin.post(`/merges/${merge.id}/undo`, {}), 200);
      assert.ok(undone.undone_at);
      assert.deepEqual(comparable(await get(a.id)), comparable(beforeA));
      assert.deepEqual(comparable(await get(b.id)), comparable(beforeB));
      assert.deepEqual(comparable(await revealCustomer(admin, a.id)), comparable(clearA));
      assert.deepEqual(comparable(await revealCustomer(admin, b.id)), comparable(clearB));
      const lookup = expectStatus(await admin.get('/lookup/phone', { query: { number: '010-66661234' } }), 200);
      assert.deepEqual(lookup.items.map((h) => h.id), [b.id]);
      const again = expectProblem(await admin.post(`/merges/${merge.id}/undo`, {}), 409);
      assert.match(again.detail, /undone already/);
      const audit = expectStatus(await admin.get('/audit', { query: { action: 'customer.merge_undo' } }), 200);
      assert.ok(audit.items.some((x) => x.details.merge_id === merge.id));
      const listed = expectStatus(await admin.get(`/merges/${merge.id}`), 200);
      assert.ok(listed.undone_at);
    });
  });

  it('undo after the survivor was edited is refused, and nothing changes', async () => {
    const c = await create({ name: '陈静', phones: [{ number: '13700002222' }] }, {});
    const d = await create({ name: '陈静', phones: [{ number: '13700002222' }], city: '北京' });
    const m = expectStatus(await admin.post('/merges', { survivor_id: d.id, loser_ids: [c.id], versions: versions(c, d) }), 201);
    const merged = await get(d.id);
    const edited = expectStatus(await admin.patch(`/customers/${d.id}`, { title: '经理' }, { headers: { 'if-match': `"${merged.version}"` } }), 200);
    const p = expectProblem(await admin.post(`/merges/${m.id}/undo`, {}), 409);
    assert.match(p.detail, /changed after the merge/);
    assert.deepEqual(await get(d.id), { ...edited, owner_name: edited.owner_name });
    assert.equal(expectProblem(await admin.get(`/customers/${c.id}`), 404).merged_into, d.id);
  });

  it('a member outside the data scope is refused like an unknown one; merging needs customer.merge', async () => {
    const mine = await create({ name: '孙丽', phones: [{ number: '13500003333' }], owner_id: repNorth.userId }, {});
    const theirs = await create({ name: '孙丽', phones: [{ number: '13500003333' }], owner_id: repSouth.userId });
    const body = { survivor_id: mine.id, loser_ids: [theirs.id], versions: versions(mine, theirs) };
    expectProblem(await boss.post('/duplicates/suggest', { ids: [mine.id, theirs.id] }), 404);
    const p = expectProblem(await boss.post('/merges', body), 404);
    assert.doesNotMatch(p.detail, /孙丽/);
    expectProblem(await repNorth.post('/merges', body), 403);
    expectStatus(await admin.get(`/customers/${theirs.id}`), 200);
    expectStatus(await admin.get(`/customers/${mine.id}`), 200);
    // Within their scope a manager may merge.
    const other = await create({ name: '孙丽', phones: [{ number: '13500003333' }], owner_id: repNorth.userId });
    const m = expectStatus(await boss.post('/merges', { survivor_id: mine.id, loser_ids: [other.id], versions: versions(mine, other) }), 201);
    expectStatus(await boss.post(`/merges/${m.id}/undo`, {}), 200);
    // ...and sees no merge of customers outside it.
    const listed = expectStatus(await boss.get('/merges'), 200).items.map((x) => x.id);
    assert.ok(listed.includes(m.id));
    const all = expectStatus(await admin.get('/merges'), 200).items;
    for (const x of all.filter((x) => !listed.includes(x.id))) expectProblem(await boss.get(`/merges/${x.id}`), 404);
    // Newer merges outside the scope do not push theirs off a page: pages are filled from the
    // merges the member may see.
    for (let i = 0; i < 3; i++) {
      const s1 = await create({ name: `南区${i}`, phones: [{ number: `1350000${4000 + i}` }], owner_id: repSouth.userId }, {});
      const s2 = await create({ name: `南区${i}`, phones: [{ number: `1350000${4000 + i}` }], owner_id: repSouth.userId });
      expectStatus(await admin.post('/merges', { survivor_id: s1.id, loser_ids: [s2.id], versions: versions(s1, s2) }), 201);
    }
    const first = expectStatus(await boss.get('/merges', { query: { limit: 1 } }), 200);
    assert.deepEqual(first.items.map((x) => x.id), [m.id]);
    let cursor = first.next_cursor;
    const seen = [m.id];
    while (cursor) {
      const page = expectStatus(await boss.get('/merges', { query: { limit: 1, cursor } }), 200);
      assert.ok(page.items.length === 1 || !page.next_cursor, JSON.stringify(page));
      seen.push(...page.items.map((x) => x.id));
      cursor = page.next_cursor;
    }
    assert.deepEqual(seen, listed);
  });

  it('bulk: members sharing a mobile are merged, a household on one landline is not; admins only', async () => {
    const mob = [
      await create({ name: '周涛', phones: [{ number: '15800005555' }] }, {}),
      await create({ name: '周涛', phones: [{ number: '158 0000 5555' }], emails: [{ address: 'zhoutao@example.com' }] }),
    ];
    const land = [
      await create({ name: '赵敏', city: '天津', phones: [{ number: '022-28887777' }] }, {}),
      await create({ name: '赵敏', city: '天津', phones: [{ number: '022 2888 7777' }] }),
    ];
    expectProblem(await boss.post('/merges/bulk-exact-phone', { dry_run: true }), 403);
    expectProblem(await admin.post('/merges/bulk-exact-phone', { dry_run: 'yes' }), 422, { field: 'dry_run' });
    const dry = expectStatus(await admin.post('/merges/bulk-exact-phone', { dry_run: true }), 200);
    assert.equal(dry.dry_run, true);
    assert.ok(dry.groups >= 1, JSON.stringify(dry));
    assert.deepEqual(dry.merge_ids, []);
    expectStatus(await admin.get(`/customers/${mob[1].id}`), 200, 'a dry run merges nothing');
    const res = expectStatus(await admin.post('/merges/bulk-exact-phone', {}), 200);
    assert.equal(res.dry_run, false);
    assert.equal(res.groups, dry.groups);
    assert.equal(res.merged_customers, dry.merged_customers);
    assert.equal(res.merge_ids.length, res.groups);
    // The mobile pair is one customer now (the one with an email survives), the landline pair two.
    assert.equal(expectProblem(await admin.get(`/customers/${mob[0].id}`), 404).merged_into, mob[1].id);
    expectStatus(await admin.get(`/customers/${land[0].id}`), 200);
    expectStatus(await admin.get(`/customers/${land[1].id}`), 200);
    const merges = expectStatus(await admin.get('/merges', { query: { limit: 200 } }), 200).items;
    const mine = merges.find((m) => m.survivor_id === mob[1].id && m.bulk);
    assert.ok(mine && res.merge_ids.includes(mine.id));
    const audit = expectStatus(await admin.get('/audit', { query: { action: 'customer.merge_bulk' } }), 200);
    assert.ok(audit.items.some((e) => e.details.dry_run === false && e.details.merge_ids.includes(mine.id)));
    // Each bulk merge can be undone on its own.
    expectStatus(await admin.post(`/merges/${mine.id}/undo`, {}), 200);
    expectStatus(await admin.get(`/customers/${mob[0].id}`), 200);
  });

  it('the CLI merges and undoes', async () => {
    const e = await create({ name: '吴昊', phones: [{ number: '13300006666' }] }, {});
    const f = await create({ name: '吴昊', phones: [{ number: '13300006666' }], tags: ['老客户'] });
    const out = server.cliOk(['dedup', 'merge', String(e.id), String(f.id)]);
    const m = JSON.parse(out.stdout ?? out);
    assert.equal(m.survivor_id, e.id);
    assert.deepEqual((await get(e.id)).tags, ['老客户']);
    expectProblem(await admin.get(`/customers/${f.id}`), 404);
    server.cliOk(['dedup', 'undo', String(m.id)]);
    expectStatus(await admin.get(`/customers/${f.id}`), 200);
    const dry = server.cliOk(['dedup', 'merge-exact-phone', '--dry-run']);
    assert.equal(JSON.parse(dry.stdout ?? dry).dry_run, true);
  });
});
