// Duplicates: the 409 on create and edit (and confirming it), the duplicate scan (planted
// groups found, hard negatives not grouped, data scope, permission) and `kehu dedup scan`.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { createMember, expectProblem, expectStatus, startServer } from './harness.mjs';

const CONFIRM = { query: { confirm_duplicate: true } };

describe('duplicates', () => {
  let server;
  let admin;
  let teams;
  before(async () => {
    server = await startServer();
    admin = await server.login();
    teams = {
      north: expectStatus(await admin.post('/teams', { name: '华北区' }), 201),
      south: expectStatus(await admin.post('/teams', { name: '华南区' }), 201),
    };
  });
  after(async () => {
    await server?.close();
  });

  async function member(username, role, team) {
    const s = await createMember(server, admin, username, { role });
    const users = expectStatus(await admin.get('/users'), 200).items;
    const u = users.find((x) => x.username === username);
    if (team) {
      expectStatus(await admin.patch(`/users/${u.id}`, { team_id: team.id }, { headers: { 'if-match': `"${u.version}"` } }), 200);
    }
    s.userId = u.id;
    return s;
  }

  async function create(client, body, opts = {}) {
    return expectStatus(await client.post('/customers', body, opts), 201, `create ${body.name}`);
  }

  describe('on create and edit', () => {
    let zhang;
    before(async () => {
      zhang = await create(admin, {
        name: '张伟', code: 'DUP-A', company: '秦皇岛海港贸易有限公司',
        phones: [{ number: '13811112222' }], emails: [{ address: 'zhang.wei@example.com' }],
      });
    });

    it('a same-number customer is pointed out with 409 and the match, masked', async () => {
      const res = await admin.post('/customers', { name: '張偉', phones: [{ number: '+86 138-1111-2222' }] });
      const p = expectProblem(res, 409);
      assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [['phones[0].number', 'duplicate/phone']]);
      assert.equal(p.duplicates.length, 1);
      const d = p.duplicates[0];
      assert.equal(d.id, zhang.id);
      assert.equal(d.code, 'DUP-A');
      assert.equal(d.name, '张伟');
      assert.deepEqual(d.matched, ['phones[0].number']);
      assert.equal(d.same_person, true);
      assert.ok(d.reasons.includes('same_phone') && d.reasons.includes('name_equal'), d.reasons.join());
      assert.deepEqual(d.phones, ['138****2222']);
      assert.deepEqual(d.emails, ['z***@example.com']);
      assert.ok(!res.text.includes('13811112222'), res.text);
      assert.match(p.detail, /confirm_duplicate=true/);
      // Nothing was saved.
      const list = expectStatus(await admin.get('/customers', { query: { q: '13811112222' } }), 200);
      assert.deepEqual(list.items.map((c) => c.id), [zhang.id]);
    });

    it('of several creates of one new number sent at once, one is saved and the others get 409', async () => {
      const bodies = ['13855556666', '138 5555 6666', '+86 138-5555-6666', '8613855556666', '138.5555.6666', '0086 13855556666']
        .map((number, i) => ({ name: `并发客户${i}`, phones: [{ number }] }));
      const answers = await Promise.all(bodies.map((b) => admin.post('/customers', b)));
      const statuses = answers.map((r) => r.status).sort();
      assert.deepEqual(statuses, [201, 409, 409, 409, 409, 409], answers.map((r) => r.text).join('\n'));
      const list = expectStatus(await admin.get('/customers', { query: { q: '13855556666' } }), 200);
      assert.equal(list.items.length, 1);
      // The create and its audit entry were written together.
      const created = answers.find((r) => r.status === 201).body;
      const entries = expectStatus(await admin.get('/audit', { query: { action: 'customer.create', limit: 200 } }), 200).items;
      assert.ok(entries.some((e) => e.entity_id === String(created.id)), 'audit entry of the create');
    });

    it('edits and a create adding one new number at once: one is saved, the others get 409', async () => {
      // Four customers; in each round all four edits add a new number (in several formats)
      // while a create brings it too. Exactly one write may keep it. (Rounds, because one
      // round rarely hits the gap between a check and its write.)
      const others = [];
      for (let i = 0; i < 4; i++) others.push(await create(admin, { name: `编辑并发${i}`, company: `并发公司${i}` }));
      for (let round = 0; round < 8; round++) {
        const mobile = `1396666${String(7000 + round).padStart(4, '0')}`;
        const forms = [mobile, `${mobile.slice(0, 3)} ${mobile.slice(3, 7)} ${mobile.slice(7)}`, `+86 ${mobile}`, `0086 ${mobile}`];
        const current = await Promise.all(others.map(async (c) => expectStatus(await admin.get(`/customers/${c.id}`), 200)));
        const answers = await Promise.all([
          ...current.map((c, i) => admin.patch(`/customers/${c.id}`, { phones: [{ number: forms[i] }] },
            { headers: { 'if-match': `"${c.version}"` } })),
          admin.post('/customers', { name: `编辑并发新客户${round}`, phones: [{ number: `${mobile.slice(0, 3)}.${mobile.slice(3)}` }] }),
        ]);
        const ok = answers.filter((r) => r.status === 200 || r.status === 201);
        assert.equal(ok.length, 1, `round ${round}:\n` + answers.map((r) => `${r.status} ${r.text}`).join('\n'));
        assert.equal(answers.filter((r) => r.status === 409).length, 4, answers.map((r) => r.status).join());
        const list = expectStatus(await admin.get('/customers', { query: { q: mobile } }), 200);
        assert.deepEqual(list.items.map((c) => c.id), [ok[0].body.id]);
      }
      // An edit that keeps its own number and adds one nobody holds is not its own duplicate.
      const holder = expectStatus(await admin.get(`/customers/${others[0].id}`), 200);
      const again = expectStatus(await admin.patch(`/customers/${holder.id}`,
        { phones: [...holder.phones.map((p) => ({ number: p.number })), { number: '13966668888' }] },
        { headers: { 'if-match': `"${holder.version}"` } }), 200);
      assert.equal(again.phones.length, holder.phones.length + 1);
    });

    it('a same-email customer is pointed out, whatever the case of the address', async () => {
      const p = expectProblem(await admin.post('/customers', { name: 'Zhang Wei', emails: [{ address: 'Zhang.Wei@EXAMPLE.com' }] }), 409);
      assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [['emails[0].address', 'duplicate/email']]);
      assert.equal(p.duplicates[0].id, zhang.id);
      assert.ok(p.duplicates[0].reasons.includes('name_pinyin_equal'));
    });

    it('confirm_duplicate=true saves, and the audit trail says so', async () => {
      const c = await create(admin, { name: '张伟', phones: [{ number: '138 1111 2222' }] }, CONFIRM);
      assert.notEqual(c.id, zhang.id);
      const entries = expectStatus(await admin.get('/audit', { query: { action: 'customer.create', limit: 200 } }), 200).items;
      const e = entries.find((x) => x.entity_id === String(c.id));
      assert.equal(e?.details?.duplicate_confirmed, true, JSON.stringify(e));
      expectProblem(await admin.post('/customers', { name: 'x', phones: [{ number: '13811112222' }] }, { query: { confirm_duplicate: 'yes' } }), 400);
    });

    it('a shared landline is pointed out but not taken for the same person; other extensions are other desks', async () => {
      await create(admin, { name: '王秀兰', city: '秦皇岛', phones: [{ number: '0335-3051234' }] });
      const p = expectProblem(await admin.post('/customers', { name: '王建国', city: '秦皇岛', phones: [{ number: '(0335) 305 1234' }] }), 409);
      assert.equal(p.errors[0].code, 'duplicate/shared_phone');
      assert.equal(p.duplicates[0].same_person, false);
      assert.ok(p.duplicates[0].reasons.includes('same_landline'));
      assert.ok(p.duplicates[0].reasons.includes('name_differs'));
      await create(admin, { name: '前台', phones: [{ number: '0335-3059999 转 12' }] });
      await create(admin, { name: '财务', phones: [{ number: '0335-3059999 转 13' }] });
      expectProblem(await admin.post('/customers', { name: '前台二', phones: [{ number: '0335 3059999 分机 12' }] }), 409);
    });

    it('an edit is checked for the numbers and emails it adds, not for those the customer had', async () => {
      const c = await create(admin, { name: '李娜', phones: [{ number: '13922223333' }] });
      const p = expectProblem(await admin.patch(`/customers/${c.id}`, {
        phones: [{ number: '13922223333' }, { number: '13811112222' }],
      }, { headers: { 'if-match': '"1"' } }), 409);
      assert.deepEqual(p.errors.map((e) => e.field), ['phones[1].number']);
      assert.ok(p.duplicates.some((d) => d.id === zhang.id));
      const saved = expectStatus(await admin.patch(`/customers/${c.id}`, {
        phones: [{ number: '13922223333' }, { number: '13811112222' }],
      }, { headers: { 'if-match': '"1"' }, ...CONFIRM }), 200);
      assert.equal(saved.version, 2);
      // Unrelated edits of a customer that shares a number go through.
      expectStatus(await admin.patch(`/customers/${c.id}`, { title: '采购' }, { headers: { 'if-match': '"2"' } }), 200);
    });

    it('a holder outside the caller\'s scope is said to exist, never named; the answer is audited', async () => {
      const rep = await member('dup_rep', 'sales', teams.south);
      const res = await rep.post('/customers', { name: '张伟', phones: [{ number: '13811112222' }], emails: [{ address: 'zhang.wei@example.com' }] });
      const p = expectProblem(res, 409);
      assert.deepEqual(p.errors.map((e) => [e.field, e.code]), [
        ['phones[0].number', 'duplicate/phone_out_of_scope'],
        ['emails[0].address', 'duplicate/email_out_of_scope'],
      ]);
      assert.deepEqual(p.duplicates, []);
      for (const secret of ['DUP-A', '海港', '"id"', '管理员', 'owner']) {
        assert.ok(!res.text.includes(secret), `the answer leaks ${secret}: ${res.text}`);
      }
      const audit = expectStatus(await admin.get('/audit', { query: { action: 'customer.duplicate_out_of_scope' } }), 200).items;
      assert.ok(audit.some((a) => a.actor_name === 'dup_rep'), JSON.stringify(audit));
      // Confirmed, the rep keeps a customer of their own.
      await create(rep, { name: '张伟', phones: [{ number: '13811112222' }] }, CONFIRM);
    });
  });

  describe('scan', () => {
    let boss; let bossSouth; let repNorth; let repSouth;
    const planted = {};
    before(async () => {
      boss = await member('dup_boss_n', 'sales_manager', teams.north);
      bossSouth = await member('dup_boss_s', 'sales_manager', teams.south);
      repNorth = await member('dup_rep_n', 'sales', teams.north);
      repSouth = await member('dup_rep_s2', 'sales', teams.south);
      const own = (u) => ({ owner_id: u.userId });
      // One person three times: pinyin, a homophone, linked through a mobile and an email.
      planted.li = [
        await create(admin, { name: '李晓明', code: 'G1-A', phones: [{ number: '13700001111' }], ...own(repNorth) }),
        await create(admin, { name: 'Li Xiaoming', code: 'G1-B', phones: [{ number: '137 0000 1111' }], emails: [{ address: 'lxm@example.com' }], ...own(repNorth) }, CONFIRM),
        await create(admin, { name: '李小明', emails: [{ address: 'LXM@example.com' }], ...own(repNorth) }, CONFIRM),
      ];
      // Name in traditional characters and pinyin, company written three ways: no shared contact.
      planted.ouyang = [
        await create(admin, { name: '歐陽明輝', code: 'G2-A', company: '北京华为技术有限公司', province: '北京', ...own(repNorth) }),
        await create(admin, { name: 'Minghui Ouyang', code: 'G2-B', company: '华为技术有限公司（北京）', city: '北京市', ...own(repNorth) }),
      ];
      // A south team customer twice, same mobile.
      planted.south = [
        await create(admin, { name: '周杰', code: 'G3-A', phones: [{ number: '15900002222' }], ...own(repSouth) }),
        await create(admin, { name: '周杰', code: 'G3-B', phones: [{ number: '159-0000-2222' }], city: '广州', ...own(repSouth) }, CONFIRM),
      ];
      // Hard negatives: a common name in two places, a family on one landline.
      planted.fang = [
        await create(admin, { name: '王芳', company: '东方贸易有限公司', city: '北京', phones: [{ number: '13600003333' }] }),
        await create(admin, { name: '王芳', company: '恒达机械有限公司', city: '广州', phones: [{ number: '13600004444' }] }),
      ];
      planted.family = [
        await create(admin, { name: '刘强', gender: 'male', city: '天津', phones: [{ number: '022-23456789' }] }),
        await create(admin, { name: '刘娟', gender: 'female', city: '天津', phones: [{ number: '022 2345 6789' }] }, CONFIRM),
      ];
    });

    const ids = (list) => list.map((c) => c.id).sort((a, b) => a - b);
    const groupsOf = (scan) => scan.groups.map((g) => g.members.map((m) => m.id).sort((a, b) => a - b));

    it('finds the planted groups with their reasons, and not the hard negatives', async () => {
      const scan = expectStatus(await admin.post('/duplicates/scan', {}), 200);
      const groups = groupsOf(scan);
      for (const key of ['li', 'ouyang', 'south']) {
        assert.ok(groups.some((g) => JSON.stringify(g) === JSON.stringify(ids(planted[key]))), `${key} not found in ${JSON.stringify(groups)}`);
      }
      for (const key of ['fang', 'family']) {
        const [a, b] = ids(planted[key]);
        assert.ok(!groups.some((g) => g.includes(a) && g.includes(b)), `${key} grouped: ${JSON.stringify(groups)}`);
      }
      const li = scan.groups.find((g) => g.members.some((m) => m.id === planted.li[0].id));
      assert.ok(li.reasons.includes('same_phone') && li.reasons.includes('same_email'), li.reasons.join());
      assert.ok(li.score >= 0.75 && li.score <= 1);
      assert.match(li.key, /^g[0-9a-f]{16}$/);
      const member = li.members.find((m) => m.id === planted.li[1].id);
      assert.deepEqual(member.phones, ['137****1111']);
      assert.deepEqual(member.emails, ['l***@example.com']);
      const ou = scan.groups.find((g) => g.members.some((m) => m.id === planted.ouyang[0].id));
      assert.ok(ou.reasons.includes('name_pinyin_equal') && ou.reasons.includes('company_equal'), ou.reasons.join());
      assert.ok(scan.scanned >= 11 && scan.total_groups >= 3);
      // A second scan answers the same groups under the same keys.
      const again = expectStatus(await admin.post('/duplicates/scan'), 200);
      assert.deepEqual(again.groups.map((g) => g.key), scan.groups.map((g) => g.key));
    });

    it('a sales manager sees the groups of their team only', async () => {
      const north = groupsOf(expectStatus(await boss.post('/duplicates/scan', {}), 200));
      assert.ok(north.some((g) => JSON.stringify(g) === JSON.stringify(ids(planted.li))));
      assert.ok(!north.some((g) => g.includes(planted.south[0].id)), JSON.stringify(north));
      const south = groupsOf(expectStatus(await bossSouth.post('/duplicates/scan', {}), 200));
      assert.deepEqual(south, [ids(planted.south)]);
    });

    it('needs customer.merge: 403 for a sales rep, 401 without a login; bad options are 422', async () => {
      expectProblem(await repNorth.post('/duplicates/scan', {}), 403);
      const anon = server.anon();
      expectProblem(await anon.post('/duplicates/scan', {}), 401);
      expectProblem(await admin.post('/duplicates/scan', { min_score: 2 }), 422, { field: 'min_score', codes: ['out_of_range'] });
      expectProblem(await admin.post('/duplicates/scan', { everything: true }), 422, { field: 'everything', codes: ['unknown_field'] });
      const few = expectStatus(await admin.post('/duplicates/scan', { limit: 1 }), 200);
      assert.equal(few.groups.length, 1);
      assert.ok(few.total_groups >= 3);
    });

    it('kehu dedup scan --format json prints a list of groups of codes (ids without a code)', async () => {
      const r = server.cliOk(['dedup', 'scan', '--format', 'json']);
      const groups = JSON.parse(r.stdout);
      assert.ok(Array.isArray(groups) && groups.every((g) => Array.isArray(g) && g.length >= 2), r.stdout);
      assert.ok(groups.every((g) => g.every((m) => typeof m === 'string' || Number.isInteger(m))), r.stdout);
      const sorted = groups.map((g) => g.map(String).sort());
      assert.ok(sorted.some((g) => JSON.stringify(g) === JSON.stringify(['G1-A', 'G1-B', String(planted.li[2].id)].sort())), r.stdout);
      assert.ok(sorted.some((g) => JSON.stringify(g) === JSON.stringify(['G2-A', 'G2-B'])), r.stdout);
      assert.ok(groups.some((g) => g.includes(planted.li[2].id)), 'the customer without a code is listed by its id, a number');
      const details = JSON.parse(server.cliOk(['dedup', 'scan', '--format', 'json', '--details']).stdout);
      assert.equal(details.groups.length, groups.length);
      assert.ok(details.groups.every((g) => typeof g.score === 'number' && Array.isArray(g.reasons)));
      assert.notEqual(server.cli(['dedup', 'scan', '--format', 'csv']).code, 0);
    });
  });
});
