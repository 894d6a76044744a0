// Login protection: throttling and lockout, password strength, sessions, devices, IP allow-lists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ADMIN, createMember, expectProblem, expectStatus, startServer } from './harness.mjs';

describe('login protection', () => {
  let server;
  let admin;
  before(async () => {
    server = await startServer({ serveArgs: ['--login-lock-after', '5', '--login-lock-minutes', '1'] });
    admin = await server.login();
  });
  after(async () => {
    await server?.close();
  });

  const tryLogin = (username, password, headers = {}) =>
    server.anon().post('/auth/login', { username, password }, { headers });

  it('back-off after 3 failures, lock at 5: 429 with Retry-After, the same for an unknown name', async () => {
    await createMember(server, admin, 'victim');
    for (const name of ['victim', 'ghost_user']) {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push((await tryLogin(name, `wrong-${i}-password`)).status);
      assert.deepEqual(answers, [401, 401, 401], `${name}: the first failures are plain 401s`);
      const slowed = await tryLogin(name, 'wrong-3-password');
      assert.equal(slowed.status, 401);
      const blocked = await tryLogin(name, 'wrong-4-password');
      expectProblem(blocked, 429);
      assert.ok(Number(blocked.headers.get('retry-after')) >= 1, 'Retry-After in seconds');
      if (name === 'victim') {
        // Blocked means blocked: even the right password is refused until the wait is over.
        expectProblem(await tryLogin('victim', 'Kq8-secret-pass'), 429);
      }
    }
    const audit = expectStatus(await admin.get('/audit', { query: { action: 'auth.login_failed', limit: 100 } }), 200);
    assert.ok(audit.items.filter((e) => e.actor_name === 'victim').length >= 4);
  });

  it('someone who waits out the back-off is locked at the 5th failure; other users still log in', async () => {
    await createMember(server, admin, 'bystander');
    let failures = 0;
    while (failures < 5) {
      const res = await tryLogin('locked_one', `nope-${failures}-password`);
      if (res.status === 429) {
        await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after')) * 1000 + 50));
        continue;
      }
      assert.equal(res.status, 401);
      failures++;
    }
    const locked = await tryLogin('locked_one', 'nope-5-password');
    expectProblem(locked, 429);
    assert.ok(Number(locked.headers.get('retry-after')) > 30, 'locked for the lock time, not a back-off step');
    const alerts = expectStatus(await admin.get('/audit', { query: { action: 'alert.' } }), 200).items;
    assert.ok(alerts.some((a) => a.action === 'alert.account_locked' && a.actor_name === 'locked_one'));
    expectStatus(await server.anon().post('/auth/login', { username: ADMIN.username, password: ADMIN.password }), 200);
    expectStatus(await tryLogin('bystander', 'Kq8-secret-pass'), 200);
  });

  it('weak passwords, and passwords made of the user name, are refused (zxcvbn)', async () => {
    for (const password of ['password1', 'qwertyuiop', 'Password123', 'zhangwei2024']) {
      const res = await admin.post('/users', { username: 'zhangwei', display_name: '张伟', password });
      expectProblem(res, 422, { field: 'password', codes: ['too_weak', 'contains_username'] });
    }
    expectProblem(await admin.post('/users', { username: 'liuyang', password: 'LiuYang-secret-77' }), 422,
      { field: 'password', codes: ['contains_username'] });
    expectStatus(await admin.post('/users', { username: 'zhangwei', password: 'violet-harbor-lamp-42' }), 201);
  });

  it('lists own sessions, revokes one (that browser is logged out), admins revoke anyone\'s', async () => {
    const a = await createMember(server, admin, 'multi_device');
    const b = await server.login('multi_device', a.password);
    const list = expectStatus(await a.get('/auth/sessions'), 200).items;
    assert.equal(list.length, 2);
    assert.equal(list.filter((s) => s.current).length, 1);
    const other = list.find((s) => !s.current);
    expectStatus(await a.del(`/auth/sessions/${other.id}`), 204);
    expectProblem(await b.get('/auth/me'), 401);
    expectStatus(await a.get('/auth/me'), 200);
    expectProblem(await a.del('/auth/sessions/0123456789abcdef'), 404);
    const users = expectStatus(await admin.get('/users'), 200).items;
    const me = users.find((u) => u.username === 'multi_device');
    expectProblem(await a.get(`/users/${users.find((u) => u.username === ADMIN.username).id}/sessions`), 403);
    const revoked = expectStatus(await admin.del(`/users/${me.id}/sessions`), 200);
    assert.equal(revoked.revoked, 1);
    expectProblem(await a.get('/auth/me'), 401);
  });

  it('a login from a new address or browser is flagged, recorded and listed', async () => {
    const m = await createMember(server, admin, 'traveller');
    const again = await tryLogin('traveller', m.password, { 'user-agent': 'Mozilla/5.0 (Phone) Test/1' });
    const body = expectStatus(again, 200);
    assert.equal(body.new_device, true);
    assert.ok(body.user.permissions.includes('customer.read'), 'login answers the permissions too');
    const same = expectStatus(await tryLogin('traveller', m.password, { 'user-agent': 'Mozilla/5.0 (Phone) Test/1' }), 200);
    assert.equal(same.new_device, false);
    const devices = expectStatus(await m.get('/auth/devices'), 200).items;
    assert.equal(devices.length, 2);
    const audit = expectStatus(await admin.get('/audit', { query: { action: 'auth.new_device' } }), 200).items;
    assert.ok(audit.some((e) => e.actor_name === 'traveller'));
  });

  it('a role with an IP allow-list refuses logins and requests from other addresses', async () => {
    const roles = expectStatus(await admin.get('/roles'), 200).items;
    const role = expectStatus(await admin.post('/roles', {
      key: 'office_only', name: '仅办公室', permissions: ['customer.read'], scope: 'all', ip_allow: ['10.0.0.0/8'],
    }), 201);
    assert.deepEqual(role.ip_allow, ['10.0.0.0/8']);
    expectProblem(await admin.post('/roles', { key: 'bad_ips', name: 'x', ip_allow: ['10.0.0.0/33'] }), 422, { field: 'ip_allow[0]' });
    const m = await createMember(server, admin, 'office_worker', { role: 'sales' });
    const u = expectStatus(await admin.get('/users'), 200).items.find((x) => x.username === 'office_worker');
    expectStatus(await admin.patch(`/users/${u.id}`, { role: 'office_only' }, { headers: { 'if-match': `"${u.version}"` } }), 200);
    // The tests connect from 127.0.0.1, outside 10.0.0.0/8.
    expectProblem(await tryLogin('office_worker', m.password), 403, { field: 'ip', codes: ['not_allowed'] });
    expectProblem(await m.get('/customers'), 403, { field: 'ip', codes: ['not_allowed'] });
    const adminRole = roles.find((r) => r.key === 'admin');
    expectProblem(await admin.patch(`/roles/${adminRole.id}`, { ip_allow: ['10.0.0.0/8'] }, { headers: { 'if-match': `"${adminRole.version}"` } }),
      422, { field: 'ip_allow', codes: ['self'] });
    const loopback = expectStatus(await admin.patch(`/roles/${role.id}`, { ip_allow: ['127.0.0.0/8', '::1'] }, { headers: { 'if-match': `"${role.version}"` } }), 200);
    assert.deepEqual(loopback.ip_allow, ['127.0.0.0/8', '::1']);
    assert.ok(roles.length > 0);
  });
});

describe('own password', () => {
  let server;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server?.close();
  });

  it('needs the current password, applies the policy and ends the other sessions', async () => {
    const admin = await server.login();
    const a = await createMember(server, admin, 'changer');
    const b = await server.login('changer', a.password);
    expectProblem(await a.post('/auth/password', { current_password: 'not-it-at-all', new_password: 'violet-harbor-lamp-42' }), 422, { field: 'current_password', codes: ['wrong'] });
    expectProblem(await a.post('/auth/password', { current_password: a.password, new_password: 'password1' }), 422, { field: 'new_password', codes: ['too_weak'] });
    expectStatus(await a.post('/auth/password', { current_password: a.password, new_password: 'violet-harbor-lamp-42' }), 204);
    expectStatus(await a.get('/auth/me'), 200);
    expectProblem(await b.get('/auth/me'), 401);
    expectStatus(await server.anon().post('/auth/login', { username: 'changer', password: 'violet-harbor-lamp-42' }), 200);
    expectProblem(await server.anon().post('/auth/login', { username: 'changer', password: a.password }), 401);
  });
});
