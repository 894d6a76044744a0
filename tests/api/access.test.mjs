// Roles, teams and data scope; masked numbers and the reveal quota; the audit trail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  createCustomer, createMember, expectProblem, expectStatus, revealCustomer, startServer,
} from './harness.mjs';

describe('access control', () => {
  let server;
  let admin;
  let teams;
  before(async () => {
    server = await startServer();
    admin = await server.login();
    const north = expectStatus(await admin.post('/teams', { name: '华北区' }), 201);
    const hebei = expectStatus(await admin.post('/teams', { name: '河北组', parent_id: north.id }), 201);
    const south = expectStatus(await admin.post('/teams', { name: '华南区' }), 201);
    teams = { north, hebei, south };
  });
  after(async () => {
    await server?.close();
  });

  async function member(username, role, team) {
    const s = await createMember(server, admin, username, { role });
    if (team) {
      const users = expectStatus(await admin.get('/users'), 200).items;
      const u = users.find((x) => x.username === username);
      expectStatus(await admin.patch(`/users/${u.id}`, { team_id: team.id }, { headers: { 'if-match': `"${u.version}"` } }), 200);
    }
    return s;
  }

  describe('data scope', () => {
    let repA; let repB; let boss; let otherBoss; let viewer; let c;
    before(async () => {
      repA = await member('rep_a', 'sales', teams.hebei);
      repB = await member('rep_b', 'sales', teams.south);
      boss = await member('boss_north', 'sales_manager', teams.north);
      otherBoss = await member('boss_south', 'sales_manager', teams.south);
      viewer = await member('viewer', 'readonly');
      c = await createCustomer(repA, { name: '赵敏', code: 'KH-SCOPE', phones: [{ number: '13912345678' }], emails: [{ address: 'zhao.min@example.com' }] });
    });

    it("another team's sales rep gets 404 on every customer endpoint, never 403", async () => {
      expectProblem(await repB.get(`/customers/${c.id}`), 404);
      expectProblem(await repB.patch(`/customers/${c.id}`, { title: 'x' }, { headers: { 'if-match': '"1"' } }), 404);
      expectProblem(await repB.post(`/customers/${c.id}/reveal`, {}), 404);
      const list = expectStatus(await repB.get('/customers', { query: { q: '13912345678' } }), 200);
      assert.deepEqual(list.items, []);
      const byCode = expectStatus(await repB.get('/customers', { query: { q: 'KH-SCOPE' } }), 200);
      assert.deepEqual(byCode.items, []);
      const lookup = expectStatus(await repB.get('/lookup/phone', { query: { number: '139 1234 5678' } }), 200);
      assert.deepEqual(lookup.items, []);
    });

    it('a sales rep lacks delete: 403 (a permission, not a record, is refused)', async () => {
      expectProblem(await repA.del(`/customers/${c.id}`), 403);
    });

    it('a manager sees customers of sub-teams; the other region manager does not', async () => {
      expectStatus(await boss.get(`/customers/${c.id}`), 200);
      expectProblem(await otherBoss.get(`/customers/${c.id}`), 404);
      const hits = expectStatus(await boss.get('/lookup/phone', { query: { number: '+8613912345678' } }), 200);
      assert.deepEqual(hits.items.map((i) => i.id), [c.id]);
    });

    it('read-only sees all customers masked and can neither reveal nor create', async () => {
      const got = expectStatus(await viewer.get(`/customers/${c.id}`), 200);
      assert.equal(got.masked, true);
      assert.equal(got.phones[0].display, '139****5678');
      assert.equal(got.phones[0].number, '139****5678');
      assert.equal(got.emails[0].address, 'z***@example.com');
      expectProblem(await viewer.post(`/customers/${c.id}/reveal`, {}), 403);
      expectProblem(await viewer.post('/customers', { name: '只读不能建' }), 403);
    });

    it('the owner reveals the clear values; a masked value sent back keeps the stored one', async () => {
      const clear = await revealCustomer(repA, c.id);
      assert.equal(clear.phones[0].e164, '+8613912345678');
      assert.equal(clear.emails[0].address, 'zhao.min@example.com');
      const masked = expectStatus(await repA.get(`/customers/${c.id}`), 200);
      const patch = { title: '经理', phones: masked.phones.map((p) => ({ number: p.number, label: p.label })) };
      expectStatus(await repA.patch(`/customers/${c.id}`, patch, { headers: { 'if-match': `"${masked.version}"` } }), 200);
      assert.equal((await revealCustomer(admin, c.id)).phones[0].e164, '+8613912345678');
    });

    it('a sales rep cannot hand a customer to another team (422 owner_id)', async () => {
      const users = expectStatus(await admin.get('/users'), 200).items;
      const b = users.find((u) => u.username === 'rep_b');
      const now = expectStatus(await repA.get(`/customers/${c.id}`), 200);
      expectProblem(await repA.patch(`/customers/${c.id}`, { owner_id: b.id }, { headers: { 'if-match': `"${now.version}"` } }), 422, { field: 'owner_id', codes: ['out_of_scope'] });
    });
  });

  describe('reveal quota', () => {
    it('stops at the daily quota with 429 and raises an admin alert', async () => {
      const roles = expectStatus(await admin.get('/roles'), 200).items;
      const sales = roles.find((r) => r.key === 'sales');
      const changed = await admin.patch(`/roles/${sales.id}`, { reveal_quota: 2 }, { headers: { 'if-match': `"${sales.version}"` } });
      assert.equal(expectStatus(changed, 200).reveal_quota, 2);
      const rep = await member('rep_quota', 'sales');
      const ids = [];
      for (let i = 0; i < 3; i++) ids.push((await createCustomer(rep, { name: `配额${i}`, phones: [{ number: `1370000000${i}` }] })).id);
      const first = expectStatus(await rep.post(`/customers/${ids[0]}/reveal`, {}), 200);
      assert.equal(first.reveals_today, 1);
      assert.equal(first.reveal_quota, 2);
      expectStatus(await rep.post(`/customers/${ids[1]}/reveal`, {}), 200);
      expectProblem(await rep.post(`/customers/${ids[2]}/reveal`, {}), 429);
      const alerts = expectStatus(await admin.get('/audit', { query: { action: 'alert.' } }), 200).items;
      assert.ok(alerts.some((a) => a.action === 'alert.reveal_quota' && a.actor_name === 'rep_quota'), JSON.stringify(alerts));
    });
  });

  describe('roles, teams and users', () => {
    it('only user.admin manages roles; built-ins stay, the admin role keeps user.admin', async () => {
      const rep = await member('rep_roles', 'sales');
      expectProblem(await rep.get('/roles'), 403);
      const roles = expectStatus(await admin.get('/roles'), 200).items;
      assert.deepEqual(roles.filter((r) => r.builtin).map((r) => r.key).sort(),
        ['admin', 'marketing', 'readonly', 'sales', 'sales_manager', 'service']);
      const adminRole = roles.find((r) => r.key === 'admin');
      expectProblem(await admin.del(`/roles/${adminRole.id}`), 409);
      expectProblem(await admin.patch(`/roles/${adminRole.id}`, { permissions: ['customer.read'] }, { headers: { 'if-match': `"${adminRole.version}"` } }), 422);
      expectProblem(await admin.patch(`/roles/${adminRole.id}`, { name: '超管' }), 428);
      const created = await admin.post('/roles', { key: 'auditor', name: '审计员', permissions: ['customer.read', 'audit.read'], scope: 'all' });
      const auditor = expectStatus(created, 201);
      assert.deepEqual(auditor.permissions, ['customer.read', 'audit.read']);
      expectProblem(await admin.post('/roles', { key: 'auditor', name: '重复' }), 409);
      expectProblem(await admin.post('/roles', { key: 'Bad Key', name: 'x', permissions: ['nope'] }), 422, { field: 'key' });
      const a = await member('auditor1', 'auditor');
      expectStatus(await a.get('/audit'), 200);
      expectStatus(await a.get('/audit/verify'), 200);
      expectProblem(await rep.get('/audit'), 403);
      expectProblem(await admin.del(`/roles/${auditor.id}`), 409, {});
    });

    it('teams nest but never under themselves', async () => {
      const res = await admin.put(`/teams/${teams.north.id}`, { name: '华北区', parent_id: teams.hebei.id });
      expectProblem(res, 422, { field: 'parent_id', codes: ['cycle'] });
      expectProblem(await admin.del(`/teams/${teams.north.id}`), 409);
    });

    it('a role change takes effect at once; deactivating ends the sessions', async () => {
      const s = await member('rep_change', 'readonly');
      expectProblem(await s.post('/customers', { name: '不能建' }), 403);
      const u = expectStatus(await admin.get('/users'), 200).items.find((x) => x.username === 'rep_change');
      const r1 = await admin.patch(`/users/${u.id}`, { role: 'sales' }, { headers: { 'if-match': `"${u.version}"` } });
      const u2 = expectStatus(r1, 200);
      expectStatus(await s.post('/customers', { name: '可以建了' }), 201);
      expectProblem(await admin.patch(`/users/${u.id}`, { active: false }, { headers: { 'if-match': `"${u.version}"` } }), 412);
      expectStatus(await admin.patch(`/users/${u.id}`, { active: false }, { headers: { 'if-match': `"${u2.version}"` } }), 200);
      expectProblem(await s.get('/customers'), 401);
      const me = expectStatus(await admin.get('/auth/me'), 200).user;
      expectProblem(await admin.patch(`/users/${me.id}`, { active: false }, { headers: { 'if-match': `"${me.version}"` } }), 422, { field: 'active' });
    });
  });

  describe('audit trail', () => {
    it('records logins (also failed ones), customer changes and reveals without personal data', async () => {
      expectProblem(await server.anon().post('/auth/login', { username: 'nobody', password: 'wrong-password' }), 401);
      const c = await createCustomer(admin, { name: '审计', phones: [{ number: '13600001111' }] });
      expectStatus(await admin.patch(`/customers/${c.id}`, { notes: '私密备注' }, { headers: { 'if-match': '"1"' } }), 200);
      await revealCustomer(admin, c.id);
      // A stale edit changes nothing and is not recorded; delete and restore are.
      expectProblem(await admin.patch(`/customers/${c.id}`, { notes: 'x' }, { headers: { 'if-match': '"1"' } }), 412);
      expectStatus(await admin.del(`/customers/${c.id}`), 204);
      expectStatus(await admin.post(`/customers/${c.id}/restore`), 200);
      const items = expectStatus(await admin.get('/audit', { query: { limit: 500 } }), 200).items;
      const mine = items.filter((e) => e.entity === 'customer' && e.entity_id === String(c.id)).map((e) => e.action);
      assert.deepEqual(mine.filter((a) => a !== 'customer.reveal').sort(),
        ['customer.create', 'customer.delete', 'customer.restore', 'customer.update']);
      const actions = new Set(items.map((e) => e.action));
      for (const a of ['auth.login', 'auth.login_failed', 'customer.create', 'customer.update', 'customer.reveal', 'role.update', 'team.create', 'user.update']) {
        assert.ok(actions.has(a), `no ${a} in ${[...actions].join(', ')}`);
      }
      const update = items.find((e) => e.action === 'customer.update' && e.entity_id === String(c.id));
      assert.deepEqual(update.details.fields, ['notes']);
      const failed = items.find((e) => e.action === 'auth.login_failed' && e.actor_name === 'nobody');
      assert.ok(failed && failed.ip.length > 0, 'a failed login names the name tried and the address');
      const all = JSON.stringify(items);
      assert.ok(!all.includes('13600001111') && !all.includes('私密备注'), 'no personal data in the trail');
      const v = expectStatus(await admin.get('/audit/verify'), 200);
      assert.equal(v.ok, true);
      assert.ok(v.checked >= items.length);
    });

    it('`kehu audit verify` walks the chain (the CLI acts on the same database)', async () => {
      const r = server.cliOk(['audit', 'verify']);
      assert.match(r.stdout, /audit chain ok: \d+ entries, head [0-9a-f]{64}/);
    });

    it('`kehu user add --role --team`, `kehu team add/list` and `kehu role list` work', async () => {
      server.cliOk(['team', 'add', '西南区']);
      server.cliOk(['team', 'add', '成都组', '--parent', '西南区']);
      assert.match(server.cliOk(['team', 'list']).stdout, /成都组\tparent 西南区/);
      const add = server.cliOk(['user', 'add', 'cd_rep', '--role', 'sales', '--team', '成都组'], { input: 'Cd-rep-pass-77\n' });
      assert.match(add.stdout, /added sales cd_rep/);
      assert.match(server.cliOk(['user', 'list']).stdout, /cd_rep\tsales\t成都组/);
      const bad = server.cli(['user', 'add', 'x_rep', '--role', 'nope'], { input: 'X-rep-pass-77\n' });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /role/);
      assert.match(server.cliOk(['role', 'list']).stdout, /sales_manager\t销售经理\tscope team/);
    });
  });
});
