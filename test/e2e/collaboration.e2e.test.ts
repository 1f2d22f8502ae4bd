// Issue 7 end to end over HTTP: the offices working together on one case, as the window, the
// handling authority's staff and the applicant would drive tongban. A clerk in Guangzhou takes in an
// electronic-delivery case and asks at once for a video consultation before acceptance (视频会商收件)
// with Sichuan's approver and the applicant; the video service books it, the meeting is held, its
// outcome lets the case go on to the transfer. The window writes to the authority in the liaison
// thread with an attachment, which reaches the authority's system; the authority answers by
// callback and the window acknowledges the answer. Sichuan approves; the electronic result carries
// a licence that anyone verifies by identifier and by the downloaded document (one byte changed is
// not genuine). The applicant looks the case up and evaluates it with the receipt's query code, once.
// Along the way: the consultation in the timeline, the hand-off ledger's chain with the liaison
// attachment and the result, and the SMS the applicant got (decision, result, invitation).
//
// The simulator acts only where an outside party does: the province (its default scenario,
// approve), the video-meeting service (the meeting is held) and the SMS gateway. The consultation
// must reach the case before its precheck passes, so the province answers the precheck's e-licence
// check slowly (slowMs) until the request is in; after that it is back to its default.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Certificate, Consultation } from '../../domain/case.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { CASE_TASK_QUEUE } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import type { MessageView } from '../../api/liaison.js';

let stack: TestStack;
let clerk: string;
let approver: string;

interface TimelineEvent {
  seq: number;
  type: string;
  stage: string;
  actor: string;
  at: string;
  data: Record<string, unknown>;
}
interface CaseView {
  caseId: string;
  stage: string;
  status: string;
  closedAt: string | null;
  consultations: Consultation[];
  delivery: { method: string; status: string; certificate?: Certificate };
  receipt: { queryCode: string; progressPath: string };
  timeline: TimelineEvent[];
}
interface ConsultationResult {
  caseId: string;
  stage: string;
  status: string;
  consultation: Consultation;
}
/** A message as GET /v1/cases/{id}/messages answers it. */
type Message = MessageView;
interface Ledger {
  entries: { seq: number; kind: string; ref: string; from: string; to: string; what: Record<string, string | number | null>[]; acknowledgedAt: string | null }[];
  chain: { ok: boolean; length: number; problem: string | null };
}

const view = async (caseId: string) => {
  const res = await getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk);
  expect(res.status).toBe(200);
  return res.body;
};
const types = (v: CaseView) => v.timeline.map((e) => e.type);
const thread = async (caseId: string) => (await getJson<{ messages: Message[] }>(`${stack.apiUrl}/v1/cases/${caseId}/messages`, clerk)).body.messages;
/** A public route: no token. */
const publicPost = async <T>(path: string, body: unknown) => {
  const res = await fetch(`${stack.apiUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
};
/** The Temporal Schedule `tongban-send-notifications` runs hourly in tests: its workflow is run here as the schedule runs it. */
const sendNotifications = () =>
  stack.client.workflow.execute('sendNotificationsWorkflow', { workflowId: `test-sms-${randomUUID()}`, taskQueue: CASE_TASK_QUEUE, args: [] }) as Promise<{ sent: number; pending: number }>;

const APPLICANT = '协同办理';

describe('issue 7: the offices working together on one case, over HTTP', () => {
  beforeAll(async () => {
    // A review of a few seconds, so the liaison below happens while Sichuan reviews (the test
    // does not depend on it: a liaison thread stays open after the decision).
    stack = await startTestStack({ simulator: { reviewDelayMs: 2000, slowMs: 1500 } });
    clerk = await stack.token('clerk', '440100');
    approver = await stack.token('approver', '510000');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When a case is consulted on before acceptance, discussed in the liaison thread and approved, then its electronic licence verifies, the applicant sees it closed and rates it once, and the timeline, the ledger and the SMS tell the whole story', async () => {
    // 1. Intake, and at once a video consultation before acceptance.
    stack.simulator.setScenario('510000', 'slow');
    let caseId: string;
    let queryCode: string;
    let phone: string;
    let asked: { status: number; body: ConsultationResult };
    const participants = [{ side: 'receiving', staffId: 'test-clerk-440100' }, { side: 'handling', staffId: 'test-approver-510000' }, { side: 'applicant' }];
    try {
      const submitted = await submitCase(stack.apiUrl, clerk, { applicantName: APPLICANT, delivery: { method: 'electronic' } });
      expect(submitted.status).toBe(201);
      const intake = submitted.body as typeof submitted.body & { receipt: { queryCode: string; progressPath: string } };
      caseId = intake.caseId;
      queryCode = intake.receipt.queryCode;
      phone = submitted.request.applicant.phone;
      expect(intake.receipt.progressPath).toBe(`/v1/progress/${caseId}?code=${queryCode}`);

      asked = await postJson<ConsultationResult>(`${stack.apiUrl}/v1/cases/${caseId}/consultations`, clerk, {
        topic: '缴费年限核对',
        participants,
        proposedTimes: [new Date(Date.now() + 3600_000).toISOString()],
      });
    } finally {
      stack.simulator.setScenario('510000', 'approve');
    }
    expect(asked.status, JSON.stringify(asked.body)).toBe(202);
    expect(asked.body.consultation).toMatchObject({ status: 'requested', beforeAcceptance: true, topic: '缴费年限核对', participants, requestedBy: 'test-clerk-440100' });
    const { consultationId } = asked.body.consultation;

    // Booked with the video service (a room, a personal link each), and the case held at the precheck.
    const booked = await eventually(
      () => view(caseId),
      (v) => v.consultations.some((k) => k.consultationId === consultationId && k.status === 'booked') && types(v).includes('precheck.passed'),
      30_000,
      'the consultation booked and the precheck passed',
    );
    const room = booked.consultations.find((k) => k.consultationId === consultationId)!;
    expect(room.roomId).toMatch(/^vr-/);
    expect(room.joinLinks.map((l) => ({ side: l.side, staffId: l.staffId }))).toEqual(participants.map((p) => ({ side: p.side, staffId: p.staffId })));
    for (const link of room.joinLinks) expect(link.url).toMatch(new RegExp(`^${stack.simulator.videoBaseUrl}/join/`));
    expect(new Set(room.joinLinks.map((l) => l.url)).size).toBe(participants.length);

    // The meeting takes place at the video service.
    const held = stack.simulator.holdRoom(room.roomId!);
    if (held.status !== 'held') throw new Error(`the room is ${held.status}`);
    // Until its outcome nothing has gone to Sichuan.
    const before = await view(caseId);
    expect(before).toMatchObject({ stage: 'precheck', status: 'active' });
    expect(types(before)).not.toContain('transfer.created');
    expect(stack.simulator.requests('510000').some((r) => r.idempotencyKey === `${caseId}:create`)).toBe(false);

    const minutes = '双方核对缴费年限，材料齐全，同意受理。';
    const recorded = await postJson<ConsultationResult>(`${stack.apiUrl}/v1/cases/${caseId}/consultations/${encodeURIComponent(consultationId)}/outcome`, approver, { held: true, minutes, agreed: 'continue' });
    expect(recorded.status, JSON.stringify(recorded.body)).toBe(200);
    expect(recorded.body.consultation).toMatchObject({
      status: 'held',
      outcome: { held: true, minutes, agreed: 'continue', effect: 'none', recordedBy: 'test-approver-510000', recording: { recordingId: held.recording.recordingId, sha256: held.recording.sha256 } },
    });

    // The case goes on to the transfer and reaches Sichuan.
    await eventually(() => view(caseId), (v) => types(v).includes('review.started'), 30_000, 'the case to reach Sichuan');

    // 2. The window writes to the authority in the liaison thread, with an attachment.
    const file = await uploadFile(stack.apiUrl, clerk, samplePdf('缴费年限核对说明'));
    expect(file.status).toBe(201);
    const written = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${clerk}`, 'content-type': 'application/json', 'idempotency-key': `liaison-${randomUUID()}` },
      body: JSON.stringify({ to: 'handling', body: '会商纪要及缴费年限核对说明附后，请审查时一并参考。', fileIds: [file.body.fileId] }),
    });
    expect(written.status).toBe(201);
    const sent = (await written.json()) as Message;
    expect(sent).toMatchObject({ from: 'receiving', to: 'handling', author: 'test-clerk-440100', acknowledgedAt: null, overdue: false });

    // Forwarded to the authority's system with the attachment's bytes.
    const forwardedThread = await eventually(
      () => thread(caseId),
      (ms) => {
        const m = ms.find((x) => x.messageId === sent.messageId);
        return m !== undefined && m.forwardedAt !== null && m.files.every((f) => f.forwardedAt !== null);
      },
      30_000,
      'the message forwarded to Sichuan',
    );
    const forwarded = forwardedThread.find((m) => m.messageId === sent.messageId)!;
    expect(forwarded.files).toEqual([expect.objectContaining({ position: 0, sha256: file.body.sha256, forwardedAt: expect.any(String) })]);
    expect(stack.simulator.liaisonReceived('510000', caseId)).toEqual([
      expect.objectContaining({ messageId: sent.messageId, body: sent.body, files: [expect.objectContaining({ position: 0, sha256: file.body.sha256, receivedAt: expect.any(String) })] }),
    ]);

    // The authority answers from its own system; the answer acknowledges the window's message.
    const answer = stack.simulator.writeLiaison('510000', caseId, { body: '已收到会商纪要和说明，将在审查中一并考虑。', inReplyTo: sent.messageId, author: '审查科王科长' });
    // (The callback stores the answer and then acknowledges the original in a second statement, not
    // one transaction, so a read in between sees the answer alone: wait for both.)
    const answeredThread = await eventually(
      () => thread(caseId),
      (ms) => ms.some((m) => m.messageId === answer.data.messageId) && ms.some((m) => m.messageId === sent.messageId && m.acknowledgedAt !== null),
      30_000,
      'the authority’s answer, acknowledging the window’s message',
    );
    expect(answeredThread).toHaveLength(2);
    expect(answeredThread.find((m) => m.messageId === answer.data.messageId)).toMatchObject({
      from: 'handling',
      to: 'receiving',
      author: 'province:510000',
      inReplyTo: sent.messageId,
      acknowledgedAt: null,
    });
    expect(answeredThread.find((m) => m.messageId === sent.messageId)).toMatchObject({ acknowledgedBy: 'province:510000', acknowledgedAt: expect.any(String) });

    // The window acknowledges the answer.
    const acked = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/messages/${String(answer.data.messageId)}/ack`, { method: 'POST', headers: { authorization: `Bearer ${clerk}` } });
    expect(acked.status).toBe(200);
    expect((await acked.json()) as Message).toMatchObject({ messageId: answer.data.messageId, acknowledgedBy: 'test-clerk-440100', acknowledgedAt: expect.any(String), overdue: false });

    // 3. Sichuan approves; the case completes with an electronic result carrying a licence.
    const done = await eventually(() => view(caseId), (v) => v.status === 'completed', 30_000, 'the case to complete');
    expect(done).toMatchObject({ stage: 'closed', status: 'completed', delivery: { method: 'electronic', status: 'issued' } });
    const certificate = done.delivery.certificate!;
    const licence = certificate.licence!;
    expect(licence.licenceId).toMatch(/^1\.2\.156\.3005\.2\./);

    // 4. Verification, no login: by identifier …
    const byId = await publicPost<Record<string, unknown>>('/v1/verify', { licenceId: licence.licenceId });
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual({
      genuine: true,
      licenceId: licence.licenceId,
      licenceType: licence.licenceType,
      issuer: { name: certificate.issuer, code: licence.issuerCode, province: '510000' },
      issuedAt: new Date(certificate.issuedAt).toISOString(),
      signedAt: new Date(licence.signedAt).toISOString(),
    });
    // … by the document the applicant downloads from the authority …
    const download = await fetch(`${stack.simulator.url}/_admin/provinces/510000/elicences/${licence.licenceId}/document`);
    expect(download.status).toBe(200);
    const document = Buffer.from(await download.arrayBuffer());
    expect(JSON.parse(document.toString('utf8'))).toMatchObject({ licenceId: licence.licenceId, caseId });
    const byDocument = await publicPost<Record<string, unknown>>('/v1/verify', { document: document.toString('base64') });
    expect(byDocument).toEqual({ status: 200, body: byId.body });
    // … and that document with one byte changed is not genuine.
    const tampered = Buffer.from(document);
    const at = tampered.indexOf('"issuedAt"') + '"issuedAt":"'.length;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at);
    const refused = await publicPost<Record<string, unknown>>('/v1/verify', { document: tampered.toString('base64') });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ genuine: false, code: 'unknown-document', reason: expect.any(String) });

    // 5. The applicant looks the case up with the receipt's query code, no login …
    const progress = await fetch(`${stack.apiUrl}/v1/progress/${caseId}?code=${encodeURIComponent(queryCode)}`);
    expect(progress.status).toBe(200);
    expect(await progress.json()).toMatchObject({ caseId, applicantName: '协***', stage: 'closed', status: 'completed', statusText: '已办结', closedAt: done.closedAt });
    // … and rates it, once.
    const rated = await publicPost<{ evaluation: Record<string, unknown>; followUp: unknown }>(`/v1/cases/${caseId}/evaluation`, { level: '非常满意', channel: 'online', queryCode });
    expect(rated.status, JSON.stringify(rated.body)).toBe(201);
    expect(rated.body).toMatchObject({ evaluation: { level: '非常满意', recordedBy: 'applicant' }, followUp: null });
    const again = await publicPost<{ detail: string }>(`/v1/cases/${caseId}/evaluation`, { level: '满意', channel: 'online', queryCode });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/already evaluated \(非常满意/);

    // 6. The timeline: the consultation before acceptance, held before the transfer.
    const timeline = types(done);
    const index = (type: string) => timeline.indexOf(type);
    for (const type of ['consultation.requested', 'consultation.booked', 'consultation.held']) expect(timeline.filter((t) => t === type), type).toHaveLength(1);
    expect(index('consultation.requested')).toBeLessThan(index('precheck.passed'));
    expect(index('consultation.booked')).toBeGreaterThan(index('consultation.requested'));
    expect(index('consultation.held')).toBeGreaterThan(index('precheck.passed'));
    expect(index('consultation.held')).toBeLessThan(index('transfer.created'));
    expect(index('transfer.created')).toBeLessThan(index('decision.approved'));
    expect(index('decision.approved')).toBeLessThan(index('delivery.issued'));
    expect(timeline.at(-1)).toBe('case.completed');
    expect(done.timeline.find((e) => e.type === 'consultation.held')).toMatchObject({ actor: 'test-approver-510000', data: expect.objectContaining({ consultationId }) });
    expect(done.consultations).toEqual([expect.objectContaining({ consultationId, status: 'held', roomId: room.roomId, outcome: expect.objectContaining({ agreed: 'continue' }) })]);

    // The hand-off ledger: its chain holds, with the liaison attachment and the result on it.
    const ledger = await getJson<Ledger>(`${stack.apiUrl}/v1/cases/${caseId}/handoffs`, clerk);
    expect(ledger.status).toBe(200);
    expect(ledger.body.chain).toMatchObject({ ok: true, length: ledger.body.entries.length, problem: null });
    expect(ledger.body.entries.filter((e) => e.kind === 'liaison_attachment')).toEqual([
      expect.objectContaining({ from: 'receiving', to: 'handling', what: [expect.objectContaining({ messageId: sent.messageId, sha256: file.body.sha256 })], acknowledgedAt: expect.any(String) }),
    ]);
    expect(ledger.body.entries.filter((e) => e.kind === 'result')).toEqual([
      expect.objectContaining({ ref: 'result:electronic', from: 'handling', to: 'applicant', what: [{ certificateId: certificate.certificateId, issuer: certificate.issuer, sha256: certificate.sha256 }] }),
    ]);
    expect(ledger.body.entries.filter((e) => e.kind === 'decision')).toEqual([expect.objectContaining({ from: 'handling', to: 'receiving', what: [expect.objectContaining({ outcome: 'approved' })] })]);

    // The SMS the applicant got: the decision, the licence issued and the invitation to evaluate, one each.
    const sms = await eventually(
      async () => {
        await sendNotifications();
        return stack.simulator.smsMessages().filter((m) => m.caseId === caseId);
      },
      (ms) => ms.length >= 3,
      20_000,
      'the SMS of the case',
    );
    expect(sms.map((m) => m.template).sort()).toEqual(['decision_approved', 'evaluation_invitation', 'result_ready']);
    expect(new Set(sms.map((m) => m.idempotencyKey)).size).toBe(3);
    for (const m of sms) {
      expect(m.to).toBe(phone);
      expect(m.text).not.toContain(APPLICANT);
    }
    expect(sms.find((m) => m.template === 'result_ready')!.text).toContain(licence.licenceId);
    expect(sms.find((m) => m.template === 'evaluation_invitation')!.text).toContain(queryCode);
  });
});
