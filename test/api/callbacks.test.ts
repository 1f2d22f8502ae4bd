// POST /v1/province-callbacks/:regionCode: signed by the province, validated by event type
// (contracts/province.ts), deduplicated per (province, case, event id), and signalled to the
// case's workflow (which waits on the dev server; no worker runs here).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId } from '../../workflows/messages.js';
import { createApiHarness, pensionSubmission, PROBLEM_JSON, signedCallback, submit, type ApiHarness } from './helpers.js';

let h: ApiHarness;
let caseId: string;
beforeAll(async () => {
  h = await createApiHarness();
  const clerk = await h.auth('clerk', '440100');
  const res = await submit(h, clerk, await pensionSubmission(h, clerk));
  caseId = res.json<{ caseId: string }>().caseId;
});
afterAll(async () => {
  await h?.close();
});

function event(overrides: Record<string, unknown> = {}) {
  return JSON.stringify({ eventId: `510000-evt-${randomUUID()}`, caseId, type: 'case.accepted', at: new Date().toISOString(), data: { provinceCaseId: '510000-000001' }, ...overrides });
}

async function signalCount(id = caseId): Promise<number> {
  const history = await h.temporal.workflow.getHandle(caseWorkflowId(id)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
}

async function callbackRows(eventId: string): Promise<{ case_id: string; delivered: boolean }[]> {
  const { rows } = await h.pool.query<{ case_id: string; delivered: boolean }>(
    `SELECT case_id, delivered_at IS NOT NULL AS delivered FROM province_callbacks WHERE region_code = '510000' AND event_id = $1 ORDER BY case_id`,
    [eventId],
  );
  return rows;
}

/** Sends a properly signed but invalid event: the 400 must come from validation, and the case must not hear of it. */
async function expectRefused(body: string, paths: string[]) {
  const before = await signalCount();
  const res = await h.app.inject(signedCallback('510000', body));
  expect(res.statusCode).toBe(400);
  expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort()).toEqual([...paths].sort());
  expect(await signalCount()).toBe(before);
  const { status } = await h.temporal.workflow.getHandle(caseWorkflowId(caseId)).describe();
  expect(status.name).toBe('RUNNING');
  return res;
}

describe('province callbacks', () => {
  it('When a valid signed event arrives, then it answers 202 and the workflow receives one signal', async () => {
    const before = await signalCount();
    const res = await h.app.inject(signedCallback('510000', event()));
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ accepted: true });
    expect(await signalCount()).toBe(before + 1);
  });

  it('When the same eventId arrives again, then it answers 200 duplicate and signals nothing', async () => {
    const body = event({ type: 'case.approved' });
    expect((await h.app.inject(signedCallback('510000', body))).statusCode).toBe(202);
    const before = await signalCount();
    const again = await h.app.inject(signedCallback('510000', body));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ accepted: true, duplicate: true });
    expect(await signalCount()).toBe(before);
  });

  it('When the signature is made with the wrong secret, then it answers 401', async () => {
    const res = await h.app.inject(signedCallback('510000', event(), { secret: 'not-the-province-secret-123' }));
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<{ detail: string }>().detail).toContain('does not match');
  });

  it('When the body was changed after signing, then it answers 401', async () => {
    const signed = signedCallback('510000', event());
    const res = await h.app.inject({ ...signed, payload: signed.payload.replace('case.accepted', 'case.rejected') });
    expect(res.statusCode).toBe(401);
  });

  it('When the timestamp is stale, then it answers 401 stale', async () => {
    const res = await h.app.inject(signedCallback('510000', event(), { now: Date.now() - 10 * 60_000 }));
    expect(res.statusCode).toBe(401);
    expect(res.json<{ type: string }>().type).toContain('signature-stale');
  });

  it('When the request is unsigned, then it answers 401 even if the body is invalid', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/province-callbacks/510000', payload: { nonsense: true } });
    expect(res.statusCode).toBe(401);
  });

  it('When the region has no configured gateway, then it answers 404', async () => {
    const res = await h.app.inject({ ...signedCallback('510000', event()), url: '/v1/province-callbacks/650000' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a province reports on a case another province handles, then it answers 404 and records nothing', async () => {
    const before = await signalCount();
    const eventId = `440000-evt-${randomUUID()}`;
    const res = await h.app.inject(signedCallback('440000', event({ eventId })));
    expect(res.statusCode).toBe(404);
    const { rows } = await h.pool.query('SELECT 1 FROM province_callbacks WHERE event_id = $1', [eventId]);
    expect(rows).toEqual([]);
    expect(await signalCount()).toBe(before);
  });

  it('When the case does not exist, then it answers 404 and records nothing', async () => {
    const eventId = `510000-evt-${randomUUID()}`;
    const res = await h.app.inject(signedCallback('510000', event({ eventId, caseId: randomUUID() })));
    expect(res.statusCode).toBe(404);
    expect(await callbackRows(eventId)).toEqual([]);
  });

  it('When a signed body is malformed JSON, then it answers 400', async () => {
    const res = await h.app.inject(signedCallback('510000', '{"eventId": '));
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a signed event has invalid fields, then one 400 lists them', async () => {
    const res = await h.app.inject(signedCallback('510000', event({ type: 'case.teleported', at: 'yesterday', caseId: 'x' })));
    expect(res.statusCode).toBe(400);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort()).toEqual(['at', 'caseId', 'type']);
  });

  it('When a string of the event carries a NUL, then 400 naming each such field, and the case hears nothing', async () => {
    const eventId = `510000-evt-${randomUUID()}`;
    await expectRefused(event({ eventId, type: 'delivery.mailed', data: { trackingNumber: 'SF\u0000123' } }), ['data.trackingNumber']);
    await expectRefused(event({ eventId: 'evt\u00001' }), ['eventId']);
    expect(await callbackRows(eventId)).toEqual([]);
  });

  it('When a field is oversized, then 400 naming it', async () => {
    await expectRefused(event({ type: 'case.rejected', data: { reasons: ['材料不全', '驳'.repeat(5000)] } }), ['data.reasons.1']);
    await expectRefused(event({ eventId: `510000-evt-${'x'.repeat(200)}` }), ['eventId']);
  });

  it('When an approval carries a certificate without an issuer, then 400 naming data.certificate.issuer', async () => {
    const certificate = { certificateId: 'c-1', sha256: 'a'.repeat(64), issuedAt: new Date().toISOString() };
    await expectRefused(event({ type: 'case.approved', data: { certificate } }), ['data.certificate.issuer']);
  });

  it('When the type is unknown and a data field is bad too, then one 400 names both', async () => {
    await expectRefused(event({ type: 'case.teleported' }), ['type']);
    await expectRefused(event({ eventId: 'bad id', type: 'case.rejected', data: { reasons: [] } }), ['eventId', 'data.reasons']);
  });

  it('When a good event follows refused ones, then it is accepted and signalled', async () => {
    await expectRefused(event({ type: 'case.approved', data: { certificate: { certificateId: 'c-2' } } }), [
      'data.certificate.issuer',
      'data.certificate.sha256',
      'data.certificate.issuedAt',
    ]);
    const before = await signalCount();
    const res = await h.app.inject(signedCallback('510000', event({ type: 'case.approved', data: { certificate: { certificateId: 'c-2', issuer: '四川省政务服务中心', sha256: 'b'.repeat(64), issuedAt: new Date().toISOString() } } })));
    expect(res.statusCode).toBe(202);
    expect(await signalCount()).toBe(before + 1);
  });

  it('When the province sends a correction notice or reports an art. 45 procedure, then each is accepted and signalled', async () => {
    const bodies = [
      event({ type: 'review.correction_required', data: { noticeId: '510000-000001-bz1', deficiencies: [{ materialCode: 'resident-id-card', problem: '扫描件不清晰', needed: '清晰的彩色扫描件' }] } }),
      event({ type: 'review.procedure_started', data: { procedureId: '510000-000001-proc1', kind: 'expert_review', reason: '需组织专家评审', expectedEnd: '2026-12-10', noticeRef: '告知书1号' } }),
      event({ type: 'review.procedure_ended', data: { procedureId: '510000-000001-proc1', result: '符合条件' } }),
    ];
    for (const body of bodies) {
      const before = await signalCount();
      const res = await h.app.inject(signedCallback('510000', body));
      expect(res.statusCode).toBe(202);
      expect(res.json()).toEqual({ accepted: true });
      expect(await signalCount()).toBe(before + 1);
    }
  });

  it('When a correction notice lists no deficiency, then 400 naming data.deficiencies', async () => {
    await expectRefused(event({ type: 'review.correction_required', data: { noticeId: '510000-000001-bz1', deficiencies: [] } }), ['data.deficiencies']);
  });

  it('When a procedure is of an unknown kind, then 400 naming data.kind', async () => {
    await expectRefused(event({ type: 'review.procedure_started', data: { procedureId: 'proc-1', kind: 'meditation', reason: '冥想' } }), ['data.kind']);
  });

  it('When two cases get the same eventId, then both are accepted; a repeat for one case is a duplicate', async () => {
    const clerk = await h.auth('clerk', '440100');
    const other = (await submit(h, clerk, await pensionSubmission(h, clerk))).json<{ caseId: string }>().caseId;
    const eventId = `510000-evt-shared-${randomUUID()}`;
    const first = await h.app.inject(signedCallback('510000', event({ eventId })));
    const second = await h.app.inject(signedCallback('510000', event({ eventId, caseId: other })));
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    expect(await signalCount(other)).toBe(1);

    const before = await signalCount(other);
    const repeat = await h.app.inject(signedCallback('510000', event({ eventId, caseId: other })));
    expect(repeat.statusCode).toBe(200);
    expect(repeat.json()).toEqual({ accepted: true, duplicate: true });
    expect(await signalCount(other)).toBe(before);
    expect((await callbackRows(eventId)).map((r) => r.case_id).sort()).toEqual([caseId, other].sort());
  });

  it('When the signal cannot be delivered, then it answers 503, records nothing, and the province’s retry is accepted', async () => {
    const broken = await createApiHarness({ pool: h.pool });
    await broken.temporal.connection.close();
    const body = event({ type: 'delivery.mailed', data: { trackingNumber: 'SF123' } });
    try {
      const res = await broken.app.inject(signedCallback('510000', body));
      expect(res.statusCode).toBe(503);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    } finally {
      await broken.app.close();
    }
    const { eventId } = JSON.parse(body) as { eventId: string };
    expect(await callbackRows(eventId)).toEqual([]);
    const retry = await h.app.inject(signedCallback('510000', body));
    expect(retry.statusCode).toBe(202);
    expect(await callbackRows(eventId)).toEqual([{ case_id: caseId, delivered: true }]);
  });

  it('When an event arrives for a case whose workflow has ended, then it is acknowledged so the province stops retrying', async () => {
    const clerk = await h.auth('clerk', '440100');
    const ended = (await submit(h, clerk, await pensionSubmission(h, clerk))).json<{ caseId: string }>().caseId;
    await h.temporal.workflow.getHandle(caseWorkflowId(ended)).terminate('test: the case has ended');
    const body = event({ caseId: ended, type: 'delivery.received', data: { trackingNumber: 'SF1', signedBy: '本人' } });
    const res = await h.app.inject(signedCallback('510000', body));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: true, caseClosed: true });
    const again = await h.app.inject(signedCallback('510000', body));
    expect(again.json()).toEqual({ accepted: true, duplicate: true });
  });

  it('When callbacks were processed, then the metrics count them by outcome', async () => {
    // /metrics needs a supervisor's or manager's token unless served on its own port.
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics', headers: await h.auth('manager', '440000') });
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="case.accepted",outcome="accepted"\} [1-9]/);
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="case.approved",outcome="duplicate"\} 1/);
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="unknown",outcome="unauthorized"\} [1-9]/);
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="delivery.received",outcome="case_closed"\} 1/);
  });
});
