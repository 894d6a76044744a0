// docs/openapi.yaml itself: compiles, covers every endpoint of docs/api.md, documents errors.
// Needs no server.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { REPO, compileAll, schemaValidator, spec } from './openapi.mjs';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const operations = [];
for (const [path, item] of Object.entries(spec.paths)) {
  for (const m of METHODS) if (item[m]) operations.push({ path, method: m, op: item[m] });
}

describe('openapi.yaml', () => {
  it('is OpenAPI 3.1 and every schema compiles with all references resolved', () => {
    assert.match(spec.openapi, /^3\.1\./);
    assert.ok(compileAll() > 20);
  });

  it('has every endpoint listed in docs/api.md', () => {
    const md = readFileSync(join(REPO, 'docs/api.md'), 'utf8');
    const listed = [...md.matchAll(/^\|\s*(GET|POST|PUT|PATCH|DELETE)\s*\|\s*`([^`]+)`/gm)].map((m) => [m[1].toLowerCase(), m[2].replace(/^\/api\/v1/, '')]);
    assert.ok(listed.length >= 15, `found ${listed.length} endpoints in api.md`);
    const missing = listed.filter(([m, p]) => !spec.paths[p]?.[m]).map(([m, p]) => `${m.toUpperCase()} ${p}`);
    assert.deepEqual(missing, []);
    assert.ok(spec.paths['/healthz']?.get && spec.paths['/openapi.json']?.get);
  });

  it('operationIds are unique', () => {
    const ids = operations.map((o) => o.op.operationId);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('every operation documents 500; protected ones 401; session writes 403; bodies 413/415/422', () => {
    const problems = [];
    for (const { path, method, op } of operations) {
      const r = op.responses ?? {};
      const label = `${method.toUpperCase()} ${path}`;
      if (!r['500']) problems.push(`${label}: no 500`);
      const open = Array.isArray(op.security) && op.security.length === 0;
      if (!open && !r['401']) problems.push(`${label}: no 401`);
      if (!open && method !== 'get' && !r['403']) problems.push(`${label}: no 403 (CSRF)`);
      if (op.requestBody) for (const s of ['413', '415', '422']) if (!r[s]) problems.push(`${label}: no ${s}`);
      if (method === 'patch' && !(r['412'] && r['428'])) problems.push(`${label}: no 412/428`);
      for (const [status, resp] of Object.entries(r)) {
        if (Number(status) >= 400 && !resp.$ref?.startsWith('#/components/responses/')) problems.push(`${label} ${status}: not a shared problem response`);
      }
    }
    assert.deepEqual(problems, []);
  });

  // A few documents the schemas must reject, so that "strict enough" stays true.
  const customer = {
    id: 1, code: null, name: '张伟', gender: 'male', company: null, title: null,
    phones: [{
      number: '0335-3051234 转 12', label: '办公', primary: true, e164: '+863353051234', extension: '12', type: 'fixed_line',
      region: '河北省秦皇岛市', carrier: '', display: '0335-305 1234 转 12', valid: true,
    }],
    emails: [{ address: 'zhang.wei@example.com', label: '工作' }],
    id_number: '11010519491231002X', credit_code: null, province: '河北省', city: '秦皇岛市', district: null, address: null,
    source: '展会', owner_id: 1, owner_name: '管理员', stage: 'intent', notes: null, custom: { industry: '外贸', budget: 50000 },
    tags: ['VIP'], quality_issues: [],
    created_by: 1, created_at: '2026-11-22T15:14:08.123Z', updated_by: 1, updated_at: '2026-11-22T15:14:08.123Z',
    version: 3, deleted_at: null, masked: false,
  };
  const mutations = [
    ['a stray key', (c) => { c.secret = 1; }],
    ['a stray key in a phone', (c) => { c.phones[0].raw = 'x'; }],
    ['a missing key', (c) => { delete c.deleted_at; }],
    ['stage outside the enum', (c) => { c.stage = 'hot'; }],
    ['gender outside the enum', (c) => { c.gender = 'm'; }],
    ['phone type outside the enum', (c) => { c.phones[0].type = 'landline'; }],
    ['e164 without +', (c) => { c.phones[0].e164 = '863353051234'; }],
    ['id as a string', (c) => { c.id = '1'; }],
    ['time without milliseconds', (c) => { c.created_at = '2026-11-22T15:14:08Z'; }],
    ['time not in UTC', (c) => { c.updated_at = '2026-11-22T23:14:08.123+08:00'; }],
    ['email with an upper-case domain', (c) => { c.emails[0].address = 'a@Example.com'; }],
    ['version 0', (c) => { c.version = 0; }],
  ];
  it('Customer accepts the documented example', () => {
    const v = schemaValidator('Customer');
    assert.ok(v(customer), JSON.stringify(v.errors));
  });
  for (const [what, mutate] of mutations) {
    it(`Customer rejects ${what}`, () => {
      const c = structuredClone(customer);
      mutate(c);
      assert.equal(schemaValidator('Customer')(c), false);
    });
  }
  it('User rejects a password hash key', () => {
    const v = schemaValidator('User');
    const u = { id: 1, username: 'admin', display_name: '管理员', role: 'admin', team_id: null, active: true, created_at: '2026-11-22T15:14:08.123Z', version: 1, mfa_enabled: false };
    assert.ok(v(u), JSON.stringify(v.errors));
    assert.equal(v({ ...u, password_hash: 'x' }), false);
  });
});
