// Paper originals sent by post, against the real stack: the window records the parcel with its
// tracking number, the authority its arrival; both are entries of the case's hash-chained hand-off
// ledger, the post's days attributable, a repeat recording nothing twice, and the wrong side or an
// unknown material refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { getJson, postJson, submitCase } from '../../harness/cases.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;

describe('paper originals by post', () => {
  beforeAll(async () => {
    stack = await startTestStack({ env: { STATUS_POLL_AFTER_MS: '60000' } });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the window posts the originals and the authority receives them, then the ledger holds both, chained, and a repeat adds nothing', async () => {
    const clerk = await stack.token('clerk', '440100');
    const approver = await stack.token('approver', '510000');
    stack.simulator.addRule({ match: { applicantName: '原件寄递' }, scenario: 'lost-callback' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '原件寄递' });
    const { caseId } = body;
    await eventually(() => stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery), (s) => s.stage === 'review', 30_000, 'review');

    const parcel = { trackingNumber: 'SF1234567890', carrier: '顺丰速运', materialCodes: ['transfer-application', 'contribution-certificate'] };
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/originals`, approver, parcel)).status).toBe(403);
    const unknown = await postJson<{ errors: { path: string }[] }>(`${stack.apiUrl}/v1/cases/${caseId}/originals`, clerk, { ...parcel, materialCodes: ['transfer-application', 'no-such-material'] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors.map((e) => e.path)).toEqual(['materialCodes.1']);
    const sent = await postJson<{ seq: number; kind: string }>(`${stack.apiUrl}/v1/cases/${caseId}/originals`, clerk, parcel);
    expect(sent.status).toBe(201);
    expect(sent.body.kind).toBe('original_by_post');
    const again = await postJson<{ seq: number }>(`${stack.apiUrl}/v1/cases/${caseId}/originals`, clerk, parcel);
    expect(again.body.seq).toBe(sent.body.seq);

    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/originals/SF0000000000/received`, approver, {})).status).toBe(404);
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/originals/SF1234567890/received`, clerk, {})).status).toBe(403);
    const received = await postJson<{ kind: string }>(`${stack.apiUrl}/v1/cases/${caseId}/originals/SF1234567890/received`, approver, {});
    expect(received.status).toBe(201);
    expect(received.body.kind).toBe('ack');

    const ledger = await getJson<{ entries: { seq: number; kind: string; from: string; to: string; what: { materialCode?: string; trackingNumber: string }[]; acknowledgedAt: string | null; acknowledges: number | null }[]; chain: { ok: boolean } }>(
      `${stack.apiUrl}/v1/cases/${caseId}/handoffs`,
      clerk,
    );
    expect(ledger.body.chain.ok).toBe(true);
    const original = ledger.body.entries.find((e) => e.kind === 'original_by_post')!;
    expect(original).toMatchObject({ from: 'receiving', to: 'handling', acknowledgedAt: expect.any(String) });
    expect(original.what.map((w) => w.materialCode)).toEqual(['transfer-application', 'contribution-certificate']);
    expect(ledger.body.entries.filter((e) => e.kind === 'ack' && e.acknowledges === original.seq)).toHaveLength(1);
    const audits = await stack.pool.query(`SELECT action FROM audit_log WHERE case_id = $1 AND action LIKE 'case.%Originals' ORDER BY id`, [caseId]);
    expect(audits.rows.map((r) => r.action)).toEqual(['case.sendOriginals', 'case.receiveOriginals']);
  });
});
