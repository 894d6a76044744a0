// Black-box harness: runs a real `kehu serve` on a free loopback port with a temporary data
// directory (and a fresh PostgreSQL database when KEHU_TEST_DATABASE is set), and gives tests
// HTTP clients whose every answer is checked against docs/openapi.yaml.
//
// Environment:
//   KEHU_BIN             the server binary (default <repo>/build/kehu)
//   KEHU_TEST_DATABASE   PostgreSQL URL of a role that may CREATE DATABASE; empty = SQLite.
//                        Each server gets its own database kehu_t_<...>, dropped at the end.
//   KEHU_TEST_KEEP=1     keep temporary directories and databases (paths are printed).
//
// startServer({tls: {cert, key}}) serves HTTPS with that PEM pair; clients then trust `cert`.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

import { API_PREFIX, REPO, checkAnswer } from './openapi.mjs';

export { REPO };
export const KEHU_BIN = process.env.KEHU_BIN || join(REPO, 'build/kehu');
export const ADMIN = Object.freeze({ username: 'admin', password: 'Qx7-harbour-lamp', display_name: '管理员' });
const KEEP = process.env.KEHU_TEST_KEEP === '1';
const PG_BASE_URL = process.env.KEHU_TEST_DATABASE || '';
export const ENGINE = PG_BASE_URL ? 'postgresql' : 'sqlite';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// The child environment: the caller's, minus anything that would point kehu elsewhere.
function childEnv(extra = {}) {
  const env = { ...process.env };
  for (const k of ['KEHU_DATA', 'KEHU_KEY_FILE', 'KEHU_DATABASE']) delete env[k];
  return { ...env, ...extra };
}

function psql(url, sql) {
  const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw new Error(`psql failed to run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`psql ${JSON.stringify(sql)} failed: ${r.stderr}`);
  return r.stdout;
}

// A fresh database for one server: same server and credentials as KEHU_TEST_DATABASE.
function createPgDatabase() {
  const name = `kehu_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  psql(PG_BASE_URL, `CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
  const u = new URL(PG_BASE_URL);
  u.pathname = `/${name}`;
  return { name, url: u.toString() };
}

function dropPgDatabase(name) {
  try {
    psql(PG_BASE_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } catch (e) {
    console.error(`warning: ${e.message}`);
  }
}

// fetch() over node:https with its own agent (trusting the test CA): the built-in fetch takes
// no CA without the undici package. Answers a standard Response; errors look like fetch's.
function fetchHttps(agent, url, init = {}) {
  const failed = (e) => new TypeError('fetch failed', { cause: e });
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method ?? 'GET', headers: init.headers, agent, signal: init.signal }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => reject(failed(e)));
      res.on('end', () => {
        const headers = new Headers();
        for (let i = 0; i < res.rawHeaders.length; i += 2) headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
        const noBody = init.method === 'HEAD' || [204, 205, 304].includes(res.statusCode);
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status: res.statusCode, statusText: res.statusMessage, headers }));
      });
    });
    req.on('error', (e) => reject(failed(e)));
    if (init.body && typeof init.body.getReader === 'function') Readable.fromWeb(init.body).pipe(req);
    else req.end(init.body);
  });
}

export class Server {
  constructor({ dir, dataDir, keyFile, database, port, maxBody, tls }) {
    Object.assign(this, { dir, dataDir, keyFile, database, port, maxBody, tls });
    this.origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    this.httpsAgent = tls ? new HttpsAgent({ keepAlive: true, ca: readFileSync(tls.cert) }) : null;
    this.logFile = join(dir, 'server.log');
    this.proc = null;
    this.exit = null; // {code, signal} once exited
    this.closed = false;
    this.crashes = []; // unexpected exits, each {exit, during, log}; the server was restarted
    this.lastRequest = '';
  }

  // fetch() for this server: the built-in one, or over HTTPS trusting the test certificate.
  fetch(url, init) {
    return this.httpsAgent ? fetchHttps(this.httpsAgent, url, init) : fetch(url, init);
  }

  // Options every kehu command gets.
  globalArgs() {
    const a = ['--data', this.dataDir, '--key-file', this.keyFile];
    if (this.database) a.push('--database', this.database.url);
    return a;
  }

  // Runs one SQL statement on this server's store behind its back (sqlite3 on the data
  // directory's file, or psql), for tests that need a state the API cannot make, such as a
  // damaged row. Throws on failure.
  storeSql(sql) {
    if (this.database) return psql(this.database.url, sql);
    const r = spawnSync('sqlite3', [join(this.dataDir, 'kehu.db')], {
      input: `PRAGMA busy_timeout=10000;\n${sql};\n`,
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.error) throw new Error(`sqlite3 failed to run: ${r.error.message}`);
    if (r.status !== 0) throw new Error(`sqlite3 ${JSON.stringify(sql)} failed: ${r.stderr}`);
    return r.stdout;
  }

  // Runs `kehu ARGS... <global options>`; `input` goes to stdin. Never throws on exit status.
  cli(args, { input } = {}) {
    const r = spawnSync(KEHU_BIN, [...args, ...this.globalArgs()], {
      input: input ?? '',
      encoding: 'utf8',
      env: childEnv(),
      timeout: 60_000,
    });
    if (r.error) throw new Error(`cannot run ${KEHU_BIN} ${args.join(' ')}: ${r.error.message}`);
    return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  }

  // Like cli(), without blocking the event loop (so requests can run meanwhile).
  cliAsync(args, { input } = {}) {
    return new Promise((resolve, reject) => {
      const p = spawn(KEHU_BIN, [...args, ...this.globalArgs()], { env: childEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d) => { stdout += d; });
      p.stderr.on('data', (d) => { stderr += d; });
      p.on('error', reject);
      p.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
      p.stdin.end(input ?? '');
    });
  }

  cliOk(args, opts) {
    const r = this.cli(args, opts);
    assert.equal(r.code, 0, `kehu ${args.join(' ')} exited ${r.code} ${r.signal ?? ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    return r;
  }

  async launch() {
    const args = ['serve', ...this.globalArgs(), '--listen', `127.0.0.1:${this.port}`];
    if (this.maxBody) args.push('--max-body', String(this.maxBody));
    if (this.tls) args.push('--tls-cert', this.tls.cert, '--tls-key', this.tls.key);
    if (this.serveArgs) args.push(...this.serveArgs);
    const log = createWriteStream(this.logFile);
    this.proc = spawn(KEHU_BIN, args, { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.pipe(log);
    this.proc.stderr.pipe(log);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    const deadline = Date.now() + 30_000;
    let lastError = '';
    while (Date.now() < deadline) {
      if (this.exit) break;
      try {
        const r = await this.fetch(`${this.origin}/healthz`, { signal: AbortSignal.timeout(2000) });
        if (r.status === 200) return;
        lastError = `healthz answered ${r.status}`;
      } catch (e) {
        lastError = e.cause?.code ?? e.message;
      }
      await sleep(100);
    }
    const why = this.exit ? `exited ${JSON.stringify(this.exit)}` : `no healthy answer in 30 s (${lastError})`;
    this.proc.kill('SIGKILL');
    throw new Error(`kehu serve ${why}\n--- server log ---\n${this.logTail()}`);
  }

  // After an unexpected exit: record it and start again on the same data and port, so one
  // crash fails the test that caused it rather than every test after it.
  async relaunch(during = this.lastRequest) {
    this.crashes.push({ exit: this.exit, during, log: this.logTail(10) });
    const old = `${this.logFile}.${this.crashes.length}`;
    try {
      renameSync(this.logFile, old);
    } catch {
      // no log to keep
    }
    this.exit = null;
    await this.launch();
  }

  logTail(lines = 40) {
    try {
      return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  // SIGTERM and wait; returns {code, signal}. Kills hard after `timeoutMs`.
  async stop(timeoutMs = 15_000) {
    if (!this.proc) return this.exit;
    if (!this.exit) {
      this.sigtermSent = true;
      this.proc.kill('SIGTERM');
      const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
      await this.exited;
      clearTimeout(t);
    }
    return this.exit;
  }

  // Asserts a clean shutdown: SIGTERM → exit status 0.
  async stopCleanly() {
    const exit = await this.stop();
    const crashes = this.crashes.map((c) => `  ${JSON.stringify(c.exit)} after ${c.during}`).join('\n');
    assert.equal(this.crashes.length, 0, `kehu serve crashed ${this.crashes.length} time(s) during this file (restarted each time):\n${crashes}`);
    assert.deepEqual(exit, { code: 0, signal: null }, `kehu serve did not exit 0 on SIGTERM (${this.sigtermSent ? 'exit' : 'it had already exited'}: ${JSON.stringify(exit)})\n--- server log ---\n${this.logTail()}`);
  }

  // Stops (if running) and removes the data directory and database.
  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.stop(5_000);
    this.httpsAgent?.destroy();
    if (KEEP) {
      console.error(`kept: ${this.dir}${this.database ? ` and database ${this.database.url}` : ''}`);
      return;
    }
    if (this.database) dropPgDatabase(this.database.name);
    rmSync(this.dir, { recursive: true, force: true });
  }

  anon() {
    return new Client(this, {});
  }

  bearer(token) {
    return new Client(this, { token });
  }

  // Logs in and returns a session client (cookie + CSRF token).
  async login(username = ADMIN.username, password = ADMIN.password) {
    const res = await this.anon().post('/auth/login', { username, password });
    assert.equal(res.status, 200, `login as ${username} failed: ${res.status} ${res.text}`);
    const cookie = sessionCookie(res);
    assert.ok(cookie, `login did not set kehu_session: ${JSON.stringify(res.headers.getSetCookie())}`);
    const c = new Client(this, { cookie, csrf: res.body.csrf_token });
    c.user = res.body.user;
    return c;
  }
}

// The kehu_session cookie value from a response's Set-Cookie headers, or null.
export function sessionCookie(res) {
  for (const sc of res.headers.getSetCookie()) {
    const m = /^\s*kehu_session=([^;]*)/.exec(sc);
    if (m) return m[1];
  }
  return null;
}

// Starts a server on a fresh data directory (and database) with the first admin created.
//   maxBody: passes --max-body
//   tls: {cert, key} PEM files: passes --tls-cert/--tls-key and clients speak HTTPS
// serveArgs: extra `kehu serve` options (e.g. ['--login-lock-after', '4']).
export async function startServer({ maxBody, tls, serveArgs } = {}) {
  if (!existsSync(KEHU_BIN)) throw new Error(`kehu binary not found at ${KEHU_BIN} (set KEHU_BIN)`);
  const dir = mkdtempSync(join(tmpdir(), 'kehu-api-'));
  const database = PG_BASE_URL ? createPgDatabase() : null;
  const server = new Server({
    dir,
    dataDir: join(dir, 'data'),
    keyFile: join(dir, 'master.key'),
    database,
    port: await freePort(),
    maxBody,
    tls,
  });
  server.serveArgs = serveArgs ?? [];
  try {
    server.cliOk(['migrate']);
    server.cliOk(['user', 'add', ADMIN.username, '--admin', '--display-name', ADMIN.display_name], {
      input: `${ADMIN.password}\n`,
    });
    await server.launch();
  } catch (e) {
    await server.close();
    throw e;
  }
  return server;
}

// An HTTP client. Every answer is checked against openapi.yaml; a mismatch throws.
export class Client {
  constructor(server, { cookie, csrf, token }) {
    this.server = server;
    this.cookie = cookie ?? null;
    this.csrf = csrf ?? null;
    this.token = token ?? null;
    this.user = null;
  }

  // path: "/customers?..." (under /api/v1) or an absolute path starting with "/api/" or
  // "/healthz". Options:
  //   json      a value sent as application/json
  //   body      raw body (string | Buffer | ReadableStream); set contentType yourself
  //   contentType  Content-Type for `body` (none if omitted)
  //   query     object of query parameters
  //   headers   extra headers
  //   csrf      false: do not send X-CSRF-Token; a string: send that instead
  //   check     false: skip the OpenAPI check (only for deliberately broken answers)
  async request(method, path, opts = {}) {
    const full = path.startsWith('/api/') || path === '/healthz' || path.startsWith('/healthz?') ? path : API_PREFIX + path;
    const url = new URL(full, this.server.origin);
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    }
    const headers = { accept: 'application/json', ...(opts.headers ?? {}) };
    if (this.cookie !== null) headers.cookie = `kehu_session=${this.cookie}`;
    if (this.token !== null) headers.authorization = `Bearer ${this.token}`;
    const write = !['GET', 'HEAD'].includes(method);
    if (write && this.cookie !== null && opts.csrf !== false) {
      const t = typeof opts.csrf === 'string' ? opts.csrf : this.csrf;
      if (t) headers['x-csrf-token'] = t;
    }
    let body;
    if (opts.json !== undefined) {
      body = JSON.stringify(opts.json);
      headers['content-type'] ??= 'application/json';
    } else if (opts.body !== undefined) {
      body = opts.body;
      if (opts.contentType) headers['content-type'] = opts.contentType;
    }
    const init = { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(opts.timeout ?? 30_000) };
    if (body && typeof body.getReader === 'function') init.duplex = 'half';
    if (this.server.exit && !this.server.sigtermSent) await this.server.relaunch();
    const previous = this.server.lastRequest;
    this.server.lastRequest = `${method} ${url.pathname}${url.search}`;
    let res;
    try {
      try {
        res = await this.server.fetch(url, init);
      } catch (e) {
        // Refused because the server died right after answering the previous request: that
        // request's test is blamed (crashes are listed at the end); start again and retry.
        await sleep(100);
        const retry = e.cause?.code === 'ECONNREFUSED' && this.server.exit && !this.server.sigtermSent && !init.duplex;
        if (!retry) throw e;
        await this.server.relaunch(`${previous} (died after answering it)`);
        res = await this.server.fetch(url, { ...init, signal: AbortSignal.timeout(opts.timeout ?? 30_000) });
      }
    } catch (e) {
      await sleep(50);
      const dead = this.server.exit ? ` — kehu serve has exited ${JSON.stringify(this.server.exit)}` : '';
      throw new Error(`${method} ${url.pathname}${url.search}: ${e.message} ${e.cause?.code ?? ''}${dead}\n--- server log ---\n${this.server.logTail(15)}`);
    }
    const text = await res.text();
    const answer = { method, pathname: url.pathname, status: res.status, headers: res.headers, text };
    const { problems, json } = checkAnswer(answer);
    const out = { status: res.status, headers: res.headers, text, body: json, url: url.pathname + url.search };
    if (opts.check !== false && problems.length) {
      assert.fail(`${method} ${url.pathname}${url.search}: answer does not match docs/openapi.yaml:\n- ${problems.join('\n- ')}`);
    }
    return out;
  }

  get(path, opts) {
    return this.request('GET', path, opts);
  }
  post(path, json, opts = {}) {
    return this.request('POST', path, json === undefined ? opts : { ...opts, json });
  }
  patch(path, json, opts = {}) {
    return this.request('PATCH', path, json === undefined ? opts : { ...opts, json });
  }
  put(path, json, opts = {}) {
    return this.request('PUT', path, json === undefined ? opts : { ...opts, json });
  }
  del(path, opts) {
    return this.request('DELETE', path, opts);
  }

  // Follows next_cursor to the end; returns every item. Fails on a loop or > maxPages.
  async listAll(path, query = {}, { limit = 200, maxPages = 100 } = {}) {
    const items = [];
    const seen = new Set();
    let cursor;
    for (let page = 0; page < maxPages; page++) {
      const res = await this.get(path, { query: { ...query, limit, cursor } });
      assert.equal(res.status, 200, `GET ${res.url}: ${res.status} ${res.text}`);
      items.push(...res.body.items);
      cursor = res.body.next_cursor;
      if (cursor === null || cursor === undefined) return items;
      assert.ok(!seen.has(cursor), `next_cursor repeats: ${cursor}`);
      seen.add(cursor);
    }
    assert.fail(`more than ${maxPages} pages at ${path}`);
  }
}

// --- assertions on answers ---------------------------------------------------------------

// Asserts status and, for errors, the problem type suffix; returns the body.
export function expectStatus(res, status, what = '') {
  const want = Array.isArray(status) ? status : [status];
  assert.ok(want.includes(res.status), `${what ? what + ': ' : ''}${res.url}: want ${want.join('|')}, got ${res.status} ${res.text.slice(0, 500)}`);
  return res.body;
}

const TYPE_FOR = {
  400: 'bad-request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 409: 'conflict',
  412: 'precondition-failed', 413: 'payload-too-large', 415: 'unsupported-media-type', 422: 'invalid',
  428: 'precondition-required', 429: 'rate-limited', 500: 'internal',
};

// Asserts a problem answer. opts: {type: suffix, field, codes: [allowed codes]}.
export function expectProblem(res, status, opts = {}) {
  expectStatus(res, status);
  const ctype = res.headers.get('content-type') ?? '';
  assert.match(ctype, /^application\/problem\+json\b/, `${res.url}: Content-Type ${ctype}`);
  const p = res.body;
  assert.ok(p && typeof p === 'object', `${res.url}: no problem body`);
  const suffix = opts.type ?? TYPE_FOR[res.status];
  assert.equal(p.type, `https://kehu.dev/problems/${suffix}`, `${res.url}: problem type`);
  assert.equal(p.status, res.status);
  if (opts.field !== undefined || opts.codes) {
    assert.ok(Array.isArray(p.errors) && p.errors.length > 0, `${res.url}: no errors[] in ${res.text}`);
    const e = opts.field !== undefined ? p.errors.find((x) => x.field === opts.field) : p.errors[0];
    assert.ok(e, `${res.url}: no error for field ${opts.field} in ${JSON.stringify(p.errors)}`);
    if (opts.codes) assert.ok(opts.codes.includes(e.code), `${res.url}: error code ${e.code} for ${e.field}, want one of ${opts.codes.join(', ')}`);
    if (opts.first) assert.equal(p.errors[0].field, opts.field, `${res.url}: errors[0].field`);
  }
  return p;
}

// Creates a customer (must succeed) and returns it. confirmDuplicate: save even when another
// customer has the same phone or email (?confirm_duplicate=true; otherwise that is a 409).
export async function createCustomer(client, body, what = '', { confirmDuplicate = false } = {}) {
  const res = await client.post('/customers', body, confirmDuplicate ? { query: { confirm_duplicate: true } } : {});
  expectStatus(res, 201, what || `create ${JSON.stringify(body).slice(0, 120)}`);
  return res.body;
}

// The customer with clear contact data (POST /customers/{id}/reveal; answers are masked).
export async function revealCustomer(client, id) {
  const res = await client.post(`/customers/${id}/reveal`, {});
  return expectStatus(res, 200, `reveal customer ${id}`).customer;
}

// Number of customers (live, or in the recycle bin with deleted=true).
export async function countCustomers(client, query = {}) {
  return (await client.listAll('/customers', query)).length;
}

// Creates a user through the API (admin client) and returns a logged-in session for it.
export async function createMember(server, admin, username, { role = 'sales', display_name } = {}) {
  const password = 'Kq8-secret-pass';
  const res = await admin.post('/users', { username, password, display_name: display_name ?? username, role });
  expectStatus(res, 201, `create user ${username}`);
  const s = await server.login(username, password);
  s.password = password;
  return s;
}
