// Records the histories the replay test guards, one per branch of the case workflow (corrections on
// both sides, a missed supplement deadline and video consultations included), run for real
// on a fresh Temporal dev server, database and simulator with the fixture key (test-only keys,
// made-up applicants). Every recording is stamped with the fingerprint of the workflow code it ran
// on (harness/workflowSource.ts) in test/fixtures/histories/manifest.json.
//
// Run it after every change to workflow code: it ADDS fixtures of the new shape and keeps the old
// ones, which keep replaying the old branches of each patched(). `npm test` fails while the
// workflow code's fingerprint has no recordings (test/replay/replay.test.ts).
//   npm run histories:record
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseKeyring } from '../config/secrets.js';
import { migrate } from '../db/migrate.js';
import type { CaseState } from '../domain/case.js';
import { CASE_TASK_QUEUE, SEARCH_ATTRIBUTES, caseWorkflowId, liaisonWorkflowId, getStateQuery, participantWorkflowId, supplementUpdate, type SupplementItem } from '../workflows/messages.js';
import { participantCaseId } from '../api/intake.js';
import { startTemporalDevServer } from '../dev/temporal-server.js';
import { resolveTemporalCli } from '../dev/temporal-cli.js';
import { createDatabase } from '../harness/database.js';
import { eventually, startStack, type TestStack } from '../harness/stack.js';
import { postJson, samplePdf, submitCase, uploadFile, type SubmitOptions } from '../harness/cases.js';
import { workflowPatchIds, workflowSourceFingerprint } from '../harness/workflowSource.js';
import { readManifest, writeManifest, type FixtureEntry } from '../harness/fixtures.js';

const DIR = path.resolve('test/fixtures/histories');

interface Recording {
  name: string;
  branches: string[];
  /** Before submission (e.g. a province scenario). */
  setup?: (stack: TestStack) => void;
  submit: SubmitOptions;
  /**
   * Drives the case after submission (staff actions, simulator switches); resolves when it should
   * end, with other workflows it started whose histories are recorded too.
   */
  drive?: (stack: TestStack, caseId: string, clerk: string) => Promise<void | OtherWorkflow[]>;
}

/** Another workflow a recording started (e.g. a liaison message's forwarding), recorded beside the case. */
interface OtherWorkflow {
  name: string;
  branches: string[];
  workflowId: string;
}

const stateOf = (stack: TestStack, caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery);
const waitFor = (stack: TestStack, caseId: string, what: string, done: (s: CaseState) => boolean) => eventually(() => stateOf(stack, caseId), done, 60_000, what);
const expectStatus = (res: { status: number; body: unknown }, status: number, what: string) => {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
};

/** A four-eyes action asked by the clerk and approved by a supervisor of the receiving province. */
async function approvedAction(stack: TestStack, caseId: string, clerk: string, action: 'reroute' | 'record-offline', body: Record<string, unknown>): Promise<void> {
  const asked = await postJson<{ approvalId: string }>(`${stack.apiUrl}/v1/cases/${caseId}/actions/${action}`, clerk, body);
  expectStatus(asked, 202, `${action} request`);
  const supervisor = await stack.token('supervisor', '440000');
  expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/approvals/${asked.body.approvalId}`, supervisor, { approve: true, reason: '核实无误，同意' }), 200, `${action} approval`);
}

/** Answers the open notice with a fresh file for each deficiency, as the receiving window would. */
async function supplementOpenNotice(stack: TestStack, caseId: string, clerk: string, round: number, side: 'receiving' | 'handling'): Promise<void> {
  const state = await waitFor(stack, caseId, `${side} notice ${round}`, (s) => s.status === 'awaiting_supplement' && s.correction?.side === side && s.correction.round === round);
  const notice = state.correction!;
  const items: SupplementItem[] = [];
  for (const d of notice.deficiencies) {
    const up = await uploadFile(stack.apiUrl, clerk, samplePdf(`补正-${d.materialCode}-${notice.noticeId}`));
    items.push({ materialCode: d.materialCode, fileId: up.body.fileId, sha256: up.body.sha256, size: up.body.size, contentType: up.body.contentType });
  }
  await stack.client.workflow
    .getHandle(caseWorkflowId(caseId))
    .executeUpdate(supplementUpdate, { args: [{ actor: 'test-clerk-440100', role: 'clerk', region: '440100', noticeId: notice.noticeId, items }] });
}

/** 多地联办: a household move from Hunan to Sichuan, applied for in Guangdong. */
const JOINT_MOVE: SubmitOptions = {
  itemCode: 'household-move',
  handlingRegion: '510104',
  materialCodes: ['move-application', 'resident-id-card', 'settlement-proof'],
  fields: { originRegion: '430102', moveReason: '投靠配偶' },
};

/** The participants' workflows of a joint case, recorded beside it. */
function participantsOf(caseId: string, keys: string[], branches: string[]): OtherWorkflow[] {
  return keys.map((key) => ({ name: `${branches[0]}-${key}`, branches, workflowId: participantWorkflowId(participantCaseId(caseId, key)) }));
}

/** Waits for the case to end (before a province scenario is put back). */
async function caseEnded(stack: TestStack, caseId: string): Promise<void> {
  await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result();
}

/** A quick province: reviews in 300 ms, polled after 1.5 s without a callback. */
const QUICK: Recording[] = [
  { name: 'approved-electronic', branches: ['delivery-electronic', 'callback'], submit: { applicantName: '历史通过' } },
  { name: 'rejected', branches: ['rejection'], submit: { applicantName: '历史驳回' } },
  { name: 'delivery-mail', branches: ['delivery-mail'], submit: { applicantName: '历史邮寄', delivery: { method: 'mail', address: '四川省成都市武侯区人民南路4段1号' } } },
  {
    name: 'delivery-window',
    branches: ['delivery-window'],
    submit: { applicantName: '历史窗口', delivery: { method: 'window' } },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'delivery stage', (s) => s.stage === 'delivery');
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'window', note: '申请人已领取' }), 200, 'window pick-up');
    },
  },
  {
    name: 'delivery-mail-returned',
    branches: ['delivery-mail-returned'],
    submit: { applicantName: '历史退件', delivery: { method: 'mail', address: '四川省成都市武侯区人民南路4段1号' } },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'mail returned', (s) => s.delivery.status === 'returned');
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'window', note: '退件后窗口领取' }), 200, 'window pick-up after returned mail');
    },
  },
  { name: 'status-poll', branches: ['status-poll'], submit: { applicantName: '历史轮询' } },
  {
    name: 'intervention-retry',
    branches: ['intervention-retry'],
    submit: { applicantName: '历史重试', handlingRegion: '330000' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'intervention', (s) => s.needsIntervention !== null);
      // A liaison message written while the authority does not have the case yet: its forwarding waits for it.
      const file = await uploadFile(stack.apiUrl, clerk, samplePdf('联络附件'));
      const message = await postJson<{ messageId: string }>(`${stack.apiUrl}/v1/cases/${caseId}/messages`, clerk, { to: 'handling', body: '省级系统恢复后请优先审查。', fileIds: [file.body.fileId] });
      expectStatus(message, 201, 'liaison message');
      await new Promise((r) => setTimeout(r, 2000));
      stack.simulator.setScenario('330000', 'approve');
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/retry`, clerk, { reason: '省里系统已恢复' }), 200, 'retry');
      const workflowId = liaisonWorkflowId(message.body.messageId);
      await stack.client.workflow.getHandle(workflowId).result();
      return [{ name: 'liaison-forwarded-after-transfer', branches: ['liaison-forward', 'liaison-waits-for-province-case'], workflowId }];
    },
  },
  {
    name: 'correction-receiving',
    branches: ['correction-receiving'],
    setup: (stack) => stack.simulator.setScenario('510000', 'elicence-invalid'),
    submit: { applicantName: '历史收件补正' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'receiving notice', (s) => s.status === 'awaiting_supplement');
      stack.simulator.setScenario('510000', 'approve');
      await supplementOpenNotice(stack, caseId, clerk, 1, 'receiving');
    },
  },
  {
    name: 'correction-handling-twice',
    branches: ['correction-handling', 'correction-rounds-exceeded'],
    submit: { applicantName: '历史审查补正' },
    drive: async (stack, caseId, clerk) => {
      await supplementOpenNotice(stack, caseId, clerk, 1, 'handling');
      await supplementOpenNotice(stack, caseId, clerk, 2, 'handling');
    },
  },
  { name: 'procedure', branches: ['procedure'], submit: { applicantName: '历史专家评审' } },
  // 多地联办: two authorities approve in turn; the second rejects and the first's approval is revoked; a participant's correction.
  {
    name: 'joint-approved',
    branches: ['joint-approved'],
    submit: { ...JOINT_MOVE, applicantName: '历史联办' },
    drive: async (_stack, caseId) => participantsOf(caseId, ['moved-in', 'moved-out'], ['participant-approved']),
  },
  {
    name: 'joint-rejected-second-step',
    branches: ['joint-rejected', 'joint-compensation-revoke'],
    setup: (stack) => stack.simulator.setScenario('430000', 'reject'),
    submit: { ...JOINT_MOVE, applicantName: '历史联办驳回' },
    drive: async (stack, caseId) => {
      await caseEnded(stack, caseId);
      stack.simulator.setScenario('430000', 'approve');
      return participantsOf(caseId, ['moved-out'], ['participant-rejected']);
    },
  },
  {
    name: 'joint-participant-correction',
    branches: ['joint-participant-correction'],
    setup: (stack) => stack.simulator.setScenario('510000', 'correction'),
    submit: { ...JOINT_MOVE, applicantName: '历史联办补正' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'the participant notice', (s) => s.status === 'awaiting_supplement');
      stack.simulator.setScenario('510000', 'approve');
      await supplementOpenNotice(stack, caseId, clerk, 1, 'handling');
      return participantsOf(caseId, ['moved-in'], ['participant-correction']);
    },
  },
  // 免提交: the contribution certificate fetched from the data-sharing hub, and asked of the applicant when the hub has none.
  { name: 'shared-data-fetched', branches: ['shared-data-fetched'], submit: { applicantName: '历史免提交', materialCodes: ['transfer-application', 'resident-id-card'] } },
  {
    name: 'shared-data-no-record',
    branches: ['shared-data-no-record'],
    setup: (stack) => stack.simulator.setDatahubScenario('no-record'),
    submit: { applicantName: '历史共享无记录', materialCodes: ['transfer-application', 'resident-id-card'] },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'receiving notice', (s) => s.status === 'awaiting_supplement');
      stack.simulator.setDatahubScenario('ok');
      await supplementOpenNotice(stack, caseId, clerk, 1, 'receiving');
    },
  },
  {
    name: 'rerouted-in-transfer',
    branches: ['reroute-in-transfer'],
    setup: (stack) => stack.simulator.addRule({ match: { province: '430000', operation: 'case', applicantName: '历史改派' }, scenario: 'down' }),
    submit: { applicantName: '历史改派', handlingRegion: '430000' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'stuck on the creation', (s) => s.needsIntervention?.step === 'createProvinceCase');
      await approvedAction(stack, caseId, clerk, 'reroute', { handlingRegion: '510000', reason: '湖南系统停机，改由四川办理' });
    },
  },
  {
    name: 'rerouted-before-transfer',
    branches: ['reroute-before-transfer'],
    // 330000 down: the case waits verifying an e-licence there, before any transfer.
    setup: (stack) => stack.simulator.setScenario('330000', 'down'),
    submit: { applicantName: '历史受理前改派', handlingRegion: '330000' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'stuck on the e-licence check', (s) => s.needsIntervention?.step.startsWith('verifyELicence:') === true);
      await approvedAction(stack, caseId, clerk, 'reroute', { handlingRegion: '510000', reason: '应由四川办理' });
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/actions/retry`, clerk, { reason: '改派后重新核验' }), 200, 'retry after the reroute');
      stack.simulator.setScenario('330000', 'approve');
    },
  },
  {
    name: 'step-recorded-offline',
    branches: ['record-offline'],
    setup: (stack) => stack.simulator.addRule({ match: { province: '430000', operation: 'submit', applicantName: '历史线下提交' }, scenario: 'down' }),
    submit: { applicantName: '历史线下提交', handlingRegion: '430000' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'stuck on the submission', (s) => s.needsIntervention?.step === 'submitProvinceCase');
      // The authority's staff submit it in their own system; the window records that with the evidence.
      stack.simulator.removeRules({ province: '430000', operation: 'submit', applicantName: '历史线下提交' });
      stack.simulator.submitInProvince('430000', caseId);
      const evidence = await uploadFile(stack.apiUrl, clerk, samplePdf('线下提交回执'));
      await approvedAction(stack, caseId, clerk, 'record-offline', { step: 'submitProvinceCase', evidenceFileId: evidence.body.fileId, reason: '办理地已在本地系统提交审查' });
    },
  },
  {
    name: 'withdrawn-in-transfer',
    branches: ['withdrawal-during-transfer'],
    submit: { applicantName: '历史转撤' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'transfer stage', (s) => s.stage === 'transfer');
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人改在迁入地办理' }), 200, 'withdrawal in transfer');
    },
  },
];

/** A province that takes a second to decide and is polled only after a minute. */
const SLOW_POLL: Recording[] = [
  {
    name: 'withdrawn-in-review',
    branches: ['withdrawal-during-review'],
    submit: { applicantName: '历史审撤' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'review stage', (s) => s.stage === 'review');
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' }), 200, 'withdrawal in review');
    },
  },
  {
    // 多地联办: withdrawn while two participants review in parallel (their authorities never call back).
    name: 'joint-withdrawn-in-parallel',
    branches: ['joint-withdrawal'],
    submit: {
      itemCode: 'business-relocation',
      handlingRegion: '510104',
      materialCodes: ['change-application', 'relocation-resolution', 'articles-amendment', 'domicile-proof', 'business-licence', 'representative-id-card'],
      fields: { originRegion: '430103' },
      applicantName: '历史联办撤回',
    },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'both participants reviewing', (s) => (s.participants ?? []).filter((p) => p.status === 'reviewing').length === 2);
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '企业决定暂缓迁移' }), 200, 'joint withdrawal');
      return participantsOf(caseId, ['registration-out', 'tax-clearance'], ['participant-stopped']);
    },
  },
  {
    name: 'withdrawal-refused',
    branches: ['withdrawal-refused', 'status-poll'],
    submit: { applicantName: '历史已决' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'review stage', (s) => s.stage === 'review');
      await new Promise((r) => setTimeout(r, 2500));
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' }), 409, 'withdrawal after the decision');
    },
  },
];

/** Extensions asked and decided while the province's decision is not yet known (art. 42). */
const EXTENSION: Recording = {
  name: 'extension',
  branches: ['extension'],
  submit: { applicantName: '历史延期', itemCode: 'medical-filing' },
  drive: async (stack, caseId, clerk) => {
    await waitFor(stack, caseId, 'review stage', (s) => s.stage === 'review');
    const approver = await stack.token('approver', '510000');
    const supervisor = await stack.token('supervisor', '510000');
    const asked = await postJson<{ extension: { extensionId: string } }>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 2, reason: '需核对外省记录' });
    expectStatus(asked, 201, 'extension request');
    const decide = (id: string, approve: boolean) => postJson(`${stack.apiUrl}/v1/cases/${caseId}/extensions/${encodeURIComponent(id)}/decision`, supervisor, { approve, reason: approve ? '同意延长' : '不同意' });
    expectStatus(await decide(asked.body.extension.extensionId, true), 200, 'extension approval');
    const again = await postJson<{ extension: { extensionId: string } }>(`${stack.apiUrl}/v1/cases/${caseId}/extensions`, approver, { days: 1, reason: '再延一天' });
    expectStatus(await decide(again.body.extension.extensionId, false), 200, 'extension refusal');
    // Ends the case: withdrawn, or refused (409) if the province has decided meanwhile and the case takes that decision.
    const withdrawn = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' });
    if (withdrawn.status !== 200 && withdrawn.status !== 409) throw new Error(`extension: withdrawal answered ${withdrawn.status} ${JSON.stringify(withdrawn.body)}`);
  },
};

SLOW_POLL.push(EXTENSION);

/** Working days of 200 ms (the WORKING_DAY_MS seam): a 10-day supplement deadline is 2 s. */
const SHORT_DAYS: Recording[] = [
  {
    // 多地联办: the first participant's 10 working days (2 s) pass while its authority's decision is not known (its callback lost; polled after a minute).
    name: 'joint-participant-overdue',
    branches: ['joint-participant-overdue'],
    setup: (stack) => stack.simulator.setScenario('510000', 'lost-callback'),
    submit: { ...JOINT_MOVE, applicantName: '历史联办超期' },
    drive: async (stack, caseId) => {
      await waitFor(stack, caseId, 'a participant overdue', (s) => (s.participants ?? []).some((p) => p.overdue));
      stack.simulator.setScenario('510000', 'approve');
    },
  },
  { name: 'supplement-expired', branches: ['supplement-expired', 'acceptance-deemed'], submit: { applicantName: '历史补正逾期' } },
  {
    // Art. 44: the result waits at the window past 10 working days (2 s): warning, overdue, escalation; then collected.
    name: 'delivery-clock-overdue',
    branches: ['delivery-clock-overdue'],
    submit: { applicantName: '历史送达超期', delivery: { method: 'window' } },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'the delivery limit overdue', (s) => s.sla?.delivery?.state === 'red');
      expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/delivery-confirmation`, clerk, { method: 'window', note: '逾期后领取' }), 200, 'window pick-up');
    },
  },
  {
    // medical-filing's 3 and 5 working days pass (0.6 s and 1 s) while the province never calls back.
    name: 'sla-overdue',
    branches: ['sla-warning', 'sla-overdue'],
    submit: { applicantName: '历史超期', itemCode: 'medical-filing' },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'both limits overdue', (s) => s.sla?.statutory.state === 'red');
      // Ends the case: withdrawn, or refused (409) since the province has decided, and the case takes that decision.
      const withdrawn = await postJson(`${stack.apiUrl}/v1/cases/${caseId}/withdraw`, clerk, { reason: '申请人要求撤回' });
      if (withdrawn.status !== 200 && withdrawn.status !== 409) throw new Error(`sla-overdue: withdrawal answered ${withdrawn.status} ${JSON.stringify(withdrawn.body)}`);
    },
  },
];

/** Asks for a video consultation over the api, as a clerk would; answers its id. */
async function requestConsultation(stack: TestStack, caseId: string, clerk: string, proposedInMs: number): Promise<string> {
  const asked = await postJson<{ consultation: { consultationId: string } }>(`${stack.apiUrl}/v1/cases/${caseId}/consultations`, clerk, {
    topic: '收件前视频会商',
    participants: [{ side: 'receiving', staffId: 'test-clerk-440100' }, { side: 'handling', staffId: 'test-approver-510000' }, { side: 'applicant' }],
    proposedTimes: [new Date(Date.now() + proposedInMs).toISOString()],
  });
  expectStatus(asked, 202, 'consultation request');
  return asked.body.consultation.consultationId;
}

const consultationOf = async (stack: TestStack, caseId: string, id: string, what: string, done: (status: string) => boolean) =>
  (await waitFor(stack, caseId, what, (s) => done(s.consultations?.find((k) => k.consultationId === id)?.status ?? ''))).consultations!.find((k) => k.consultationId === id)!;

const recordOutcome = async (stack: TestStack, caseId: string, id: string, clerk: string, body: Record<string, unknown>) =>
  expectStatus(await postJson(`${stack.apiUrl}/v1/cases/${caseId}/consultations/${encodeURIComponent(id)}/outcome`, clerk, body), 200, 'consultation outcome');

/**
 * Video consultations (视频会商), each case slowed at the province (1.5 s a call) so the request
 * reaches it before the precheck passes; working days of 2 s, so a consultation nobody records is
 * missed 0.6 s after its start and a receiving notice waits 20 s for its supplement.
 */
const CONSULTATIONS: Recording[] = [
  {
    // Held before acceptance; agrees a correction: the receiving notice, the supplement, the precheck again, then the transfer.
    name: 'consultation-before-acceptance',
    branches: ['consultation-before-acceptance', 'consultation-correction'],
    submit: { applicantName: '历史会商收件' },
    drive: async (stack, caseId, clerk) => {
      const id = await requestConsultation(stack, caseId, clerk, 60_000);
      const booked = await consultationOf(stack, caseId, id, 'consultation booked', (s) => s === 'booked');
      stack.simulator.holdRoom(booked.roomId!);
      await recordOutcome(stack, caseId, id, clerk, {
        held: true,
        minutes: '会商确认缴费凭证需重新开具。',
        agreed: 'correction',
        deficiencies: [{ materialCode: 'contribution-certificate', problem: '缴费年限与系统记录不一致', needed: '重新开具的缴费凭证' }],
      });
      await supplementOpenNotice(stack, caseId, clerk, 1, 'receiving');
    },
  },
  {
    // Taken in with consultBeforeAcceptance: waits at the precheck for the request, then goes on after `continue`.
    name: 'consultation-requested-at-intake',
    branches: ['consultation-requested-at-intake'],
    submit: { applicantName: '历史约定会商', consultBeforeAcceptance: true },
    drive: async (stack, caseId, clerk) => {
      await waitFor(stack, caseId, 'precheck', (s) => s.stage === 'precheck');
      await new Promise((r) => setTimeout(r, 1000));
      const id = await requestConsultation(stack, caseId, clerk, 60_000);
      const booked = await consultationOf(stack, caseId, id, 'consultation booked', (s) => s === 'booked');
      stack.simulator.holdRoom(booked.roomId!);
      await recordOutcome(stack, caseId, id, clerk, { held: true, minutes: '材料齐全，可以受理。', agreed: 'continue' });
    },
  },
  {
    // Booked, nobody records an outcome: missed, the transfer goes on; a late outcome is still taken.
    name: 'consultation-missed',
    branches: ['consultation-missed'],
    submit: { applicantName: '历史会商未开' },
    drive: async (stack, caseId, clerk) => {
      const id = await requestConsultation(stack, caseId, clerk, 1500);
      await consultationOf(stack, caseId, id, 'consultation missed', (s) => s === 'missed');
      await recordOutcome(stack, caseId, id, clerk, { held: false, minutes: '会商未能举行。', agreed: 'withdraw-advised' });
    },
  },
  {
    // 视频会商收件 agrees not to accept: the case closes not_accepted with the minutes.
    name: 'consultation-not-accepted',
    branches: ['consultation-not-accepted'],
    submit: { applicantName: '历史会商不予受理' },
    drive: async (stack, caseId, clerk) => {
      const id = await requestConsultation(stack, caseId, clerk, 60_000);
      await consultationOf(stack, caseId, id, 'consultation booked', (s) => s === 'booked');
      await recordOutcome(stack, caseId, id, clerk, { held: true, minutes: '经会商，不符合受理条件。', agreed: 'reject' });
    },
  },
  {
    // The video service is down past the retry budget: booking_failed, and the case goes on.
    name: 'consultation-booking-failed',
    branches: ['consultation-booking-failed'],
    setup: (stack) => stack.simulator.setVideoScenario('down'),
    submit: { applicantName: '历史会商预约失败' },
    drive: async (stack, caseId, clerk) => {
      const id = await requestConsultation(stack, caseId, clerk, 60_000);
      await consultationOf(stack, caseId, id, 'booking failed', (s) => s === 'failed');
      stack.simulator.setVideoScenario('ok');
    },
  },
];

async function main() {
  const keyring = parseKeyring(fs.readFileSync(path.join(DIR, 'fixture-keys.json'), 'utf8'), 'fixture-keys.json');
  const fingerprint = workflowSourceFingerprint();
  const patches = workflowPatchIds();
  const cli = await resolveTemporalCli({ log: (l) => console.error(l) });
  if (cli.kind !== 'binary') throw new Error('recording needs the temporal CLI binary (npm run temporal:ensure)');
  const temporal = await startTemporalDevServer({ cli, headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: () => {} });
  const db = await createDatabase('tongban_record');
  const recorded: FixtureEntry[] = [];
  try {
    await migrate(db.url);
    const sets: [Recording[], Parameters<typeof startStack>[0]['env'], Parameters<typeof startStack>[0]['simulator']][] = [
      // Time limits on the calendar (WORKING_DAY_MS unset), as in production.
      [QUICK, { STATUS_POLL_AFTER_MS: '1500', WORKING_DAY_MS: '' }, { reviewDelayMs: 300, correctionDelayMs: 300, procedureDelayMs: 300 }],
      [SLOW_POLL, { STATUS_POLL_AFTER_MS: '60000', WORKING_DAY_MS: '' }, { reviewDelayMs: 1000 }],
      [SHORT_DAYS, { STATUS_POLL_AFTER_MS: '60000', WORKING_DAY_MS: '200' }, { reviewDelayMs: 300, correctionDelayMs: 1500 }],
      [CONSULTATIONS, { STATUS_POLL_AFTER_MS: '1500', WORKING_DAY_MS: '2000' }, { reviewDelayMs: 300, slowMs: 1500 }],
    ];
    for (const [recordings, env, simulator] of sets) {
      const stack = await startStack({ temporalAddress: temporal.address, databaseUrl: db.url, payloadKeys: keyring, env, simulator });
      try {
        stack.simulator.addRule({ match: { applicantName: '历史驳回' }, scenario: 'reject' });
        stack.simulator.addRule({ match: { applicantName: '历史轮询' }, scenario: 'lost-callback' });
        stack.simulator.addRule({ match: { applicantName: '历史已决' }, scenario: 'lost-callback' });
        stack.simulator.addRule({ match: { applicantName: '历史转撤' }, scenario: 'slow' });
        stack.simulator.addRule({ match: { applicantName: '历史审查补正' }, scenario: 'correction-2' });
        stack.simulator.addRule({ match: { applicantName: '历史补正逾期' }, scenario: 'correction' });
        stack.simulator.addRule({ match: { applicantName: '历史专家评审' }, scenario: 'procedure' });
        stack.simulator.addRule({ match: { applicantName: '历史延期' }, scenario: 'lost-callback' });
        stack.simulator.addRule({ match: { applicantName: '历史超期' }, scenario: 'lost-callback' });
        stack.simulator.addRule({ match: { applicantName: '历史退件' }, scenario: 'mail-returned' });
        stack.simulator.addRule({ match: { applicantName: '历史联办撤回' }, scenario: 'lost-callback' });
        for (const name of ['历史会商收件', '历史会商未开', '历史会商不予受理', '历史会商预约失败']) stack.simulator.addRule({ match: { applicantName: name }, scenario: 'slow' });
        stack.simulator.setScenario('330000', 'down');
        const clerk = await stack.token('clerk', '440100');
        const save = (name: string, workflowId: string, branches: string[], outcome: string) => {
          // The CLI's JSON is the format every Temporal SDK's replayer reads.
          const json = execFileSync(cli.path, ['workflow', 'show', '--address', temporal.address, '--workflow-id', workflowId, '--output', 'json'], { maxBuffer: 64 * 1024 * 1024 }).toString();
          const events = (JSON.parse(json) as { events: unknown[] }).events.length;
          const file = `case-${name}-${fingerprint.slice(0, 12)}.json`;
          fs.writeFileSync(path.join(DIR, file), json.endsWith('\n') ? json : `${json}\n`);
          recorded.push({ file, branches, workflowSource: fingerprint, patches, outcome, recordedAt: new Date().toISOString() });
          console.log(`recorded ${file} (${events} events, ${outcome})`);
        };
        for (const rec of recordings) {
          rec.setup?.(stack);
          const sub = await submitCase(stack.apiUrl, clerk, rec.submit);
          if (sub.status !== 201) throw new Error(`${rec.name}: submit failed: ${sub.status} ${JSON.stringify(sub.body)}`);
          const handle = stack.client.workflow.getHandle(caseWorkflowId(sub.body.caseId));
          const others = (await rec.drive?.(stack, sub.body.caseId, clerk)) ?? [];
          const final = (await handle.result()) as CaseState;
          save(rec.name, handle.workflowId, rec.branches, final.status);
          for (const other of others) save(other.name, other.workflowId, other.branches, 'completed');
        }
        if (recordings === QUICK) {
          // The scheduled housekeeping workflows, run once as their schedules would run them.
          for (const [name, workflowType, args] of [
            ['maintenance-sweep-unattached-files', 'sweepUnattachedFilesWorkflow', [{ ttlHours: 24 }]],
            ['maintenance-escalate-follow-ups', 'escalateFollowUpsWorkflow', []],
            ['maintenance-send-notifications', 'sendNotificationsWorkflow', []],
          ] as const) {
            const workflowId = `record-${name}`;
            await stack.client.workflow.execute(workflowType, { workflowId, taskQueue: CASE_TASK_QUEUE, args: [...args] });
            save(name, workflowId, [name], 'completed');
          }
        }
      } finally {
        await stack.stop();
      }
    }
  } finally {
    await db.drop();
    await temporal.stop();
  }
  const manifest = readManifest(DIR);
  const files = new Set(recorded.map((r) => r.file));
  writeManifest(DIR, { fixtures: [...manifest.fixtures.filter((f) => !files.has(f.file)), ...recorded] });
  console.log(`manifest: ${manifest.fixtures.filter((f) => !files.has(f.file)).length + recorded.length} fixtures`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
