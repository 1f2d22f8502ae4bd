// Work liaison (工作联络) over HTTP against the real stack: the window writes to the handling authority
// with an attachment (stored, forwarded to the authority's system by its own workflow, the bytes
// hash-checked there, a retry with the same key sends nothing twice), the authority answers by
// signed callback (which acknowledges the window's message), the window acknowledges the answer,
// the authority's tongban staff write back too, and every wrong sender, field and callback is
// refused with a reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { caseWorkflowId, getStateQuery, liaisonWorkflowId } from '../../workflows/messages.js';
import { signRequest } from '../../crypto/signing.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import type { MessageView } from '../../api/liaison.js';

let stack: TestStack;
let clerk: string;
let approver: string;

/** A message as GET /v1/cases/{id}/messages answers it. */
type Message = MessageView;

async function post(caseId: string, token: string, body: unknown, key?: string) {
  const res = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Message & { errors?: { path: string; message: string }[]; detail?: string } };
}
const thread = async (caseId: string, token = clerk) => (await getJson<{ messages: Message[] }>(`${stack.apiUrl}/v1/cases/${caseId}/messages`, token)).body.messages;
const ack = (caseId: string, messageId: string, token: string) =>
  fetch(`${stack.apiUrl}/v1/cases/${caseId}/messages/${messageId}/ack`, { method: 'POST', headers: { authorization: `Bearer ${token}` } }).then(async (r) => ({ status: r.status, body: (await r.json()) as Message }));

/** A case in review at Sichuan that stays there (no callback, no poll for a minute). */
async function caseInReview(name: string): Promise<string> {
  stack.simulator.addRule({ match: { applicantName: name }, scenario: 'lost-callback' });
  const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: name });
  await eventually(() => stack.client.workflow.getHandle(caseWorkflowId(body.caseId)).query(getStateQuery), (s) => s.stage === 'review', 30_000, 'review');
  return body.caseId;
}

describe('work liaison between the two offices', () => {
  beforeAll(async () => {
    stack = await startTestStack({ env: { STATUS_POLL_AFTER_MS: '60000' } });
    clerk = await stack.token('clerk', '440100');
    approver = await stack.token('approver', '510000');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When the window writes with an attachment and the authority answers by callback, then both sides see the thread, the message reached the authority once with its bytes, and each side acknowledges', async () => {
    const caseId = await caseInReview('联络往来');
    const file = await uploadFile(stack.apiUrl, clerk, samplePdf('补充说明材料'));
    const key = `liaison-${randomUUID()}`;
    const sent = await post(caseId, clerk, { to: 'handling', body: '申请人另附补充说明一份，请审查时一并参考。', fileIds: [file.body.fileId] }, key);
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ from: 'receiving', to: 'handling', author: 'test-clerk-440100', acknowledgedAt: null, overdue: false });
    // A retry with the same key is the same message, and nothing is sent twice.
    const again = await post(caseId, clerk, { to: 'handling', body: '申请人另附补充说明一份，请审查时一并参考。', fileIds: [file.body.fileId] }, key);
    expect(again.status).toBe(200);
    expect(again.body.messageId).toBe(sent.body.messageId);

    // Forwarded by its workflow: the authority's system has the message and the attachment's bytes.
    await stack.client.workflow.getHandle(liaisonWorkflowId(sent.body.messageId)).result();
    const forwarded = (await thread(caseId)).find((m) => m.messageId === sent.body.messageId)!;
    expect(forwarded.forwardedAt).not.toBeNull();
    expect(forwarded.files).toEqual([expect.objectContaining({ position: 0, sha256: file.body.sha256, forwardedAt: expect.any(String) })]);
    const received = stack.simulator.liaisonReceived('510000', caseId);
    expect(received).toEqual([expect.objectContaining({ messageId: sent.body.messageId, body: sent.body.body, files: [expect.objectContaining({ sha256: file.body.sha256, receivedAt: expect.any(String) })] })]);
    const posts = stack.simulator.requests('510000').filter((r) => r.method === 'POST' && r.path.endsWith('/messages'));
    expect(new Set(posts.map((r) => r.idempotencyKey))).toEqual(new Set([`${sent.body.messageId}:message`]));

    // The authority answers from its own system; the answer acknowledges the window's message.
    const answer = stack.simulator.writeLiaison('510000', caseId, { body: '已收到，将在审查中一并考虑。', inReplyTo: sent.body.messageId, author: '审查科王科长' });
    const both = await eventually(() => thread(caseId), (ms) => ms.length === 2, 30_000, 'the authority’s answer');
    const fromProvince = both.find((m) => m.from === 'handling')!;
    expect(fromProvince).toMatchObject({ messageId: answer.data.messageId, to: 'receiving', author: 'province:510000', inReplyTo: sent.body.messageId, acknowledgedAt: null });
    expect(both.find((m) => m.messageId === sent.body.messageId)).toMatchObject({ acknowledgedBy: 'province:510000', overdue: false });
    // A repeated callback adds nothing.
    await new Promise((r) => setTimeout(r, 300));
    expect(await thread(caseId)).toHaveLength(2);

    // The handling side cannot acknowledge what was written to the window; the window can, once.
    expect((await ack(caseId, fromProvince.messageId, approver)).status).toBe(403);
    const acked = await ack(caseId, fromProvince.messageId, clerk);
    expect(acked.status).toBe(200);
    expect(acked.body).toMatchObject({ acknowledgedBy: 'test-clerk-440100', waitingOfficeHours: null });
    const ackedAgain = await ack(caseId, fromProvince.messageId, await stack.token('supervisor', '440100'));
    expect(ackedAgain.body.acknowledgedBy).toBe('test-clerk-440100');
    // The attachment's hand-off is on the case's ledger: from the window to the authority, received when its system confirmed the bytes.
    const ledger = await getJson<{ entries: { kind: string; from: string; to: string; what: { sha256: string }[]; acknowledgedAt: string | null }[]; chain: { ok: boolean } }>(`${stack.apiUrl}/v1/cases/${caseId}/handoffs`, clerk);
    expect(ledger.body.chain.ok).toBe(true);
    expect(ledger.body.entries.filter((e) => e.kind === 'liaison_attachment')).toEqual([
      expect.objectContaining({ from: 'receiving', to: 'handling', what: [expect.objectContaining({ sha256: file.body.sha256 })], acknowledgedAt: forwarded.files[0]!.forwardedAt }),
    ]);
    const audits = await stack.pool.query(`SELECT action FROM audit_log WHERE case_id = $1 AND action LIKE 'case.%essage' ORDER BY id`, [caseId]);
    expect(audits.rows.map((r) => r.action)).toEqual(['case.message', 'case.acknowledgeMessage']);
  });

  it('When the authority’s tongban staff write to the window, then nothing is forwarded, and the authority’s system can acknowledge the window’s messages by callback', async () => {
    const caseId = await caseInReview('联络回执');
    const toWindow = await post(caseId, approver, { to: 'receiving', body: '请告知申请人原件需邮寄至审查科。' });
    expect(toWindow.status).toBe(201);
    expect(toWindow.body).toMatchObject({ from: 'handling', to: 'receiving', forwardedAt: null });
    const toAuthority = await post(caseId, clerk, { to: 'handling', body: '原件已于今日寄出。', inReplyTo: toWindow.body.messageId });
    expect(toAuthority.status).toBe(201);
    // The reply acknowledged the approver's message.
    expect((await thread(caseId)).find((m) => m.messageId === toWindow.body.messageId)).toMatchObject({ acknowledgedBy: 'test-clerk-440100' });
    await stack.client.workflow.getHandle(liaisonWorkflowId(toAuthority.body.messageId)).result();
    stack.simulator.acknowledgeLiaison('510000', caseId, toAuthority.body.messageId, '审查科');
    const acked = await eventually(() => thread(caseId), (ms) => ms.find((m) => m.messageId === toAuthority.body.messageId)?.acknowledgedAt !== null, 30_000, 'the authority’s acknowledgement');
    expect(acked.find((m) => m.messageId === toAuthority.body.messageId)!.acknowledgedBy).toBe('province:510000 (审查科)');
  });

  it('When a message is written wrong, from the wrong side or by a stranger, then it is refused with the reason and nothing is stored', async () => {
    const caseId = await caseInReview('联络校验');
    const bad = await post(caseId, clerk, { to: 'elsewhere', body: '', fileIds: ['not-a-uuid'] });
    expect(bad.status).toBe(400);
    expect(bad.body.errors!.map((e) => e.path).sort()).toEqual(['body', 'fileIds.0', 'to']);
    const unknownFile = await post(caseId, clerk, { to: 'handling', body: '附件', fileIds: [randomUUID()], inReplyTo: randomUUID() });
    expect(unknownFile.status).toBe(400);
    expect(unknownFile.body.errors!.map((e) => e.path).sort()).toEqual(['fileIds.0', 'inReplyTo']);
    // The window writes to the authority, not to itself.
    const wrongSide = await post(caseId, clerk, { to: 'receiving', body: '给自己' });
    expect(wrongSide.status).toBe(403);
    expect(wrongSide.body.detail).toMatch(/only the handling side/);
    const stranger = await post(caseId, await stack.token('clerk', '330100'), { to: 'handling', body: '无关' });
    expect(stranger.status).toBe(404);
    expect(await thread(caseId)).toEqual([]);
  });

  it('When a liaison callback is unsigned, answers a message that does not exist or concerns another province’s case, then it is refused', async () => {
    const caseId = await caseInReview('联络回调');
    const url = `/v1/province-callbacks/510000/liaison`;
    const body = JSON.stringify({ eventId: `ev-${randomUUID()}`, caseId, type: 'liaison.message', at: new Date().toISOString(), data: { messageId: randomUUID(), body: '你好', inReplyTo: randomUUID() } });
    const unsigned = await fetch(`${stack.apiUrl}${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(unsigned.status).toBe(401);
    const signed = (path: string, b: string) => fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...signRequest(stack.secrets.provinces.find((p) => p.code === path.split('/')[3])!.secret, 'POST', path, b) }, body: b });
    const dangling = await signed(url, body);
    expect(dangling.status).toBe(400);
    expect(((await dangling.json()) as { errors: { path: string }[] }).errors.map((e) => e.path)).toEqual(['data.inReplyTo']);
    const otherProvince = await signed('/v1/province-callbacks/330000/liaison', body.replace(/"inReplyTo":"[^"]+",?/, '').replace(',}', '}'));
    expect(otherProvince.status).toBe(404);
    expect(await thread(caseId)).toEqual([]);
  });
});
