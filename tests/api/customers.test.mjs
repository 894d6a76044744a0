// Customers: create/get/patch/delete/restore, phone and email normalisation, ID checksums,
// versions (ETag / If-Match), code uniqueness, the recycle bin.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { CREDIT_ALPHABET, breakCheck, creditCode, residentId } from './cn_ids.mjs';
import {
  countCustomers, createCustomer, expectProblem, expectStatus, revealCustomer, startServer,
} from './harness.mjs';

const ID_ALPHABET = '0123456789X';

describe('customers', () => {
  let server;
  let admin;
  before(async () => {
    server = await startServer();
    admin = await server.login();
  });
  after(async () => {
    await server?.close();
  });

  describe('create', () => {
    it('a minimal customer gets the documented defaults, Location and ETag', async () => {
      const res = await admin.post('/customers', { name: '张伟' });
      const c = expectStatus(res, 201);
      assert.equal(c.name, '张伟');
      assert.equal(c.gender, 'unknown');
      assert.equal(c.stage, 'potential');
      assert.equal(c.version, 1);
      assert.deepEqual(c.phones, []);
      assert.deepEqual(c.emails, []);
      assert.deepEqual(c.custom, {});
      assert.equal(c.deleted_at, null);
      assert.equal(c.created_by, admin.user.id);
      assert.equal(c.updated_by, admin.user.id);
      assert.equal(res.headers.get('etag'), '"1"');
      assert.match(res.headers.get('location'), new RegExp(`/api/v1/customers/${c.id}$`));
      const got = expectStatus(await admin.get(`/customers/${c.id}`), 200);
      assert.deepEqual(got, c);
    });

    it('a full customer round-trips every field', async () => {
      const owner = admin.user.id;
      const body = {
        code: 'KH-FULL', name: '王芳', gender: 'female', company: '秦皇岛海港贸易有限公司', title: '采购经理',
        phones: [{ number: '13800138000', label: '手机' }],
        emails: [{ address: 'wang.fang@example.com', label: '工作' }],
        province: '河北省', city: '秦皇岛市', district: '海港区', address: '文化路 1 号',
        source: '展会', owner_id: owner, stage: 'intent', notes: '第一次见面在广交会',
      };
      const created = await createCustomer(admin, body);
      assert.equal(created.masked, true, 'answers are masked until revealed');
      assert.equal(created.address, '****');
      assert.deepEqual(created.emails, [{ address: 'w***@example.com', label: '工作' }]);
      assert.equal(created.phones[0].display, '138****8000');
      const c = await revealCustomer(admin, created.id);
      assert.equal(c.masked, false);
      for (const k of ['code', 'name', 'gender', 'company', 'title', 'province', 'city', 'district', 'address', 'source', 'owner_id', 'stage', 'notes']) {
        assert.deepEqual(c[k], body[k], k);
      }
      assert.equal(c.owner_name, admin.user.display_name);
      assert.equal(c.phones[0].label, '手机');
      assert.equal(c.phones[0].primary, true);
      assert.deepEqual(c.emails, [{ address: 'wang.fang@example.com', label: '工作' }]);
    });

    it('the first phone is primary when none is marked; exactly one is primary', async () => {
      const a = await createCustomer(admin, { name: '主号码甲', phones: [{ number: '13800138001' }, { number: '13800138002' }] });
      assert.deepEqual(a.phones.map((p) => p.primary), [true, false]);
      const b = await createCustomer(admin, {
        name: '主号码乙', phones: [{ number: '13800138001' }, { number: '13800138002', primary: true }],
      }, '', { confirmDuplicate: true });
      assert.deepEqual(b.phones.map((p) => p.primary), [false, true]);
    });
  });

  describe('phone numbers are normalised', () => {
    const cases = [
      { number: '+86 138-0013-8000', e164: '+8613800138000', extension: '', type: ['mobile'] },
      { number: '0086 13800138000', e164: '+8613800138000', extension: '', type: ['mobile'] },
      { number: '１３８００１３８０００', e164: '+8613800138000', extension: '', type: ['mobile'] },
      { number: '(0335) 305-1234', e164: '+863353051234', extension: '', type: ['fixed_line', 'fixed_line_or_mobile'], region: '秦皇岛' },
      {
        number: '0335-3051234 转 12', e164: '+863353051234', extension: '12', type: ['fixed_line', 'fixed_line_or_mobile'],
        region: '秦皇岛', display: '0335-305 1234 转 12',
      },
      { number: '010-6552 9988 分机 8001', e164: '+861065529988', extension: '8001', type: ['fixed_line', 'fixed_line_or_mobile'], region: '北京' },
      { number: '400-810-8888', e164: '+864008108888', extension: '', type: ['shared_cost', 'toll_free', 'uan'] },
    ];
    for (const tc of cases) {
      it(`${JSON.stringify(tc.number)} → ${tc.e164}${tc.extension ? ' ext ' + tc.extension : ''}`, async () => {
        // Several cases are one number written differently: saved on purpose as duplicates.
        const created = await createCustomer(admin, { name: `号码 ${tc.number}`, phones: [{ number: tc.number, label: '办公' }] },
          '', { confirmDuplicate: true });
        assert.match(created.phones[0].display, /\*{3,}/, 'masked until revealed');
        const c = await revealCustomer(admin, created.id);
        assert.equal(c.phones.length, 1);
        const p = c.phones[0];
        assert.equal(p.number, tc.number, 'raw input kept as typed');
        assert.equal(p.e164, tc.e164);
        assert.equal(p.extension, tc.extension);
        assert.equal(p.valid, true);
        assert.equal(p.primary, true);
        assert.ok(tc.type.includes(p.type), `type ${p.type}, want ${tc.type.join('|')}`);
        if (tc.region) assert.ok(p.region.includes(tc.region), `region ${JSON.stringify(p.region)} contains ${tc.region}`);
        if (tc.display) assert.equal(p.display, tc.display);
      });
    }

    const invalid = [
      ['12345', ['too_short', 'not_a_number', 'invalid_number']],
      ['hello', ['not_a_number']],
      ['138001380001234567890', ['too_long', 'invalid_number', 'not_a_number']],
      ['+999 1234 5678', ['invalid_country_code', 'invalid_number']],
      ['0335-000', ['too_short', 'invalid_number']],
    ];
    for (const [number, codes] of invalid) {
      it(`invalid number ${JSON.stringify(number)} → 422 phones[0].number (${codes.join('|')}), nothing stored`, async () => {
        const before = await countCustomers(admin);
        const res = await admin.post('/customers', { name: '坏号码', phones: [{ number }] });
        expectProblem(res, 422, { field: 'phones[0].number', codes, first: true });
        assert.equal(await countCustomers(admin), before);
      });
    }

    it('the failing index is named: phones[1].number', async () => {
      const res = await admin.post('/customers', { name: '第二个坏', phones: [{ number: '13800138000' }, { number: 'abc' }] });
      expectProblem(res, 422, { field: 'phones[1].number', codes: ['not_a_number'] });
    });
  });

  describe('emails', () => {
    it('are trimmed and the domain lower-cased (local part kept)', async () => {
      const c = await revealCustomer(admin, (await createCustomer(admin, {
        name: '邮件', emails: [{ address: '  Zhang.Wei@Example.COM  ', label: '工作' }, { address: 'li@MAIL.Example.cn' }],
      })).id);
      assert.equal(c.emails[0].address, 'Zhang.Wei@example.com');
      assert.equal(c.emails[1].address, 'li@mail.example.cn');
    });

    for (const address of ['not-an-email', 'a@b@example.com', 'has space@example.com', '@example.com', 'x@']) {
      it(`${JSON.stringify(address)} → 422 emails[0].address invalid_email`, async () => {
        const res = await admin.post('/customers', { name: '坏邮件', emails: [{ address }] });
        expectProblem(res, 422, { field: 'emails[0].address', codes: ['invalid_email'] });
      });
    }
  });

  describe('ID numbers and credit codes', () => {
    const id = residentId('110105', '19491231', 2); // the GB 11643 sample, check character X
    const idDigit = residentId('130302', '19850715', 11);
    const code = creditCode('9', '1', '130302', 'MA0A1B2C');

    it('valid 身份证号 and 统一社会信用代码 are accepted', async () => {
      assert.equal(id, '11010519491231002X');
      for (const [idn, cc] of [[id, code], [idDigit, null]]) {
        const c = await revealCustomer(admin, (await createCustomer(admin, { name: '证件', id_number: idn, credit_code: cc })).id);
        assert.equal(c.id_number, idn);
        assert.equal(c.credit_code, cc);
      }
    });

    it('wrong 身份证号 check character → 422 invalid_checksum', async () => {
      const res = await admin.post('/customers', { name: '证件错', id_number: breakCheck(idDigit, ID_ALPHABET) });
      expectProblem(res, 422, { field: 'id_number', codes: ['invalid_checksum'] });
    });

    it('wrong 统一社会信用代码 check character → 422 invalid_checksum', async () => {
      const res = await admin.post('/customers', { name: '证件错', credit_code: breakCheck(code, CREDIT_ALPHABET) });
      expectProblem(res, 422, { field: 'credit_code', codes: ['invalid_checksum'] });
    });

    for (const bad of ['1101051949123100', 'ABCDEFGHIJKLMNOPQR', '110105194913310028']) {
      it(`malformed id_number ${bad} → 422 (invalid_format|invalid_checksum)`, async () => {
        const res = await admin.post('/customers', { name: '证件错', id_number: bad });
        expectProblem(res, 422, { field: 'id_number', codes: ['invalid_format', 'invalid_checksum'] });
      });
    }
  });

  describe('versions: ETag and If-Match', () => {
    let c;
    before(async () => {
      c = await createCustomer(admin, { name: '版本', title: '职员', phones: [{ number: '13800138000' }] }, '', { confirmDuplicate: true });
    });

    it('GET answers ETag "1"', async () => {
      const res = await admin.get(`/customers/${c.id}`);
      expectStatus(res, 200);
      assert.equal(res.headers.get('etag'), '"1"');
    });

    it('PATCH with If-Match "1" changes only the given keys and bumps the version', async () => {
      const res = await admin.patch(`/customers/${c.id}`, { title: '经理' }, { headers: { 'if-match': '"1"' } });
      const u = expectStatus(res, 200);
      assert.equal(u.title, '经理');
      assert.equal(u.name, '版本');
      assert.equal(u.version, 2);
      assert.equal(u.phones[0].e164, '+86138****8000');
      assert.equal((await revealCustomer(admin, c.id)).phones[0].e164, '+8613800138000');
      assert.ok(u.updated_at >= c.updated_at);
      const etag = res.headers.get('etag');
      if (etag !== null) assert.equal(etag, '"2"');
      assert.equal((await admin.get(`/customers/${c.id}`)).headers.get('etag'), '"2"');
    });

    it('a stale If-Match → 412 and the stored record is unchanged', async () => {
      const res = await admin.patch(`/customers/${c.id}`, { title: '总监' }, { headers: { 'if-match': '"1"' } });
      expectProblem(res, 412);
      const now = expectStatus(await admin.get(`/customers/${c.id}`), 200);
      assert.equal(now.title, '经理');
      assert.equal(now.version, 2);
    });

    it('no If-Match → 428 and nothing changes', async () => {
      expectProblem(await admin.patch(`/customers/${c.id}`, { title: '总监' }), 428);
      const now = expectStatus(await admin.get(`/customers/${c.id}`), 200);
      assert.equal(now.title, '经理');
      assert.equal(now.version, 2);
    });

    it('If-Match without quotes works too', async () => {
      const u = expectStatus(await admin.patch(`/customers/${c.id}`, { stage: 'won' }, { headers: { 'if-match': '2' } }), 200);
      assert.equal(u.stage, 'won');
      assert.equal(u.version, 3);
    });

    it('null clears an optional field; phones/emails are replaced as a whole', async () => {
      const u = expectStatus(await admin.patch(`/customers/${c.id}`, {
        title: null, phones: [{ number: '010-6552 9988' }], emails: [{ address: 'new@example.com' }],
      }, { headers: { 'if-match': '"3"' } }), 200);
      assert.equal(u.title, null);
      assert.equal(u.version, 4);
      const clear = await revealCustomer(admin, c.id);
      assert.deepEqual(clear.phones.map((p) => p.e164), ['+861065529988']);
      assert.equal(clear.phones[0].primary, true);
      assert.deepEqual(clear.emails.map((e) => e.address), ['new@example.com']);
    });

    it('an invalid PATCH → 422 and changes nothing (not even the version)', async () => {
      const res = await admin.patch(`/customers/${c.id}`, { name: '改名', phones: [{ number: 'abc' }] }, { headers: { 'if-match': '"4"' } });
      expectProblem(res, 422, { field: 'phones[0].number' });
      const now = expectStatus(await admin.get(`/customers/${c.id}`), 200);
      assert.equal(now.name, '版本');
      assert.equal(now.version, 4);
    });

    it('name cannot be cleared', async () => {
      expectProblem(await admin.patch(`/customers/${c.id}`, { name: null }, { headers: { 'if-match': '"4"' } }), 422, { field: 'name' });
    });

    it('unknown or non-numeric ids → 404', async () => {
      expectProblem(await admin.get('/customers/999999'), 404);
      expectProblem(await admin.patch('/customers/999999', { name: 'x' }, { headers: { 'if-match': '"1"' } }), 404);
      expectProblem(await admin.del('/customers/999999'), 404);
      expectProblem(await admin.get('/customers/abc'), [400, 404]);
    });
  });

  describe('code uniqueness', () => {
    it('a taken code → 409 on create and on patch', async () => {
      const a = await createCustomer(admin, { name: '编码甲', code: 'KH-U1' });
      expectProblem(await admin.post('/customers', { name: '编码乙', code: 'KH-U1' }), 409);
      const b = await createCustomer(admin, { name: '编码丙', code: 'KH-U2' });
      expectProblem(await admin.patch(`/customers/${b.id}`, { code: 'KH-U1' }, { headers: { 'if-match': '"1"' } }), 409);
      const still = expectStatus(await admin.get(`/customers/${b.id}`), 200);
      assert.equal(still.code, 'KH-U2');
      assert.equal(still.version, 1);
      assert.equal(expectStatus(await admin.get(`/customers/${a.id}`), 200).code, 'KH-U1');
    });
  });

  describe('soft delete and restore', () => {
    let c;
    before(async () => {
      c = await createCustomer(admin, { name: '回收站', code: 'KH-BIN' });
    });

    it('DELETE → 204; then GET/PATCH → 404; gone from the list', async () => {
      expectStatus(await admin.del(`/customers/${c.id}`), 204);
      expectProblem(await admin.get(`/customers/${c.id}`), 404);
      expectProblem(await admin.patch(`/customers/${c.id}`, { name: 'x' }, { headers: { 'if-match': '"1"' } }), 404);
      const live = await admin.listAll('/customers');
      assert.ok(!live.some((x) => x.id === c.id));
    });

    it('deleted=true lists it with deleted_at set', async () => {
      const bin = await admin.listAll('/customers', { deleted: 'true' });
      const x = bin.find((y) => y.id === c.id);
      assert.ok(x, 'in the recycle bin');
      assert.notEqual(x.deleted_at, null);
      assert.ok(bin.every((y) => y.deleted_at !== null), 'only deleted customers in the bin');
    });

    it('restore → 200 with deleted_at null; GET works again', async () => {
      const r = expectStatus(await admin.post(`/customers/${c.id}/restore`), 200);
      assert.equal(r.id, c.id);
      assert.equal(r.deleted_at, null);
      assert.equal(r.code, 'KH-BIN');
      expectStatus(await admin.get(`/customers/${c.id}`), 200);
      const bin = await admin.listAll('/customers', { deleted: 'true' });
      assert.ok(!bin.some((y) => y.id === c.id));
    });

    it('restore of an unknown id → 404', async () => {
      expectProblem(await admin.post('/customers/999999/restore'), 404);
    });
  });

  it('server exits 0 on SIGTERM', async () => {
    await server.stopCleanly();
  });
});
