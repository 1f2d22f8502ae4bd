// The stuck reason only Temporal knows: a case's workflow task failing. A signal sealed under a
// key with the right id but the wrong bytes (as a bad deploy or a tampered payload would arrive)
// makes every workflow task of the case fail; the case records nothing, turns idle, and the stuck
// list asks Temporal and says the workflow task is failing.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectTemporalClient } from '../../clients/temporal.js';
import { getJson, submitCase } from '../../harness/cases.js';
import { caseWorkflowId, provinceEventSignal } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

beforeAll(async () => {
  stack = await startTestStack();
  clerk = await stack.token('clerk', '440100');
});

afterAll(async () => {
  await stack?.stop();
});

describe('a failing workflow task', () => {
  it('When a case’s workflow task keeps failing, then the stuck list reports it from Temporal', async () => {
    stack.simulator.addRule({ match: { applicantName: '坏载荷' }, scenario: 'lost-callback' });
    const sub = await submitCase(stack.apiUrl, clerk, { applicantName: '坏载荷' });
    const caseId = sub.body.caseId;
    const handle = stack.client.workflow.getHandle(caseWorkflowId(caseId));
    await eventually(() => handle.describe(), (d) => d.status.name === 'RUNNING', 10_000, 'running');
    await eventually(() => getJson<{ stage: string }>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body), (v) => v.stage === 'review', 30_000, 'review');

    const keyId = stack.secrets.payloadKeys.activeKeyId;
    const forged = await connectTemporalClient({ address: inject('temporalAddress'), namespace: 'default', keyring: { activeKeyId: keyId, keys: new Map([[keyId, randomBytes(32)]]) } });
    await forged.workflow.getHandle(caseWorkflowId(caseId)).signal(provinceEventSignal, { eventId: 'sealed-wrongly', type: 'case.approved', at: new Date().toISOString(), data: {}, via: 'callback' });
    await eventually(() => handle.describe(), (d) => (d.raw.pendingWorkflowTask?.attempt ?? 0) >= 2, 30_000, 'a retried workflow task');

    // Nothing is recorded while the task fails: after the idle threshold the list asks Temporal.
    await stack.pool.query(`UPDATE cases SET updated_at = now() - interval '10 days' WHERE case_id = $1`, [caseId]);
    const stuck = await getJson<{ items: { caseId: string; stuck: { reason: string; detail: string }[] }[] }>(`${stack.apiUrl}/v1/cases?stuck=true`, clerk);
    const mine = stuck.body.items.find((i) => i.caseId === caseId);
    expect(mine?.stuck.map((r) => r.reason)).toEqual(expect.arrayContaining(['idle', 'workflow_failing']));
    expect(mine?.stuck.find((r) => r.reason === 'workflow_failing')?.detail).toMatch(/retrying the case's workflow task \(attempt \d+\)/);
    await handle.terminate('test over');
    await forged.connection.close();
  });
});
