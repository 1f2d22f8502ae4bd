// POST /v1/cases and GET /v1/cases/:caseId. Workflows start on the real dev server and wait
// there (no worker runs in api tests); afterAll terminates them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseIdFor } from '../../api/intake.js';
import { applyCaseEvent } from '../../db/projection.js';
import type { CaseState } from '../../domain/case.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import {
  createApiHarness,
  idempotencyKey,
  pensionSubmission,
  PROBLEM_JSON,
  submit,
  uploadPdf,
  validIdNumber,
  wrongCheckDigit,
  type ApiHarness,
} from './helpers.js';

interface Problem {
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

let h: ApiHarness;
let clerk: { authorization: string };
beforeAll(async () => {
  h = await createApiHarness();
  clerk = await h.auth('clerk', '440100', 'clerk-intake');
});
afterAll(async () => {
  await h?.close();
});

describe('case ids from idempotency keys', () => {
  it('When the same staff member and key are given, then the same version-5 UUID comes out; another member or key gives another', () => {
    const id = caseIdFor('clerk-a', 'key-00000001');
    expect(id).toBe(caseIdFor('clerk-a', 'key-00000001'));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(caseIdFor('clerk-b', 'key-00000001')).not.toBe(id);
    expect(caseIdFor('clerk-a', 'key-00000002')).not.toBe(id);
    // The separator keeps ("a\nb", "c") and ("a", "b\nc") apart.
    expect(caseIdFor('a', 'b-000000c')).not.toBe(caseIdFor('a\nb', '-000000c'));
  });

  it('When a case is submitted, then its id is the one its key names', async () => {
    const key = idempotencyKey();
    const res = await submit(h, clerk, await pensionSubmission(h, clerk), key);
    expect(res.statusCode).toBe(201);
    expect(res.json<{ caseId: string }>().caseId).toBe(caseIdFor('clerk-intake', key));
  });
});

describe('POST /v1/cases validation', () => {
  it('When several fields are invalid, then one 400 problem lists every one with its path', async () => {
    const valid = validIdNumber();
    const res = await submit(h, clerk, {
      itemCode: 'pension-transfer',
      applicant: { name: '', idNumber: wrongCheckDigit(valid), phone: '12345' },
      receivingRegion: '999999',
      handlingRegion: '510100',
      channel: 'fax',
      materials: [{ materialCode: 'transfer-application', fileId: 'not-a-uuid' }],
      delivery: { method: 'mail' },
      extra: true,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    const body = res.json<Problem>();
    const paths = body.errors?.map((e) => e.path).sort();
    expect(paths).toEqual(
      ['applicant.idNumber', 'applicant.name', 'applicant.phone', 'channel', 'delivery.address', 'extra', 'materials.0.fileId', 'receivingRegion'].sort(),
    );
    expect(body.errors?.find((e) => e.path === 'applicant.idNumber')?.message).toBe('has a wrong check digit (GB 11643)');
  });

  it('When the identity number is valid, then it is not among the invalid fields', async () => {
    const res = await submit(h, clerk, {
      itemCode: 'pension-transfer',
      applicant: { name: '张三', idNumber: validIdNumber(), phone: '020-12345678' },
      receivingRegion: '440100',
      handlingRegion: '510100',
      channel: 'window',
      materials: [],
      delivery: { method: 'window' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ path: 'materials', message: expect.any(String) }]);
  });

  it('When the Idempotency-Key header is missing, then it answers 400 naming the header', async () => {
    const body = await pensionSubmission(h, clerk);
    const res = await h.app.inject({ method: 'POST', url: '/v1/cases', headers: clerk, payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors).toEqual([{ path: 'headers.idempotency-key', message: 'is required' }]);
  });

  it('When the Idempotency-Key header is malformed, then it answers 400 naming the header', async () => {
    const body = await pensionSubmission(h, clerk);
    const res = await submit(h, clerk, body, 'short');
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors?.[0]?.path).toBe('headers.idempotency-key');
  });

  it('When the item is unknown, then it answers 422 on itemCode', async () => {
    const body = await pensionSubmission(h, clerk, { itemCode: 'no-such-item' });
    const res = await submit(h, clerk, body);
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<Problem>().errors).toEqual([{ path: 'itemCode', message: 'is not a known service item' }]);
  });

  it('When materials are missing, unknown or not uploaded and delivery and gateway are wrong, then one 422 lists each problem', async () => {
    const fileId = await uploadPdf(h, clerk);
    const res = await submit(h, clerk, {
      itemCode: 'medical-filing',
      applicant: { name: '张三', idNumber: validIdNumber(), phone: '13800138000' },
      receivingRegion: '440100',
      handlingRegion: '650100',
      channel: 'online',
      materials: [
        { materialCode: 'filing-form', fileId },
        { materialCode: 'pay-slip', fileId },
        { materialCode: 'residence-proof', fileId: '2b9f5d0e-1c3a-4e7b-8d6f-0a1b2c3d4e5f' },
      ],
      delivery: { method: 'mail', address: '广州市越秀区 1 号' },
    });
    expect(res.statusCode).toBe(422);
    const errors = res.json<Problem>().errors ?? [];
    expect(errors.map((e) => e.path).sort()).toEqual(['delivery.method', 'handlingRegion', 'materials', 'materials.1.materialCode', 'materials.2.fileId'].sort());
    expect(errors.find((e) => e.path === 'materials')?.message).toContain('resident-id-card');
    expect(errors.find((e) => e.path === 'handlingRegion')?.message).toBe('no gateway configured for province 650000');
  });

  it('When a file was uploaded in a region the clerk does not cover, then it counts as not uploaded', async () => {
    const elsewhere = await uploadPdf(h, await h.auth('clerk', '330100'));
    const body = await pensionSubmission(h, clerk);
    body.materials[0]!.fileId = elsewhere;
    const res = await submit(h, clerk, body);
    expect(res.statusCode).toBe(422);
    expect(res.json<Problem>().errors).toEqual([{ path: 'materials.0.fileId', message: expect.any(String) }]);
  });

  it('When the token region does not cover the receiving region, then it answers 403', async () => {
    const body = await pensionSubmission(h, clerk);
    const res = await submit(h, await h.auth('clerk', '440300'), body);
    expect(res.statusCode).toBe(403);
  });
});

describe('POST /v1/cases intake', () => {
  it('When a valid submission arrives, then it answers 201 with the case, records it and starts its workflow', async () => {
    const body = await pensionSubmission(h, clerk);
    const res = await submit(h, clerk, body);
    expect(res.statusCode).toBe(201);
    const { caseId, status, stage } = res.json<{ caseId: string; status: string; stage: string }>();
    expect({ status, stage }).toEqual({ status: 'active', stage: 'intake' });
    expect(res.headers.location).toBe(`/v1/cases/${caseId}`);

    const description = await h.temporal.workflow.getHandle(caseWorkflowId(caseId)).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.taskQueue).toBe('tongban-case');
    const audit = await h.pool.query(`SELECT actor, role, region, action FROM audit_log WHERE case_id = $1`, [caseId]);
    expect(audit.rows).toEqual([{ actor: 'clerk-intake', role: 'clerk', region: '440100', action: 'case.submit' }]);
  });

  it('When a case is accepted, then tongban_cases_submitted_total counts it by item code', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/metrics', headers: await h.auth('supervisor', '440000') });
    expect(res.body).toMatch(/tongban_cases_submitted_total\{item_code="pension-transfer"\} [1-9]/);
  });

  it('When the same key and body are sent again, then the same case is returned and no second case is made', async () => {
    const body = await pensionSubmission(h, clerk);
    const key = idempotencyKey();
    const first = await submit(h, clerk, body, key);
    // The same content with keys in another order is the same request.
    const reordered = { delivery: body.delivery, materials: body.materials, channel: body.channel, handlingRegion: body.handlingRegion, receivingRegion: body.receivingRegion, applicant: body.applicant, itemCode: body.itemCode };
    const second = await submit(h, clerk, reordered, key);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toEqual(first.json());
    expect(second.headers['idempotent-replayed']).toBe('true');
    // The receipt (回执) is part of the answer, the same on the retry and in the case view.
    const { caseId, receipt } = first.json<{ caseId: string; receipt: { queryCode: string; progressPath: string } }>();
    expect(receipt).toEqual({ queryCode: expect.stringMatching(/^[0-9A-Z]{10}$/), progressPath: `/v1/progress/${caseId}?code=${receipt.queryCode}` });
    const view = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: await h.auth('clerk', '440100', 'clerk-intake') });
    expect(view.json<{ receipt: unknown }>().receipt).toEqual(receipt);
    const count = await h.pool.query(`SELECT count(*)::int AS n FROM intake_requests WHERE idempotency_key = $1`, [key]);
    expect(count.rows[0].n).toBe(1);
  });

  it('When the same key arrives with a different body, then it answers 409', async () => {
    const body = await pensionSubmission(h, clerk);
    const key = idempotencyKey();
    expect((await submit(h, clerk, body, key)).statusCode).toBe(201);
    const res = await submit(h, clerk, { ...body, channel: 'assisted' }, key);
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When requests with the same key race, then all get the same case, with one case row, its materials once and one intake audit entry', async () => {
    const body = await pensionSubmission(h, clerk);
    const key = idempotencyKey();
    const answers = await Promise.all(Array.from({ length: 4 }, () => submit(h, clerk, body, key)));
    expect(answers.map((a) => a.statusCode)).toEqual([201, 201, 201, 201]);
    const caseId = caseIdFor('clerk-intake', key);
    expect(new Set(answers.map((a) => a.json<{ caseId: string }>().caseId))).toEqual(new Set([caseId]));
    const counts = await h.pool.query<{ cases: number; materials: number; audits: number }>(
      `SELECT (SELECT count(*)::int FROM cases WHERE case_id = $1) AS cases,
              (SELECT count(*)::int FROM case_materials WHERE case_id = $1) AS materials,
              (SELECT count(*)::int FROM audit_log WHERE case_id = $1 AND action = 'case.submit') AS audits`,
      [caseId],
    );
    expect(counts.rows).toEqual([{ cases: 1, materials: body.materials.length, audits: 1 }]);
  });

  it('When Temporal refuses to start the workflow, then it answers 503, records no case, and the retry with the same key makes the case with the id the key names', async () => {
    const broken = await createApiHarness({ pool: h.pool });
    const body = await pensionSubmission(h, clerk);
    const key = idempotencyKey();
    try {
      await broken.temporal.connection.close();
      const auth = await broken.auth('clerk', '440100', 'clerk-intake');
      const res = await submit(broken, auth, body, key);
      expect(res.statusCode).toBe(503);
      expect(res.json<Problem>().detail).toContain('retry with the same Idempotency-Key');
      const cases = await h.pool.query(`SELECT 1 FROM cases WHERE case_id = $1`, [caseIdFor('clerk-intake', key)]);
      expect(cases.rowCount).toBe(0);
      // Only the key's row stays: it is what makes the retry converge on the same case.
      const intake = await h.pool.query(`SELECT case_id FROM intake_requests WHERE idempotency_key = $1`, [key]);
      expect(intake.rows).toEqual([{ case_id: caseIdFor('clerk-intake', key) }]);
    } finally {
      await broken.app.close();
    }
    const retry = await submit(h, clerk, body, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.json<{ caseId: string }>().caseId).toBe(caseIdFor('clerk-intake', key));
    const description = await h.temporal.workflow.getHandle(caseWorkflowId(caseIdFor('clerk-intake', key))).describe();
    expect(description.status.name).toBe('RUNNING');
    const audit = await h.pool.query(`SELECT count(*)::int AS n FROM audit_log WHERE case_id = $1 AND action = 'case.submit'`, [caseIdFor('clerk-intake', key)]);
    expect(audit.rows[0].n).toBe(1);
  });

  it('When the case row was lost after the workflow started, then the retry answers 201 with the same case and writes the row once', async () => {
    const body = await pensionSubmission(h, clerk);
    const key = idempotencyKey();
    const first = await submit(h, clerk, body, key);
    const { caseId } = first.json<{ caseId: string }>();
    // As if the transaction after the start had failed: the key's row and the workflow exist, the case row does not.
    await h.pool.query(`DELETE FROM case_materials WHERE case_id = $1`, [caseId]);
    await h.pool.query(`DELETE FROM cases WHERE case_id = $1`, [caseId]);
    const retry = await submit(h, clerk, body, key);
    expect(retry.statusCode).toBe(201);
    expect(retry.json<{ caseId: string }>().caseId).toBe(caseId);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const rows = await h.pool.query(`SELECT count(*)::int AS n FROM cases WHERE case_id = $1`, [caseId]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('When the applicant’s name carries a NUL character, then it answers 400 naming applicant.name and the position', async () => {
    const body = await pensionSubmission(h, clerk);
    const res = await submit(h, clerk, { ...body, applicant: { ...body.applicant, name: '张三\u0000' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<Problem>().errors).toEqual([{ path: 'applicant.name', message: 'contains a control character (U+0000) at position 2' }]);
  });

  it('When any other string of the body carries a control character, then that field is named', async () => {
    const body = await pensionSubmission(h, clerk);
    const res = await submit(h, clerk, {
      ...body,
      itemCode: 'pension\u0007transfer',
      delivery: { method: 'mail', address: '广州市天河区\u001b体育西路 1 号' },
      materials: [{ ...body.materials[0]!, materialCode: '\u0000transfer-application' }, ...body.materials.slice(1)],
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json<Problem>().errors?.map((e) => e.path).sort();
    expect(paths).toEqual(['delivery.address', 'itemCode', 'materials.0.materialCode']);
  });
});

describe('GET /v1/cases/:caseId', () => {
  let caseId: string;
  let idNumber: string;
  beforeAll(async () => {
    const body = await pensionSubmission(h, clerk);
    idNumber = body.applicant.idNumber;
    const res = await submit(h, clerk, body);
    caseId = res.json<{ caseId: string }>().caseId;
  });

  it('When the receiving clerk reads the case, then personal data is masked and materials carry their hashes', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: clerk });
    expect(res.statusCode).toBe(200);
    const body = res.json<Record<string, unknown> & { applicant: Record<string, string>; materials: { sha256: string }[] }>();
    expect(body).toMatchObject({
      caseId,
      itemCode: 'pension-transfer',
      itemVersion: 1,
      receivingRegion: '440100',
      handlingRegion: '510100',
      stage: 'intake',
      status: 'active',
      needsIntervention: false,
      intervention: null,
      delivery: { method: 'mail', status: 'pending' },
      decision: null,
      promisedDays: 15,
      statutoryDays: 45,
      closedAt: null,
      timeline: [],
    });
    expect(body.applicant).toEqual({ name: '张*', idNumber: `${idNumber.slice(0, 3)}***********${idNumber.slice(-4)}`, phone: '138****8000' });
    expect(body.materials).toHaveLength(3);
    for (const m of body.materials) expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);

    expect(res.body).not.toContain(idNumber);
    expect(res.body).not.toContain('张三');
    expect(res.body).not.toContain('体育西路');
    for (const leak of ['sealed', 'hash', 'address', 'submittedBy', 'idNumberHash']) expect(Object.keys(body)).not.toContain(leak);
  });

  it('When the projection has recorded events, then the timeline lists them in order and the state follows', async () => {
    const state = (seq: number, stage: CaseState['stage']): CaseState => ({
      caseId, itemCode: 'pension-transfer', itemVersion: 1, stage, status: 'active', needsIntervention: null, provinceCaseId: '510000-000042',
      decision: null, delivery: { method: 'mail', status: 'pending' }, transferredMaterials: [], lastSeq: seq,
    });
    const base = Date.now() - 10_000;
    const at = (s: number) => new Date(base + s * 1000).toISOString();
    await applyCaseEvent(h.pool, { seq: 2, type: 'material.transferred', stage: 'transfer', status: 'active', at: at(2), actor: 'system', data: { materialCode: 'resident-id-card' } }, state(2, 'transfer'));
    await applyCaseEvent(h.pool, { seq: 1, type: 'precheck.passed', stage: 'precheck', status: 'active', at: at(1), actor: 'system', data: {} }, state(1, 'precheck'));

    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: clerk });
    const body = res.json<{ stage: string; provinceCaseId: string; timeline: { seq: number; type: string }[]; materials: { materialCode: string; transferredAt: string | null }[] }>();
    expect(body.stage).toBe('transfer');
    expect(body.provinceCaseId).toBe('510000-000042');
    expect(body.timeline.map((e) => [e.seq, e.type])).toEqual([[1, 'precheck.passed'], [2, 'material.transferred']]);
    expect(body.materials.find((m) => m.materialCode === 'resident-id-card')?.transferredAt).toBe(at(2));
    expect(body.materials.find((m) => m.materialCode === 'transfer-application')?.transferredAt).toBeNull();
  });

  it('When the handling province’s approver reads the case, then it is visible', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: await h.auth('approver', '510000') });
    expect(res.statusCode).toBe(200);
  });

  it('When staff of an unrelated region read the case, then it answers 404 as if it did not exist', async () => {
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: await h.auth('supervisor', '330000') });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When the case id is not a uuid, then it answers 400 on params.caseId', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/v1/cases/abc', headers: clerk });
    expect(res.statusCode).toBe(400);
    expect(res.json<Problem>().errors?.[0]?.path).toBe('params.caseId');
  });
});
