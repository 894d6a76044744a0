// Custom fields: definitions (admin only), typed values, required, unknown keys, deletion.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import {
  countCustomers, createCustomer, createMember, expectProblem, expectStatus, startServer,
} from './harness.mjs';

describe('custom fields', () => {
  let server;
  let admin;
  let member;
  before(async () => {
    server = await startServer();
    admin = await server.login();
    member = await createMember(server, admin, 'field_member');
  });
  after(async () => {
    await server?.close();
  });

  const definitions = [
    { name: 'industry', label: '行业', type: 'text' },
    { name: 'budget', label: '预算', type: 'number' },
    { name: 'signed_on', label: '签约日期', type: 'date' },
    { name: 'level', label: '客户等级', type: 'select', options: ['A', 'B', 'C'] },
    { name: 'interests', label: '兴趣', type: 'multiselect', options: ['外贸', '物流', '金融'] },
  ];
  for (const def of definitions) {
    it(`admin defines a ${def.type} field "${def.name}"`, async () => {
      const f = expectStatus(await admin.post('/fields', def), 201);
      assert.equal(f.name, def.name);
      assert.equal(f.label, def.label);
      assert.equal(f.type, def.type);
      assert.equal(f.entity, 'customer');
      assert.equal(f.required, false);
      assert.deepEqual(f.options, def.options ?? []);
    });
  }

  it('GET /fields lists them for any user', async () => {
    const list = expectStatus(await member.get('/fields'), 200);
    assert.deepEqual(list.items.map((f) => f.name), definitions.map((d) => d.name));
  });

  const badDefinitions = [
    ['taken name', { name: 'industry', label: '重复', type: 'text' }, 409],
    ['upper-case name', { name: 'Industry', label: 'x', type: 'text' }, 422],
    ['name with a dash', { name: 'bad-name', label: 'x', type: 'text' }, 422],
    ['name starting with a digit', { name: '1abc', label: 'x', type: 'text' }, 422],
    ['name over 40 chars', { name: `a${'b'.repeat(40)}`, label: 'x', type: 'text' }, 422],
    ['built-in name "name"', { name: 'name', label: 'x', type: 'text' }, 422],
    ['built-in name "phones"', { name: 'phones', label: 'x', type: 'text' }, 422],
    ['built-in name "owner_id"', { name: 'owner_id', label: 'x', type: 'text' }, 422],
    ['unknown type', { name: 'weird', label: 'x', type: 'colour' }, 422],
    ['select without options', { name: 'no_opts', label: 'x', type: 'select' }, 422],
    ['multiselect with empty options', { name: 'empty_opts', label: 'x', type: 'multiselect', options: [] }, 422],
    ['unknown key', { name: 'extra', label: 'x', type: 'text', colour: 'red' }, 422],
    ['missing type', { name: 'no_type', label: 'x' }, 422],
  ];
  for (const [what, body, status] of badDefinitions) {
    it(`POST /fields with ${what} → ${status}`, async () => {
      expectProblem(await admin.post('/fields', body), status);
      const list = expectStatus(await admin.get('/fields'), 200);
      assert.equal(list.items.length, definitions.length, 'nothing defined');
    });
  }

  it('a member cannot define or delete fields → 403', async () => {
    expectProblem(await member.post('/fields', { name: 'by_member', label: 'x', type: 'text' }), 403, { type: 'forbidden' });
    expectProblem(await member.del('/fields/industry'), 403, { type: 'forbidden' });
    const list = expectStatus(await admin.get('/fields'), 200);
    assert.deepEqual(list.items.map((f) => f.name), definitions.map((d) => d.name));
  });

  it('valid values of every type round-trip', async () => {
    const custom = { industry: '外贸', budget: 50000.5, signed_on: '2024-03-15', level: 'B', interests: ['外贸', '金融'] };
    const c = await createCustomer(admin, { name: '自定义字段', custom });
    assert.deepEqual(c.custom, custom);
    assert.deepEqual(expectStatus(await admin.get(`/customers/${c.id}`), 200).custom, custom);
  });

  const badValues = [
    ['text given a number', { industry: 5 }, 'custom.industry', ['wrong_type']],
    ['number given a string', { budget: 'lots' }, 'custom.budget', ['wrong_type']],
    ['date given a number', { signed_on: 20240315 }, 'custom.signed_on', ['wrong_type']],
    ['date not YYYY-MM-DD', { signed_on: '15/03/2024' }, 'custom.signed_on', ['invalid_format']],
    ['date that does not exist', { signed_on: '2024-02-30' }, 'custom.signed_on', ['invalid_format']],
    ['select outside its options', { level: 'D' }, 'custom.level', ['invalid_choice']],
    ['select given an array', { level: ['A'] }, 'custom.level', ['wrong_type']],
    ['multiselect given a string', { interests: '外贸' }, 'custom.interests', ['wrong_type']],
    ['multiselect with an unknown option', { interests: ['外贸', '养殖'] }, 'custom.interests', ['invalid_choice']],
    ['unknown custom key', { shoe_size: 42 }, 'custom.shoe_size', ['unknown_field']],
  ];
  for (const [what, custom, field, codes] of badValues) {
    it(`${what} → 422 ${field} ${codes.join('|')}, nothing stored`, async () => {
      const before = await countCustomers(admin);
      expectProblem(await admin.post('/customers', { name: '坏值', custom }), 422, { field, codes });
      assert.equal(await countCustomers(admin), before);
    });
  }

  it('custom as a non-object → 422 wrong_type', async () => {
    expectProblem(await admin.post('/customers', { name: '坏值', custom: ['x'] }), 422, { field: 'custom', codes: ['wrong_type'] });
  });

  it('PATCH replaces custom as a whole and validates it', async () => {
    const c = await createCustomer(admin, { name: '替换', custom: { industry: '物流', budget: 1 } });
    const u = expectStatus(await admin.patch(`/customers/${c.id}`, { custom: { level: 'A' } }, { headers: { 'if-match': '"1"' } }), 200);
    assert.deepEqual(u.custom, { level: 'A' });
    expectProblem(await admin.patch(`/customers/${c.id}`, { custom: { level: 'Z' } }, { headers: { 'if-match': '"2"' } }), 422, { field: 'custom.level' });
    assert.deepEqual(expectStatus(await admin.get(`/customers/${c.id}`), 200).custom, { level: 'A' });
  });

  describe('required', () => {
    it('a required field must be given on create', async () => {
      expectStatus(await admin.post('/fields', { name: 'contract_no', label: '合同号', type: 'text', required: true }), 201);
      const before = await countCustomers(admin);
      expectProblem(await admin.post('/customers', { name: '缺必填' }), 422, { field: 'custom.contract_no', codes: ['required'] });
      expectProblem(await admin.post('/customers', { name: '缺必填', custom: { industry: '外贸' } }), 422, { field: 'custom.contract_no', codes: ['required'] });
      assert.equal(await countCustomers(admin), before);
      const c = await createCustomer(admin, { name: '有必填', custom: { contract_no: 'HT-2024-001' } });
      assert.equal(c.custom.contract_no, 'HT-2024-001');
    });

    it('deleting the field → 204; it is no longer required nor shown', async () => {
      const c = (await admin.listAll('/customers')).find((x) => x.name === '有必填');
      expectStatus(await admin.del('/fields/contract_no'), 204);
      const list = expectStatus(await admin.get('/fields'), 200);
      assert.ok(!list.items.some((f) => f.name === 'contract_no'));
      await createCustomer(admin, { name: '不再必填' });
      const again = expectStatus(await admin.get(`/customers/${c.id}`), 200);
      assert.ok(!('contract_no' in again.custom), 'deleted field not shown');
      expectProblem(await admin.post('/customers', { name: '已删字段', custom: { contract_no: 'x' } }), 422, { field: 'custom.contract_no', codes: ['unknown_field'] });
    });

    it('DELETE of an unknown field → 404', async () => {
      expectProblem(await admin.del('/fields/never_defined'), 404);
    });
  });

  it('server exits 0 on SIGTERM', async () => {
    await server.stopCleanly();
  });
});
