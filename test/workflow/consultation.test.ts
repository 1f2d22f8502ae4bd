// Video consultation (视频会商) over HTTP against a real stack: the simulator plays the provinces and
// the video-meeting service. A consultation held before acceptance (视频会商收件) holds the transfer
// until its outcome; one that never happens is flagged missed; a `correction` before acceptance is a
// notice of the receiving window; the video service down fails the booking, not the case; the
// api's 400s and the validators' 409s. Cases that must be caught before the precheck passes are
// slowed at the province (the e-licence check takes slowMs), so the request reaches the case first.
//
// Under the working-day seam (WORKING_DAY_MS) a working day is 16 s and stands for 8 office hours, so
// a 30-minute meeting with its 2-hour grace is flagged missed 5 s after it starts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseState, Consultation } from '../../domain/case.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';
import { getJson, postJson, samplePdf, submitCase, uploadFile } from '../../harness/cases.js';

let stack: TestStack;
let clerk: string;
let approver: string;

const handleOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId));
const stateOf = (caseId: string) => handleOf(caseId).query(getStateQuery);
const eventsOf = async (caseId: string) =>
  (await stack.pool.query<{ seq: number; type: string; stage: string; status: string; data: Record<string, unknown> }>('SELECT seq, type, stage, status, data FROM case_events WHERE case_id = $1 ORDER BY seq', [caseId])).rows;

interface CaseView {
  stage: string;
  status: string;
  consultations: Consultation[];
  correction: { noticeId: string; side: string; deficiencies: { materialCode: string; problem: string; needed: string }[] } | null;
  timeline: { type: string; data: Record<string, unknown> }[];
}
interface ConsultationResult {
  caseId: string;
  stage: string;
  status: string;
  consultation: Consultation;
}
interface Problem {
  status: number;
  type: string;
  detail: string;
  errors?: { path: string; message: string }[];
}

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const view = (caseId: string, token = clerk) => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, token);
const request = <T = ConsultationResult>(caseId: string, body: unknown, token = clerk) => postJson<T>(`${stack.apiUrl}/v1/cases/${caseId}/consultations`, token, body);
const outcome = <T = ConsultationResult>(caseId: string, consultationId: string, body: unknown, token = approver) =>
  postJson<T>(`${stack.apiUrl}/v1/cases/${caseId}/consultations/${encodeURIComponent(consultationId)}/outcome`, token, body);

/** The case's consultation once the case view shows it in one of `statuses`. */
async function consultationIn(caseId: string, consultationId: string, statuses: Consultation['status'][]): Promise<Consultation> {
  const found = await eventually(
    () => view(caseId).then((v) => v.body.consultations.find((k) => k.consultationId === consultationId)),
    (k) => k !== undefined && statuses.includes(k.status),
    30_000,
    `consultation ${consultationId} ${statuses.join(' or ')}`,
  );
  return found!;
}

const PARTICIPANTS = [{ side: 'receiving', staffId: 'test-clerk-440100' }, { side: 'handling', staffId: 'test-approver-510000' }, { side: 'applicant' }];

/** A case slowed at the province (rule by applicant name), so a consultation asked for at once reaches it before the precheck passes. */
async function slowCase(applicantName: string): Promise<string> {
  stack.simulator.addRule({ match: { applicantName }, scenario: 'slow' });
  const { status, body } = await submitCase(stack.apiUrl, clerk, { applicantName });
  expect(status).toBe(201);
  return body.caseId;
}

describe('video consultations (视频会商)', () => {
  beforeAll(async () => {
    stack = await startTestStack({ env: { WORKING_DAY_MS: '16000' }, simulator: { reviewDelayMs: 300, correctionDelayMs: 300, slowMs: 1500 } });
    clerk = await stack.token('clerk', '440100');
    approver = await stack.token('approver', '510000');
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('When a clerk asks for a consultation right after intake and it is held, then the transfer waits for its outcome, `continue` lets the case go on, and it completes', async () => {
    const caseId = await slowCase('会商收件');
    const asked = await request(caseId, { topic: '缴费年限核对', participants: PARTICIPANTS, proposedTimes: [inSeconds(60), inSeconds(3600)] });
    expect(asked.status).toBe(202);
    expect(asked.body.consultation).toMatchObject({ status: 'requested', beforeAcceptance: true, topic: '缴费年限核对', participants: PARTICIPANTS });
    const { consultationId } = asked.body.consultation;

    const booked = await consultationIn(caseId, consultationId, ['booked']);
    expect(booked.roomId).toMatch(/^vr-/);
    expect(Date.parse(booked.startsAt!)).toBe(Date.parse(asked.body.consultation.proposedTimes[0]!));
    expect(Date.parse(booked.endsAt!) - Date.parse(booked.startsAt!)).toBe(30 * 60_000);
    expect(booked.joinLinks.map((l) => ({ side: l.side, staffId: l.staffId }))).toEqual(PARTICIPANTS.map((p) => ({ side: p.side, staffId: p.staffId })));
    for (const link of booked.joinLinks) expect(link.url).toMatch(new RegExp(`^${stack.simulator.videoBaseUrl}/join/`));

    // Held at the precheck: nothing reaches the handling authority before the outcome.
    await eventually(() => eventsOf(caseId), (events) => events.some((e) => e.type === 'precheck.passed'), 30_000, 'precheck passed');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stateOf(caseId)).stage).toBe('precheck');
    expect(stack.simulator.requests('510000').some((r) => r.idempotencyKey === `${caseId}:create`)).toBe(false);

    const room = stack.simulator.holdRoom(booked.roomId!);
    if (room.status !== 'held') throw new Error(`the room is ${room.status}`);
    // The minutes name the applicant (会商收件): what is recorded is masked.
    const recorded = await outcome(caseId, consultationId, { held: true, minutes: '与申请人会商收件当面核对了缴费年限，材料齐全。', agreed: 'continue' });
    expect(recorded.status).toBe(200);
    expect(recorded.body.consultation).toMatchObject({ status: 'held', outcome: { held: true, agreed: 'continue', effect: 'none', recordedBy: 'test-approver-510000' } });
    expect(recorded.body.consultation.outcome!.recording).toEqual({ recordingId: room.recording.recordingId, url: room.recording.url, sha256: room.recording.sha256, durationSeconds: 1800 });
    expect(recorded.body.consultation.outcome!.minutes).not.toContain('会商收件');
    expect(recorded.body.consultation.outcome!.minutes).toContain('当面核对了缴费年限');

    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ status: 'completed' });
    const types = (await eventsOf(caseId)).map((e) => e.type);
    const at = (type: string) => types.indexOf(type);
    expect(at('consultation.requested')).toBeLessThan(at('precheck.passed'));
    expect(at('consultation.booked')).toBeGreaterThan(at('consultation.requested'));
    expect(at('consultation.held')).toBeLessThan(at('transfer.created'));
    expect(at('precheck.passed')).toBeLessThan(at('consultation.held'));
    // The case view keeps it, with the room, the links and the outcome.
    const shown = (await view(caseId)).body.consultations;
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ consultationId, status: 'held', roomId: booked.roomId, outcome: { agreed: 'continue' } });
    // Both staff actions are audited; the minutes stay with the case.
    const audit = await stack.pool.query('SELECT action, actor, reason FROM audit_log WHERE case_id = $1 AND action LIKE $2 ORDER BY id', [caseId, 'case.consultation-%']);
    expect(audit.rows).toEqual([
      { action: 'case.consultation-request', actor: 'test-clerk-440100', reason: '缴费年限核对' },
      { action: 'case.consultation-outcome', actor: 'test-approver-510000', reason: 'consultation continue' },
    ]);
  });

  it('When the case is taken in with consultBeforeAcceptance, then it waits at the precheck until a consultation is requested, and goes on after its outcome', async () => {
    const submitted = await submitCase(stack.apiUrl, clerk, { applicantName: '约定会商', consultBeforeAcceptance: true });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    const { caseId } = submitted.body;
    // However long it takes, nothing goes to the authority before a consultation is asked for.
    await eventually(() => eventsOf(caseId), (events) => events.some((e) => e.type === 'precheck.awaiting_consultation'), 30_000, 'waiting for a consultation');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await stateOf(caseId)).stage).toBe('precheck');
    expect(stack.simulator.requests('510000').some((r) => r.idempotencyKey === `${caseId}:create`)).toBe(false);

    const asked = await request(caseId, { topic: '收件前会商', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] });
    expect(asked.status).toBe(202);
    expect(asked.body.consultation.beforeAcceptance).toBe(true);
    const booked = await consultationIn(caseId, asked.body.consultation.consultationId, ['booked']);
    stack.simulator.holdRoom(booked.roomId!);
    expect((await outcome(caseId, booked.consultationId, { held: true, minutes: '材料齐全，可以受理。', agreed: 'continue' })).status).toBe(200);
    expect(((await handleOf(caseId).result()) as CaseState).status).toBe('completed');
  });

  it('When a booked consultation never happens, then after its time and the grace it is flagged missed, the case view shows it, the transfer goes on, and an outcome may still be recorded', async () => {
    const caseId = await slowCase('会商未开');
    const asked = await request(caseId, { topic: '材料真实性核实', participants: PARTICIPANTS.slice(0, 2), proposedTimes: [inSeconds(2)] });
    expect(asked.status).toBe(202);
    const { consultationId } = asked.body.consultation;
    const booked = await consultationIn(caseId, consultationId, ['booked']);

    const missed = await consultationIn(caseId, consultationId, ['missed']);
    expect(missed.missedAt).not.toBeNull();
    expect(missed.outcome).toBeNull();
    // Seam: 5 s (30 min + 2 h of an 8-hour day of 16 s) after the booked start.
    expect(Date.parse(missed.missedAt!) - Date.parse(booked.startsAt!)).toBeGreaterThanOrEqual(5000);
    const event = (await eventsOf(caseId)).find((e) => e.type === 'consultation.missed');
    expect(event?.data).toMatchObject({ consultationId, roomId: booked.roomId, endsAt: booked.endsAt, roomStatus: 'booked' });

    // Missed releases the transfer; the outcome can still be recorded, and the flag stays.
    const late = await outcome(caseId, consultationId, { held: false, minutes: '办理地审批人员当日另有会议，未能参加。', agreed: 'continue' });
    expect(late.status).toBe(200);
    expect(late.body.consultation).toMatchObject({ status: 'not_held', missedAt: missed.missedAt, outcome: { held: false, recording: null } });
    expect(((await handleOf(caseId).result()) as CaseState).status).toBe('completed');
    expect((await eventsOf(caseId)).map((e) => e.type)).toEqual(expect.arrayContaining(['consultation.missed', 'consultation.not_held', 'transfer.created']));
  });

  it('When the consultation before acceptance agrees a correction, then the receiving window issues a one-time notice with those deficiencies, and after the supplement the precheck runs again and the case goes on', async () => {
    const caseId = await slowCase('会商补正');
    const asked = await request(caseId, { topic: '缴费凭证核对', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] });
    const { consultationId } = asked.body.consultation;
    await consultationIn(caseId, consultationId, ['booked']);
    const deficiencies = [{ materialCode: 'contribution-certificate', problem: '缴费年限与系统记录不一致', needed: '社保经办机构重新出具的缴费凭证' }];
    const recorded = await outcome(caseId, consultationId, { held: true, minutes: '经会商，缴费凭证需重新开具。', agreed: 'correction', deficiencies }, clerk);
    expect(recorded.status).toBe(200);
    expect(recorded.body.consultation.outcome).toMatchObject({ agreed: 'correction', deficiencies, effect: 'receiving-notice' });

    const waiting = await eventually(() => view(caseId), (v) => v.body.status === 'awaiting_supplement', 30_000, 'the notice');
    expect(waiting.body.correction).toMatchObject({ side: 'receiving', deficiencies });
    expect(stack.simulator.requests('510000').some((r) => r.idempotencyKey === `${caseId}:create`)).toBe(false);

    const file = await uploadFile(stack.apiUrl, clerk, samplePdf('重新开具的缴费凭证'));
    const supplemented = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/supplements`, clerk, {
      noticeId: waiting.body.correction!.noticeId,
      items: [{ materialCode: 'contribution-certificate', fileId: file.body.fileId }],
    });
    expect(supplemented.status).toBe(202);
    expect(((await handleOf(caseId).result()) as CaseState).status).toBe('completed');
    // The agreement is acted on once the precheck has passed; the precheck runs again on the supplement.
    const types = (await eventsOf(caseId)).map((e) => e.type);
    const order = ['precheck.passed', 'correction.notice_issued', 'correction.supplemented', 'precheck.passed', 'transfer.created'];
    const held = types.indexOf('consultation.held');
    const first = types.indexOf('precheck.passed');
    expect(types.slice(Math.max(held, first) + 1).filter((t) => order.includes(t))).toEqual(order.slice(1));
    expect(types.indexOf('correction.notice_issued')).toBeGreaterThan(held);
    expect(types.filter((t) => t === 'precheck.passed')).toHaveLength(2);
  });

  it('When the video service is down past the retry budget, then the booking is recorded as failed and the case goes on unharmed', async () => {
    stack.simulator.setVideoScenario('down');
    try {
      const caseId = await slowCase('会商服务中断');
      const asked = await request(caseId, { topic: '材料核对', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] });
      expect(asked.status).toBe(202);
      const failed = await consultationIn(caseId, asked.body.consultation.consultationId, ['failed']);
      expect(failed.failure).toMatch(/503|unavailable/i);
      expect(failed.roomId).toBeNull();
      const event = (await eventsOf(caseId)).find((e) => e.type === 'consultation.booking_failed');
      expect(event?.data).toMatchObject({ kind: 'unreachable' });
      const final = (await handleOf(caseId).result()) as CaseState;
      expect(final).toMatchObject({ status: 'completed', needsIntervention: null });
    } finally {
      stack.simulator.setVideoScenario('ok');
    }
  });

  it('When a request or an outcome is malformed, then 400 names the fields; when the case does not allow it now, then 409 says why; a `reject` before acceptance closes the case not_accepted with the minutes', async () => {
    const caseId = await slowCase('会商校验');
    const bad = await request<Problem>(caseId, {
      topic: '',
      participants: [{ side: 'applicant', staffId: 'someone' }, { side: 'receiving' }, { side: 'receiving' }],
      proposedTimes: ['2020-01-01T00:00:00Z', 'tomorrow'],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors!.map((e) => e.path).sort()).toEqual(['participants.0.staffId', 'participants.2', 'proposedTimes.0', 'proposedTimes.1', 'topic']);
    const tooMany = await request<Problem>(caseId, { topic: '会商', participants: PARTICIPANTS, proposedTimes: [1, 2, 3, 4, 5, 6].map((h) => inSeconds(h * 3600)) });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.errors!.map((e) => e.path)).toEqual(['proposedTimes']);
    expect((await request<Problem>(caseId, { topic: '会商', participants: [], proposedTimes: [inSeconds(60)] })).body.errors!.map((e) => e.path)).toEqual(['participants']);

    // Who: a manager may not; staff of neither side do not see the case.
    expect((await request(caseId, { topic: '会商', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] }, await stack.token('manager', '440000'))).status).toBe(403);
    expect((await request(caseId, { topic: '会商', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] }, await stack.token('clerk', '330000'))).status).toBe(404);

    const asked = await request(caseId, { topic: '申请条件核实', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] }, approver);
    expect(asked.status).toBe(202);
    const { consultationId } = asked.body.consultation;
    await consultationIn(caseId, consultationId, ['booked']);

    const second = await request<Problem>(caseId, { topic: '再次会商', participants: PARTICIPANTS, proposedTimes: [inSeconds(120)] });
    expect(second.status).toBe(409);
    expect(second.body.detail).toBe(`consultation ${consultationId} is still booked: record its outcome first`);

    expect((await outcome<Problem>(caseId, consultationId, { held: true, minutes: '纪要', agreed: 'correction' })).body.errors!.map((e) => e.path)).toEqual(['deficiencies']);
    const extra = await outcome<Problem>(caseId, consultationId, { held: true, minutes: '纪要', agreed: 'continue', deficiencies: [{ materialCode: 'resident-id-card', problem: 'x', needed: 'y' }] });
    expect(extra.status).toBe(400);
    // The workflow's validator knows the item: a material it does not have is a 400 too.
    const unknown = await outcome<Problem>(caseId, consultationId, { held: true, minutes: '纪要', agreed: 'correction', deficiencies: [{ materialCode: 'no-such-material', problem: 'x', needed: 'y' }] });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([{ path: 'deficiencies', message: 'deficiencies: no-such-material is not a material of the item' }]);
    expect((await outcome<Problem>(caseId, `${caseId}:consultation:9`, { held: true, minutes: '纪要', agreed: 'continue' })).status).toBe(404);
    expect((await outcome<Problem>(caseId, consultationId, { held: true, minutes: '纪要', agreed: 'continue' }, await stack.token('manager', '510000'))).status).toBe(403);

    // 视频会商收件 agrees not to accept: the case closes with the minutes as the reason.
    const minutes = '经会商，申请人不符合跨省转移条件，不予受理。';
    const rejected = await outcome(caseId, consultationId, { held: true, minutes, agreed: 'reject' });
    expect(rejected.status).toBe(200);
    expect(rejected.body.consultation.outcome).toMatchObject({ agreed: 'reject', effect: 'not-accepted' });
    const final = (await handleOf(caseId).result()) as CaseState;
    expect(final).toMatchObject({ stage: 'closed', status: 'not_accepted' });
    expect((await eventsOf(caseId)).at(-1)).toMatchObject({ type: 'case.closed', status: 'not_accepted', data: { outcome: 'not_accepted', reason: minutes, consultationId } });
    expect(stack.simulator.requests('510000').some((r) => r.idempotencyKey === `${caseId}:create`)).toBe(false);

    // The case has ended: nothing more to consult on or record.
    const closed = await eventually(() => request<Problem>(caseId, { topic: '会商', participants: PARTICIPANTS, proposedTimes: [inSeconds(60)] }), (r) => r.status === 409, 10_000, 'closed');
    expect(closed.body.detail).toMatch(/already not_accepted|already ended/);
    expect((await outcome<Problem>(caseId, consultationId, { held: true, minutes: '纪要', agreed: 'continue' })).status).toBe(409);
  });

  it('When a consultation after the transfer agrees a correction or a rejection, then the agreement is recorded and the case waits for the handling authority', async () => {
    stack.simulator.addRule({ match: { applicantName: '会商审查' }, scenario: 'correction' });
    const { body } = await submitCase(stack.apiUrl, clerk, { applicantName: '会商审查' });
    const { caseId } = body;
    // The authority's own notice holds the case in review.
    const notice = await eventually(() => stateOf(caseId), (s) => s.status === 'awaiting_supplement' && s.correction?.side === 'handling', 30_000, 'handling notice');
    const asked = await request(caseId, { topic: '补正材料说明', participants: PARTICIPANTS.slice(0, 2), proposedTimes: [inSeconds(60)] }, approver);
    expect(asked.body.consultation.beforeAcceptance).toBe(false);
    const { consultationId } = asked.body.consultation;
    await consultationIn(caseId, consultationId, ['booked']);
    const recorded = await outcome(caseId, consultationId, { held: true, minutes: '办理地将在审查意见中作出不予许可决定。', agreed: 'reject' });
    expect(recorded.body.consultation.outcome).toMatchObject({ agreed: 'reject', effect: 'authority-decides' });
    const after = await stateOf(caseId);
    expect(after).toMatchObject({ stage: 'correction', status: 'awaiting_supplement', correction: { noticeId: notice.correction!.noticeId } });
    expect(after.decision).toBeNull();
    // Ends the case for the next test file.
    expect((await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' })).status).toBe(200);
  });
});
