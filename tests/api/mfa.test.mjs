// Two-step verification (TOTP, RFC 6238) through the API. The codes are computed here, by an
// implementation of RFC 6238 written in this file (node:crypto HMAC-SHA1), itself checked
// against the RFC's test vectors, so the server's liboath is checked against something
// independent of it.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ADMIN, Client, ENGINE, createMember, expectProblem, expectStatus, sessionCookie, sleep, startServer } from './harness.mjs';

// --- RFC 6238 in a few lines ------------------------------------------------------------------

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// HOTP(K, C) truncated to `digits` (RFC 4226 section 5.3), with C = floor(T / 30).
function totp(key, unixSeconds, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[offset] & 0x7f) << 24) | (mac[offset + 1] << 16) | (mac[offset + 2] << 8) | mac[offset + 3];
  return String(bin % 10 ** digits).padStart(digits, '0');
}

const stepNow = () => Math.floor(Date.now() / 1000 / 30);
const codeAt = (secret, step) => totp(base32Decode(secret), step * 30);

// Waits while the current 30-second step has less than `margin` seconds left, so a test's
// codes stay within the server's one step of allowed clock skew. Returns the step.
async function freshStep(margin = 6) {
  for (;;) {
    const s = Date.now() / 1000;
    if (30 - (s % 30) > margin) return Math.floor(s / 30);
    await sleep(500);
  }
}

// --- helpers ----------------------------------------------------------------------------------

const PASSWORD = 'Kq8-secret-pass';

// Enrols the client's user; the first code is the one of the step before `step` (one step of
// skew), so `step` and `step + 1` remain for logins. Returns {secret, recovery}.
async function enrol(client, step) {
  const e = expectStatus(await client.post('/auth/mfa/enroll', {}), 200);
  const done = expectStatus(await client.post('/auth/mfa/confirm', { code: codeAt(e.secret, step - 1) }), 200);
  return { secret: e.secret, recovery: done.recovery_codes, enrolment: e };
}

// The first login step of a user with MFA on: no cookie, a token.
async function passwordStep(server, username, password = PASSWORD) {
  const res = await server.anon().post('/auth/login', { username, password });
  const body = expectStatus(res, 200, `password step of ${username}`);
  assert.equal(body.mfa_required, true, 'the password alone must not log in');
  assert.equal(sessionCookie(res), null, 'no session cookie before the code');
  assert.equal(body.user, undefined);
  return body.mfa_token;
}

// The second step; returns the answer and, on success, a session client.
async function codeStep(server, token, code) {
  const res = await server.anon().post('/auth/login/mfa', { mfa_token: token, code });
  if (res.status !== 200) return { res, client: null };
  const cookie = sessionCookie(res);
  assert.ok(cookie, 'a finished login sets the session cookie');
  const client = new Client(server, { cookie, csrf: res.body.csrf_token });
  client.user = res.body.user;
  return { res, client };
}

function errorCode(res) {
  return res.body?.errors?.[0]?.code;
}

async function userByName(admin, username) {
  const users = expectStatus(await admin.get('/users'), 200).items;
  return users.find((u) => u.username === username);
}

async function auditOf(admin, action) {
  return expectStatus(await admin.get('/audit', { query: { action, limit: 200 } }), 200).items;
}

// --- tests ------------------------------------------------------------------------------------

describe('the TOTP implementation of this test', () => {
  it('reproduces the RFC 6238 Appendix B SHA-1 vectors (8 digits) and truncates to 6', () => {
    const key = Buffer.from('12345678901234567890', 'ascii');
    const vectors = [
      [59, '94287082'], [1111111109, '07081804'], [1111111111, '14050471'],
      [1234567890, '89005924'], [2000000000, '69279037'], [20000000000, '65353130'],
    ];
    for (const [t, code8] of vectors) {
      assert.equal(totp(key, t, 8), code8, `T=${t}`);
      assert.equal(totp(key, t, 6), code8.slice(2), `T=${t}, 6 digits`);
    }
    assert.deepEqual(base32Decode('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ'), key);
  });
});

describe('two-step verification', () => {
  let server;
  let admin;
  before(async () => {
    server = await startServer();
    admin = await server.login();
  });
  after(async () => {
    await server?.stopCleanly();
    await server?.close();
  });

  it('enrolment answers the otpauth URI, the secret and an SVG QR code; confirming turns it on with 10 recovery codes', async () => {
    const m = await createMember(server, admin, 'mfa_enrol');
    const status0 = expectStatus(await m.get('/auth/mfa'), 200);
    assert.deepEqual(status0, { enabled: false, required: false, pending: false, recovery_codes_left: 0, enabled_at: null });
    assert.equal(expectStatus(await m.get('/auth/me'), 200).user.mfa_enabled, false);

    // An API token may read the state but not set it up (a leaked token must not lock the
    // owner out); nothing is started.
    const script = server.bearer(server.cliOk(['token', 'create', 'mfa_enrol', '--name', 'script']).stdout.trim());
    expectStatus(await script.get('/auth/mfa'), 200);
    const refused = expectProblem(await script.post('/auth/mfa/enroll', {}), 403);
    assert.match(refused.detail, /signed-in session/);
    expectProblem(await script.post('/auth/mfa/confirm', { code: '123456' }), 403);
    expectProblem(await script.del('/auth/mfa', { json: { password: 'x' } }), 403);
    assert.equal(expectStatus(await m.get('/auth/mfa'), 200).pending, false);

    const step = await freshStep();
    const e = expectStatus(await m.post('/auth/mfa/enroll', {}), 200);
    assert.match(e.secret, /^[A-Z2-7]{32}$/);
    assert.equal(base32Decode(e.secret).length, 20, '160-bit secret');
    assert.equal(e.otpauth_uri, `otpauth://totp/Kehu:mfa_enrol?secret=${e.secret}&issuer=Kehu`);
    assert.match(e.qr_svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<path [^>]*d="M[^"]+"\/><\/svg>$/s);
    assert.ok(!/<script|on\w+=/i.test(e.qr_svg), 'the SVG carries no script');
    assert.equal(expectStatus(await m.get('/auth/mfa'), 200).pending, true);

    expectProblem(await m.post('/auth/mfa/confirm', { code: codeAt(e.secret, step + 5) }), 422, { field: 'code', codes: ['wrong'] });
    expectProblem(await m.post('/auth/mfa/confirm', { code: '12ab56' }), 422, { field: 'code', codes: ['invalid_format'] });
    expectProblem(await m.post('/auth/mfa/confirm', {}), 422, { field: 'code', codes: ['required'] });
    const done = expectStatus(await m.post('/auth/mfa/confirm', { code: codeAt(e.secret, step) }), 200);
    assert.equal(done.recovery_codes.length, 10);
    assert.equal(new Set(done.recovery_codes).size, 10);

    const status = expectStatus(await m.get('/auth/mfa'), 200);
    assert.equal(status.enabled, true);
    assert.equal(status.recovery_codes_left, 10);
    assert.ok(!JSON.stringify(status).includes(e.secret), 'the secret is never answered again');
    const me = expectStatus(await m.get('/auth/me'), 200).user;
    assert.equal(me.mfa_enabled, true);
    assert.equal(me.mfa_required, false);
    assert.equal((await userByName(admin, 'mfa_enrol')).mfa_enabled, true);
    expectProblem(await m.post('/auth/mfa/enroll', {}), 409);
    assert.ok((await auditOf(admin, 'auth.mfa_enable')).some((x) => x.actor_name === 'mfa_enrol'));

    if (ENGINE === 'sqlite') {
      // Stored encrypted: the secret is nowhere in the database files.
      const dir = server.dataDir;
      const bytes = Buffer.concat(readdirSync(dir).filter((f) => f.startsWith('kehu.db')).map((f) => readFileSync(join(dir, f))));
      assert.ok(bytes.length > 0);
      assert.ok(!bytes.includes(Buffer.from(e.secret)), 'base32 secret found in the database');
      assert.ok(!bytes.includes(base32Decode(e.secret)), 'raw secret found in the database');
    }
  });

  it('login then needs the code: a wrong one is refused, a used one is refused (replay), the right one logs in once', async () => {
    await createMember(server, admin, 'mfa_login');
    const m = await server.login('mfa_login', PASSWORD);
    const step = await freshStep();
    const { secret } = await enrol(m, step);

    const token = await passwordStep(server, 'mfa_login');
    const wrong = await codeStep(server, token, codeAt(secret, step + 8));
    expectProblem(wrong.res, 401, { field: 'code', codes: ['wrong'] });
    // The enrolment's code was used: replaying it is refused.
    const replay = await codeStep(server, token, codeAt(secret, step - 1));
    expectProblem(replay.res, 401, { field: 'code', codes: ['reused'] });

    const ok = await codeStep(server, token, codeAt(secret, step));
    expectStatus(ok.res, 200);
    assert.equal(ok.res.body.user.username, 'mfa_login');
    assert.equal(ok.res.body.user.mfa_enabled, true);
    expectStatus(await ok.client.get('/customers'), 200);
    // The token finishes one login only.
    expectProblem((await codeStep(server, token, codeAt(secret, step + 1))).res, 401, { field: 'mfa_token', codes: ['expired'] });
    // Another login cannot reuse the code just used, within its 30 seconds.
    const again = await passwordStep(server, 'mfa_login');
    expectProblem((await codeStep(server, again, codeAt(secret, step))).res, 401, { field: 'code', codes: ['reused'] });
    expectStatus((await codeStep(server, again, codeAt(secret, step + 1))).res, 200);

    expectProblem((await codeStep(server, 'no-such-token', '123456')).res, 401, { field: 'mfa_token', codes: ['expired'] });
    expectProblem(await server.anon().post('/auth/login/mfa', { mfa_token: again }), 422, { field: 'code' });
    const failures = (await auditOf(admin, 'auth.login_failed')).filter((x) => x.actor_name === 'mfa_login');
    assert.ok(failures.some((x) => /wrong MFA code/.test(JSON.stringify(x.details))), JSON.stringify(failures));
    assert.ok(failures.some((x) => /reused MFA code/.test(JSON.stringify(x.details))));
    const logins = (await auditOf(admin, 'auth.login')).filter((x) => x.actor_name === 'mfa_login');
    assert.ok(logins.some((x) => x.details?.mfa === 'totp'), JSON.stringify(logins.map((x) => x.details)));
  });

  it('wrong codes count toward the per-account throttle: 429 with Retry-After, even for the right code', async () => {
    await createMember(server, admin, 'mfa_guess');
    const m = await server.login('mfa_guess', PASSWORD);
    const step = await freshStep(10);
    const { secret } = await enrol(m, step);
    const token = await passwordStep(server, 'mfa_guess');
    let blocked = null;
    for (let i = 0; i < 8 && !blocked; i++) {
      const { res } = await codeStep(server, token, String((Number(codeAt(secret, step)) + 1 + i) % 1_000_000).padStart(6, '0'));
      if (res.status === 429) blocked = res;
      else expectProblem(res, 401, { field: 'code', codes: ['wrong'] });
    }
    assert.ok(blocked, 'wrong codes never got throttled');
    expectProblem(blocked, 429);
    assert.ok(Number(blocked.headers.get('retry-after')) >= 1);
    expectProblem((await codeStep(server, token, codeAt(secret, step))).res, 429);
    // The password step of that name is held back too.
    expectProblem(await server.anon().post('/auth/login', { username: 'mfa_guess', password: PASSWORD }), 429);
  });

  it('a recovery code logs in once, and new recovery codes replace the old ones', async () => {
    await createMember(server, admin, 'mfa_recover');
    const m = await server.login('mfa_recover', PASSWORD);
    const step = await freshStep();
    const { secret, recovery } = await enrol(m, step);

    const first = await codeStep(server, await passwordStep(server, 'mfa_recover'), recovery[0].toUpperCase());
    expectStatus(first.res, 200);
    const used = await auditOf(admin, 'auth.mfa_recovery_used');
    assert.ok(used.some((x) => x.actor_name === 'mfa_recover' && x.details.recovery_codes_left === 9));
    expectProblem((await codeStep(server, await passwordStep(server, 'mfa_recover'), recovery[0])).res, 401, { field: 'code', codes: ['wrong'] });
    assert.equal(expectStatus(await first.client.get('/auth/mfa'), 200).recovery_codes_left, 9);

    expectProblem(await first.client.post('/auth/mfa/recovery-codes', { code: recovery[1] }), 422, { field: 'code', codes: ['wrong'] });
    const fresh = expectStatus(await first.client.post('/auth/mfa/recovery-codes', { code: codeAt(secret, step) }), 200).recovery_codes;
    assert.equal(fresh.length, 10);
    assert.equal(expectStatus(await first.client.get('/auth/mfa'), 200).recovery_codes_left, 10);
    expectStatus((await codeStep(server, await passwordStep(server, 'mfa_recover'), fresh[9])).res, 200);
    expectProblem((await codeStep(server, await passwordStep(server, 'mfa_recover'), recovery[2])).res, 401, { field: 'code', codes: ['wrong'] });
  });

  it('a role can require MFA: its unenrolled users get a session that can only enrol; API tokens are not affected', async () => {
    const role = expectStatus(await admin.post('/roles', {
      key: 'mfa_staff', name: '需要两步验证的角色', permissions: ['customer.read'], scope: 'all', mfa_required: true,
    }), 201);
    assert.equal(role.mfa_required, true);
    // createMember logs in too: the session is restricted, not refused.
    await createMember(server, admin, 'mfa_forced', { role: 'mfa_staff' });
    const res = await server.anon().post('/auth/login', { username: 'mfa_forced', password: PASSWORD });
    const body = expectStatus(res, 200);
    assert.equal(body.mfa_required, false);
    assert.equal(body.mfa_enrollment_required, true);
    assert.equal(body.user.mfa_required, true);
    assert.equal(body.user.mfa_enabled, false);
    const s = new Client(server, { cookie: sessionCookie(res), csrf: body.csrf_token });

    for (const [method, path, json] of [['GET', '/customers'], ['GET', '/auth/sessions'], ['POST', '/customers', { name: '试一试' }], ['POST', '/tokens', { name: 'x' }]]) {
      const r = await s.request(method, path, json === undefined ? {} : { json });
      const p = expectProblem(r, 403);
      assert.equal(p.errors?.[0]?.code, 'mfa/enrollment_required', `${method} ${path}: ${r.text}`);
    }
    const me = expectStatus(await s.get('/auth/me'), 200).user;
    assert.equal(me.mfa_required, true);
    assert.equal(expectStatus(await s.get('/auth/mfa'), 200).required, true);

    // A token made on the command line works as before.
    const token = server.cliOk(['token', 'create', 'mfa_forced', '--name', 'script']).stdout.trim();
    expectStatus(await server.bearer(token).get('/customers'), 200);

    const step = await freshStep();
    await enrol(s, step);
    expectStatus(await s.get('/customers'), 200);
    expectProblem(await s.del('/auth/mfa', { json: { password: PASSWORD } }), 403, { field: 'mfa', codes: ['required_by_role'] });

    // The flag is changed with If-Match like the rest of a role.
    expectProblem(await admin.patch(`/roles/${role.id}`, { mfa_required: false }, { headers: { 'if-match': '"999"' } }), 412);
    expectProblem(await admin.patch(`/roles/${role.id}`, { mfa_required: 'yes' }, { headers: { 'if-match': `"${role.version}"` } }), 422, { field: 'mfa_required', codes: ['wrong_type'] });
    const off = expectStatus(await admin.patch(`/roles/${role.id}`, { mfa_required: false }, { headers: { 'if-match': `"${role.version}"` } }), 200);
    assert.equal(off.mfa_required, false);
    assert.ok((await auditOf(admin, 'role.update')).some((x) => x.details.key === 'mfa_staff' && x.details.mfa_required === false));
  });

  it('administrators reset a user\'s MFA (audited), not their own; so does kehu user mfa-reset', async () => {
    await createMember(server, admin, 'mfa_lost');
    const m = await server.login('mfa_lost', PASSWORD);
    await enrol(m, await freshStep());
    const u = await userByName(admin, 'mfa_lost');
    expectProblem(await m.del(`/users/${u.id}/mfa`), 403);
    const adminUser = await userByName(admin, ADMIN.username);
    expectProblem(await admin.del(`/users/${adminUser.id}/mfa`), 422, { field: 'id', codes: ['self'] });
    expectProblem(await admin.del('/users/999999/mfa'), 404);
    const reset = expectStatus(await admin.del(`/users/${u.id}/mfa`), 200);
    assert.equal(reset.was_enabled, true);
    assert.equal(reset.user.mfa_enabled, false);
    const audit = await auditOf(admin, 'auth.mfa_reset');
    assert.ok(audit.some((x) => x.entity_id === String(u.id) && x.actor_name === ADMIN.username));
    await server.login('mfa_lost', PASSWORD); // the password alone again

    // The command line, for when no administrator can log in.
    await enrol(await server.login('mfa_lost', PASSWORD), await freshStep());
    await passwordStep(server, 'mfa_lost');
    const out = server.cliOk(['user', 'mfa-reset', 'mfa_lost']);
    assert.match(out.stdout, /two-step verification of mfa_lost is off/);
    await server.login('mfa_lost', PASSWORD);
    assert.notEqual(server.cli(['user', 'mfa-reset', 'nobody_here']).code, 0);
    assert.ok((await auditOf(admin, 'auth.mfa_reset')).some((x) => x.actor_name === 'local-admin'));
  });

  it('turning MFA off needs the password or a code, and is audited', async () => {
    await createMember(server, admin, 'mfa_off');
    const m = await server.login('mfa_off', PASSWORD);
    const step = await freshStep();
    const { secret, recovery } = await enrol(m, step);
    expectProblem(await m.del('/auth/mfa'), 422, { field: 'password', codes: ['required'] });
    expectProblem(await m.del('/auth/mfa', { json: { password: 'not-the-password' } }), 422, { field: 'password', codes: ['wrong'] });
    expectProblem(await m.del('/auth/mfa', { json: { code: codeAt(secret, step - 1) } }), 422, { field: 'code', codes: ['reused'] });
    expectProblem(await m.del('/auth/mfa', { json: { bogus: 1 } }), 422, { field: 'bogus' });
    expectStatus(await m.del('/auth/mfa', { json: { code: recovery[4] } }), 204);
    assert.equal(expectStatus(await m.get('/auth/mfa'), 200).enabled, false);
    assert.ok((await auditOf(admin, 'auth.mfa_disable')).some((x) => x.actor_name === 'mfa_off'));
    await server.login('mfa_off', PASSWORD);
    expectProblem(await m.del('/auth/mfa', { json: { password: PASSWORD } }), 409);
  });

  it('bad bodies are 4xx naming the field, never 500', async () => {
    expectProblem(await server.anon().post('/auth/login/mfa', { mfa_token: 5, code: '123456' }), 422, { field: 'mfa_token', codes: ['wrong_type'] });
    expectProblem(await server.anon().post('/auth/login/mfa', { mfa_token: 'x', code: '1', extra: true }), 422, { field: 'extra', codes: ['unknown_field'] });
    expectProblem(await server.anon().post('/auth/login/mfa', undefined, { body: 'nope', contentType: 'application/json' }), 400);
    expectProblem(await admin.post('/auth/mfa/confirm', { code: 123456 }), 422, { field: 'code', codes: ['wrong_type'] });
    expectProblem(await admin.post('/auth/mfa/confirm', { code: '123456' }), 409);
    expectProblem(await admin.post('/auth/mfa/recovery-codes', { code: '123456' }), 409);
  });
});
