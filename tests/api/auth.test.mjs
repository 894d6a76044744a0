// Health, the served OpenAPI document, login/logout, CSRF, API tokens, users.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  ADMIN, countCustomers, createMember, expectProblem, expectStatus, sessionCookie, startServer,
} from './harness.mjs';
import { spec } from './openapi.mjs';

describe('auth', () => {
  let server;
  let admin; // session client
  before(async () => {
    server = await startServer();
    admin = await server.login();
  });
  after(async () => {
    await server?.close();
  });

  it('GET /healthz answers ok without authentication', async () => {
    const res = await server.anon().get('/healthz');
    assert.deepEqual(expectStatus(res, 200), { status: 'ok' });
  });

  it('GET /api/v1/openapi.json serves docs/openapi.yaml as JSON without authentication', async () => {
    const res = await server.anon().get('/openapi.json');
    expectStatus(res, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(res.body, spec);
  });

  it('login answers the user and a CSRF token and sets a strict HttpOnly cookie', async () => {
    const res = await server.anon().post('/auth/login', { username: ADMIN.username, password: ADMIN.password });
    const body = expectStatus(res, 200);
    assert.equal(body.user.username, ADMIN.username);
    assert.equal(body.user.role, 'admin');
    assert.equal(body.user.active, true);
    assert.equal(body.user.display_name, ADMIN.display_name);
    const sc = res.headers.getSetCookie().find((c) => c.startsWith('kehu_session='));
    assert.ok(sc, 'Set-Cookie kehu_session');
    assert.match(sc, /;\s*HttpOnly/i);
    assert.match(sc, /;\s*SameSite=Strict/i);
    assert.match(sc, /;\s*Path=\/(;|$)/i);
    assert.doesNotMatch(sc, /;\s*Secure/i, 'no Secure flag over plain HTTP');
    assert.ok(sessionCookie(res).length >= 16, 'session id is long');
  });

  it('GET /auth/me with a session answers the same CSRF token as login', async () => {
    const body = expectStatus(await admin.get('/auth/me'), 200);
    assert.equal(body.user.username, ADMIN.username);
    assert.equal(body.csrf_token, admin.csrf);
  });

  it('wrong password and unknown user give the identical 401 answer', async () => {
    const anon = server.anon();
    const wrong = await anon.post('/auth/login', { username: ADMIN.username, password: 'not-the-password' });
    const unknown = await anon.post('/auth/login', { username: 'nobody-here', password: 'not-the-password' });
    expectProblem(wrong, 401);
    expectProblem(unknown, 401);
    assert.deepEqual(unknown.body, wrong.body);
    assert.equal(sessionCookie(wrong), null, 'no session cookie on failure');
    assert.equal(sessionCookie(unknown), null, 'no session cookie on failure');
  });

  it('login with a malformed body is 400 (a missing password may also be 401/422), never 500', async () => {
    const anon = server.anon();
    expectProblem(await anon.post('/auth/login', { username: ADMIN.username }), [400, 401, 422]);
    expectProblem(await anon.request('POST', '/auth/login', { body: '{"username":', contentType: 'application/json' }), 400);
  });

  // Every protected endpoint without credentials → 401 (and a bad token / cookie too).
  const protectedEndpoints = [
    ['GET', '/auth/me'],
    ['POST', '/auth/logout'],
    ['GET', '/users'],
    ['POST', '/users', { username: 'x-user', password: 'long-enough-1' }],
    ['GET', '/tokens'],
    ['POST', '/tokens', { name: 'x' }],
    ['DELETE', '/tokens/1'],
    ['GET', '/customers'],
    ['POST', '/customers', { name: '未登录' }],
    ['GET', '/customers/1'],
    ['PATCH', '/customers/1', { name: '未登录' }],
    ['DELETE', '/customers/1'],
    ['POST', '/customers/1/restore'],
    ['GET', '/lookup/phone?number=13800138000'],
    ['GET', '/fields'],
    ['POST', '/fields', { name: 'x_field', label: 'X', type: 'text' }],
    ['DELETE', '/fields/x_field'],
  ];
  for (const [method, path, json] of protectedEndpoints) {
    it(`${method} ${path} without credentials → 401`, async () => {
      const headers = method === 'PATCH' ? { 'if-match': '"1"' } : {};
      expectProblem(await server.anon().request(method, path, { json, headers }), 401);
    });
  }

  it('a made-up session cookie or bearer token → 401', async () => {
    const fakeSession = server.anon();
    fakeSession.cookie = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    expectProblem(await fakeSession.get('/customers'), 401);
    expectProblem(await server.bearer('kehu_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').get('/customers'), 401);
    expectProblem(await server.bearer('not-even-a-kehu-token').get('/customers'), 401);
  });

  describe('CSRF', () => {
    it('session write without X-CSRF-Token → 403 csrf, nothing created', async () => {
      const before = await countCustomers(admin);
      const res = await admin.post('/customers', { name: '无令牌' }, { csrf: false });
      expectProblem(res, 403, { type: 'csrf' });
      assert.equal(await countCustomers(admin), before);
    });

    it('session write with a wrong X-CSRF-Token → 403 csrf, nothing created', async () => {
      const before = await countCustomers(admin);
      const res = await admin.post('/customers', { name: '错令牌' }, { csrf: 'x'.repeat(43) });
      expectProblem(res, 403, { type: 'csrf' });
      assert.equal(await countCustomers(admin), before);
    });

    it('PATCH and DELETE without X-CSRF-Token → 403, record unchanged', async () => {
      const created = await admin.post('/customers', { name: 'CSRF 目标' });
      const c = expectStatus(created, 201);
      expectProblem(await admin.patch(`/customers/${c.id}`, { name: '改了' }, { csrf: false, headers: { 'if-match': '"1"' } }), 403, { type: 'csrf' });
      expectProblem(await admin.del(`/customers/${c.id}`, { csrf: false }), 403, { type: 'csrf' });
      const now = expectStatus(await admin.get(`/customers/${c.id}`), 200);
      assert.equal(now.name, 'CSRF 目标');
      assert.equal(now.version, 1);
    });

    it('logout without X-CSRF-Token → 403 and the session still works', async () => {
      const s = await server.login();
      expectProblem(await s.post('/auth/logout', undefined, { csrf: false }), 403, { type: 'csrf' });
      expectStatus(await s.get('/auth/me'), 200);
    });

    it('a CSRF token of another session is refused', async () => {
      const s1 = await server.login();
      const s2 = await server.login();
      assert.notEqual(s1.cookie, s2.cookie, 'each login gets its own session');
      if (s1.csrf !== s2.csrf) {
        expectProblem(await s1.post('/customers', { name: '别人的令牌' }, { csrf: s2.csrf }), 403, { type: 'csrf' });
      }
    });
  });

  describe('logout', () => {
    it('answers 204, clears the cookie, and the old session stops working', async () => {
      const s = await server.login();
      expectStatus(await s.get('/auth/me'), 200);
      const res = await s.post('/auth/logout');
      expectStatus(res, 204);
      const sc = res.headers.getSetCookie().find((c) => c.startsWith('kehu_session='));
      assert.ok(sc, 'logout sends Set-Cookie kehu_session');
      assert.ok(/max-age=0/i.test(sc) || /expires=Thu, 01 Jan 1970/i.test(sc) || /^kehu_session=;/.test(sc), `cookie cleared: ${sc}`);
      expectProblem(await s.get('/auth/me'), 401);
      expectProblem(await s.get('/customers'), 401);
      // Other sessions are untouched.
      expectStatus(await admin.get('/auth/me'), 200);
    });
  });

  describe('API tokens', () => {
    let created;
    it('POST /tokens answers the secret once', async () => {
      const res = await admin.post('/tokens', { name: 'ci-bot' });
      created = expectStatus(res, 201);
      assert.equal(created.name, 'ci-bot');
      assert.match(created.token, /^kehu_/);
    });

    it('a bearer token works without CSRF and /auth/me answers csrf_token null', async () => {
      const bot = server.bearer(created.token);
      const me = expectStatus(await bot.get('/auth/me'), 200);
      assert.equal(me.user.username, ADMIN.username);
      assert.equal(me.csrf_token, null);
      const c = expectStatus(await bot.post('/customers', { name: '令牌创建' }), 201);
      assert.equal(c.created_by, me.user.id);
    });

    it('GET /tokens lists own tokens without the secret', async () => {
      const list = expectStatus(await admin.get('/tokens'), 200);
      const t = list.items.find((x) => x.id === created.id);
      assert.ok(t, 'created token listed');
      assert.equal(t.name, 'ci-bot');
      assert.ok(!('token' in t), 'secret is not listed');
      assert.ok(!JSON.stringify(list).includes(created.token), 'secret does not appear in the list');
      assert.notEqual(t.last_used_at, null, 'last_used_at set after use');
    });

    it('another user neither sees nor deletes the token', async () => {
      const li = await createMember(server, admin, 'token_li');
      const theirs = expectStatus(await li.get('/tokens'), 200);
      assert.ok(!theirs.items.some((x) => x.id === created.id));
      expectProblem(await li.del(`/tokens/${created.id}`), [403, 404]);
      expectStatus(await server.bearer(created.token).get('/auth/me'), 200);
    });

    it('DELETE /tokens/{id} → 204 and the token stops working at once', async () => {
      expectStatus(await admin.del(`/tokens/${created.id}`), 204);
      expectProblem(await server.bearer(created.token).get('/auth/me'), 401);
      expectProblem(await server.bearer(created.token).get('/customers'), 401);
      const list = expectStatus(await admin.get('/tokens'), 200);
      assert.ok(!list.items.some((x) => x.id === created.id));
      expectProblem(await admin.del(`/tokens/${created.id}`), 404);
    });

    it('`kehu token create USER --name NAME` prints only a working token', async () => {
      const r = server.cliOk(['token', 'create', ADMIN.username, '--name', 'cli-made']);
      const token = r.stdout.trim();
      assert.match(token, /^kehu_\S+$/, `stdout is only the token: ${JSON.stringify(r.stdout)}`);
      const me = expectStatus(await server.bearer(token).get('/auth/me'), 200);
      assert.equal(me.user.username, ADMIN.username);
      const list = expectStatus(await admin.get('/tokens'), 200);
      assert.ok(list.items.some((x) => x.name === 'cli-made'));
    });
  });

  describe('users', () => {
    let member;
    it('admin creates a member; the member can log in', async () => {
      const res = await admin.post('/users', { username: 'li_na', password: 'Li-Na-pass-1', display_name: '李娜', role: 'sales' });
      const u = expectStatus(res, 201);
      assert.equal(u.username, 'li_na');
      assert.equal(u.display_name, '李娜');
      assert.equal(u.role, 'sales');
      assert.equal(u.active, true);
      member = await server.login('li_na', 'Li-Na-pass-1');
      assert.equal(member.user.id, u.id);
    });

    it('GET /users lists everyone, without secrets, for any user', async () => {
      const list = expectStatus(await member.get('/users'), 200);
      const names = list.items.map((u) => u.username);
      assert.ok(names.includes(ADMIN.username) && names.includes('li_na'));
      assert.equal(list.next_cursor, null);
      assert.doesNotMatch(JSON.stringify(list), /password|hash/i);
    });

    const cases = [
      ['taken username → 409', { username: 'li_na', password: 'Another-pass-1' }, 409, {}],
      ['weak password → 422', { username: 'weak_pw', password: 'short' }, 422, { field: 'password' }],
      ['missing password → 422', { username: 'no_pw' }, 422, { field: 'password', codes: ['required'] }],
      ['bad role → 422', { username: 'bad_role', password: 'Long-enough-1', role: 'root' }, 422, { field: 'role', codes: ['unknown'] }],
      ['unknown key → 422', { username: 'extra_key', password: 'Long-enough-1', shoe_size: 42 }, 422, { field: 'shoe_size', codes: ['unknown_field'] }],
    ];
    for (const [name, body, status, opts] of cases) {
      it(`POST /users: ${name}`, async () => {
        expectProblem(await admin.post('/users', body), status, opts);
      });
    }

    it('a member cannot create users → 403', async () => {
      expectProblem(await member.post('/users', { username: 'by_member', password: 'Long-enough-1' }), 403, { type: 'forbidden' });
      const list = expectStatus(await admin.get('/users'), 200);
      assert.ok(!list.items.some((u) => u.username === 'by_member'));
    });
  });

  it('unknown route under /api/v1 → 404 problem', async () => {
    expectProblem(await admin.get('/no-such-thing'), 404);
  });

  it('server exits 0 on SIGTERM', async () => {
    await server.stopCleanly();
  });
});
