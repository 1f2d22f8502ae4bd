// The state of one running case and everything its stages share: the input, the state the query
// returns, the province proxy, the inbox of province events, the staff requests waiting to be
// acted on, and the recorder. Built once by openCase(); each stage module takes it as `c`.
import { ActivityCancellationType, CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { ProvinceActivities } from '../../activities/index.js';
import type { CaseInput, CaseState, MaterialRef } from '../../domain/case.js';
import type { CaseEventType } from '../../domain/caseEvents.js';
import type { ClockEvent } from '../../domain/clock.js';
import { provinceOf } from '../../domain/regions.js';
import { provinceTaskQueue, type DeliveryConfirmation, type OfflineStepCommand, type RerouteCommand, type StaffCommand, type SupplementCommand } from '../messages.js';
import { createInbox, type Inbox } from './inbox.js';
import type { JointRun } from './joint.js';
import { createRecorder, type Recorder } from './record.js';

/** Province calls heartbeat about every second; a silent attempt is given up after this. */
const PROVINCE_HEARTBEAT_TIMEOUT = '10 seconds';

export interface CaseRun {
  readonly input: CaseInput;
  readonly caseId: string;
  /** The handling authority's region: the input's until a reroute (改派, workflows/case/reroute.ts) moves it. */
  handlingRegion: string;
  /** Where the handling authority calls back: the input's until a reroute. */
  callbackUrl: string;
  provinceCode: string;
  readonly state: CaseState;
  /** Province calls, on the handling province's queue; past the retry budget a call fails. */
  province: ProvinceActivities;
  /**
   * What province idempotency keys are derived from (workflows/case/keys.ts): the case id, and after
   * the n-th reroute `<caseId>@route<n>`, so a new authority in the same province never gets the
   * answer its predecessor's request had.
   */
  keyBase: string;
  /** How many times the case was rerouted. */
  route: number;
  /** A reroute approved while the transfer ran: the transfer is stopped and starts again at the new authority. */
  reroute: RerouteCommand | null;
  /** The scope the transfer runs in; a reroute cancels it (null outside the transfer). */
  transferScope: CancellationScope | null;
  /** The step the case is stuck on, and whether it can be recorded as done offline (workflows/case/step.ts). */
  stuckStep: { name: string; offline: boolean } | null;
  /** A step done offline, recorded by staff with its evidence (recordOfflineUpdate), until the step takes it. */
  offline: OfflineStepCommand | null;
  readonly inbox: Inbox;
  readonly record: Recorder['record'];
  /** The scope the procedure runs in; a withdrawal cancels it. */
  scope: CancellationScope;
  /** Set by the withdraw update; cleared when the province refuses it. */
  withdrawal: StaffCommand | null;
  /** The province had decided before the withdrawal reached it. */
  withdrawalRefused: boolean;
  /** The withdrawal is being carried out (after the procedure stopped). */
  withdrawing: boolean;
  retryRequested: boolean;
  confirmation: DeliveryConfirmation | null;
  /** The supplement answering the open notice, once staff took it in. */
  supplement: SupplementCommand | null;
  /** The materials as they stand: the input's, each replaced by its latest supplement. */
  materials: MaterialRef[];
  /** How many times each material was sent to the province after the original (its revision). */
  revisions: Record<string, number>;
  /** When the handling authority received the materials (review started), for art. 32. */
  materialsReceivedAt: string | null;
  /** The province may hold the case from here on (a create may have reached it). */
  transferStarted: boolean;
  /** The events the SLA clock counts from (domain/clock.ts CLOCK_EVENT_TYPES), as recorded. */
  clockEvents: ClockEvent[];
  /** When the approval was recorded: art. 44's delivery clock counts from it (workflows/case/sla.ts). */
  approvedAt: string | null;
  /** Run by the recorder after each event is written: the SLA clock's hook (workflows/case/sla.ts). */
  afterRecord: ((type: CaseEventType) => Promise<void>) | null;
  /** Consultations whose agreement the procedure has acted on before acceptance (workflows/case/consultation.ts). */
  consultationsTaken: string[];
  /** Each requested consultation's booking and watch for its outcome, running beside the procedure. */
  consultationWork: Promise<void>[];
  /** 多地联办: the participants' workflows, once the joint handling started (workflows/case/joint.ts). */
  joint: JointRun | null;
}

/**
 * The run of a case. `recorder` is where its events go: the projection (the default), or, for a
 * participant of a joint case, the case it reports to (workflows/joint/participantWorkflow.ts).
 */
export function openCase(input: CaseInput, recorder: (c: CaseRun) => Recorder = createRecorder): CaseRun {
  const provinceCode = provinceOf(input.handlingRegion);
  const { timing } = input;
  const state: CaseState = {
    caseId: input.caseId,
    itemCode: input.item.code,
    itemVersion: input.item.version,
    stage: 'intake',
    status: 'active',
    needsIntervention: null,
    provinceCaseId: null,
    decision: null,
    delivery: { method: input.delivery.method, status: 'pending' },
    transferredMaterials: [],
    lastSeq: 0,
  };
  const province = provinceActivities(provinceCode, timing);
  const c: CaseRun = {
    input,
    caseId: input.caseId,
    handlingRegion: input.handlingRegion,
    callbackUrl: input.callbackUrl,
    provinceCode,
    state,
    province,
    keyBase: input.caseId,
    route: 0,
    reroute: null,
    transferScope: null,
    stuckStep: null,
    offline: null,
    inbox: undefined as unknown as Inbox,
    record: undefined as unknown as Recorder['record'],
    scope: new CancellationScope(),
    withdrawal: null,
    withdrawalRefused: false,
    withdrawing: false,
    retryRequested: false,
    confirmation: null,
    supplement: null,
    materials: [...input.materials],
    revisions: {},
    materialsReceivedAt: null,
    transferStarted: false,
    clockEvents: [],
    afterRecord: null,
    approvedAt: null,
    consultationsTaken: [],
    consultationWork: [],
    joint: null,
  };
  Object.assign(c, { record: recorder(c).record, inbox: createInbox(c) });
  return c;
}

/** Province calls on a province's queue, with the case's timings and retry budget. */
export function provinceActivities(provinceCode: string, timing: CaseInput['timing']): ProvinceActivities {
  return proxyActivities<ProvinceActivities>({
    taskQueue: provinceTaskQueue(provinceCode),
    startToCloseTimeout: timing.callTimeoutMs,
    scheduleToCloseTimeout: retryBudgetMs(timing),
    heartbeatTimeout: PROVINCE_HEARTBEAT_TIMEOUT,
    // A withdrawal waits until an in-flight call has really stopped before it asks the province.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    retry: {
      initialInterval: timing.retryInitialIntervalMs,
      maximumInterval: timing.retryMaximumIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts: timing.retryMaximumAttempts,
    },
  });
}

/** Moves the case to a stage (and status); the next recorded event carries it. */
export function enter(c: CaseRun, stage: CaseState['stage'], status: CaseState['status'] = c.state.status): void {
  c.state.stage = stage;
  c.state.status = status;
  // A closed case's clock has stopped; the closing event carries its last reading, settled.
  if (stage === 'closed' && c.state.sla && !c.state.sla.settled) c.state.sla = { ...c.state.sla, settled: true };
}

/** The longest a province call may keep retrying before the case waits for a person. */
export function retryBudgetMs(t: CaseInput['timing']): number {
  let total = 0;
  let interval = t.retryInitialIntervalMs;
  for (let i = 0; i < t.retryMaximumAttempts; i++) {
    total += t.callTimeoutMs + interval;
    interval = Math.min(interval * 2, t.retryMaximumIntervalMs);
  }
  return total;
}
