// Graceful shutdown: SIGTERM while requests are in flight. Every request either completes
// (201, and its customer is stored) or is refused (503 or a refused connection); the server
// exits 0; after a restart exactly the acknowledged customers exist.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { expectStatus, startServer } from './harness.mjs';

// POSTs a customer with a bearer token; a refused or reset connection is an outcome, not an error.
async function create(origin, token, body) {
  try {
    const res = await fetch(`${origin}/api/v1/customers`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: res.status, id: (await res.json()).id };
  } catch (e) {
    return { status: 'connection', error: e.cause?.code ?? e.message };
  }
}

describe('graceful shutdown', () => {
  let server;
  let token;
  before(async () => {
    server = await startServer();
    const admin = await server.login();
    token = expectStatus(await admin.post('/tokens', { name: 'shutdown-test' }), 201).token;
  });
  after(async () => {
    await server?.close();
  });

  it('finishes requests in flight, refuses new ones, loses nothing acknowledged', async () => {
    const total = 150;
    let answered = 0;
    let sigtermSent;
    const sigterm = new Promise((resolve) => { sigtermSent = resolve; });
    const requests = Array.from({ length: total }, async (_, i) => {
      const mobile = `1390${String(1000000 + i).slice(-7)}`;
      const result = await create(server.origin, token, { name: `停机测试${i}`, phones: [mobile] });
      if (++answered === 10) {
        server.proc.kill('SIGTERM');
        sigtermSent();
      }
      return result;
    });
    // More requests right after the signal: they are answered 503 or find the port closed.
    const late = sigterm.then(() => Promise.all(Array.from({ length: 20 }, (_, i) =>
      create(server.origin, token, { name: `停机后${i}` }))));
    const results = [...(await Promise.all(requests)), ...(await late)];
    const exit = await server.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, `exit on SIGTERM\n${server.logTail()}`);

    const statuses = new Set(results.map((r) => r.status));
    for (const s of statuses) assert.ok([201, 503, 'connection'].includes(s), `unexpected outcome ${s}`);
    const created = results.filter((r) => r.status === 201).map((r) => r.id);
    // SIGTERM went out after the 10th answer: more than 10 means requests in flight finished.
    assert.ok(created.length > 10, `only ${created.length} requests completed`);

    server.exit = null;
    await server.launch();
    const admin = await server.login();
    const ids = [];
    for (let cursor = null; ;) {
      const page = expectStatus(await admin.get('/customers', { query: { limit: 200, ...(cursor ? { cursor } : {}) } }), 200);
      ids.push(...page.items.map((c) => c.id));
      cursor = page.next_cursor;
      if (!cursor) break;
    }
    assert.deepEqual(ids.sort((a, b) => a - b), created.sort((a, b) => a - b),
      'the stored customers are exactly those whose creation was acknowledged');
  });
});
