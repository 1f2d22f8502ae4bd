// POST /v1/province-callbacks/:regionCode: signed by the province, deduplicated by event id, and
// signalled to the case's workflow (which waits on the dev server; no worker runs here).
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

async function signalCount(): Promise<number> {
  const history = await h.temporal.workflow.getHandle(caseWorkflowId(caseId)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes).length;
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

  it('When a province reports on a case another province handles, then it answers 404', async () => {
    const res = await h.app.inject(signedCallback('440000', event({ eventId: '440000-evt-1' })));
    expect(res.statusCode).toBe(404);
  });

  it('When the case does not exist, then it answers 404', async () => {
    const res = await h.app.inject(signedCallback('510000', event({ caseId: randomUUID() })));
    expect(res.statusCode).toBe(404);
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
    const retry = await h.app.inject(signedCallback('510000', body));
    expect(retry.statusCode).toBe(202);
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
    const metrics = await h.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="case.accepted",outcome="accepted"\} [1-9]/);
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="case.approved",outcome="duplicate"\} 1/);
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="unknown",outcome="unauthorized"\} [1-9]/);
    expect(metrics.body).toMatch(/tongban_province_callbacks_total\{region="510000",type="delivery.received",outcome="case_closed"\} 1/);
  });
});
