// One durable workflow per case (办件): intake → precheck → transfer → review → decision →
// delivery → closed. It is driven by the item definition pinned in its input; everything that
// can change (province endpoints, secrets, the stores) lives behind activities.
import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { ELicenceCheck, ProjectionActivities, ProvinceActivities } from '../activities/index.js';
import type { CaseInput, CaseStage, CaseState, CaseStatus, ProvinceEvent, ProvinceEventType } from '../domain/case.js';
import { missingRequiredMaterials } from '../domain/items.js';
import { provinceOf } from '../domain/regions.js';
import {
  CASE_STAGE_KEY,
  CASE_STATUS_KEY,
  CASE_TASK_QUEUE,
  confirmDeliveryUpdate,
  getStateQuery,
  NEEDS_INTERVENTION_KEY,
  provinceEventSignal,
  provinceTaskQueue,
  retryUpdate,
  withdrawUpdate,
  type DeliveryConfirmation,
  type StaffCommand,
} from './messages.js';

/** Cap of the status-poll backoff for cases whose input predates statusPollMaxMs. */
const DEFAULT_STATUS_POLL_MAX_MS = 6 * 60 * 60 * 1000;

/** How long a projection write may take before Temporal retries it (it is retried until it succeeds). */
const PROJECTION_TIMEOUT = '30 seconds';

export async function caseWorkflow(input: CaseInput): Promise<CaseState> {
  const { caseId, item, timing } = input;
  const provinceCode = provinceOf(input.handlingRegion);

  const store = proxyActivities<ProjectionActivities>({
    taskQueue: CASE_TASK_QUEUE,
    startToCloseTimeout: PROJECTION_TIMEOUT,
    retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
  });
  // Past the retry budget a province call fails, and the case waits for a person (rule 3).
  const province = proxyActivities<ProvinceActivities>({
    taskQueue: provinceTaskQueue(provinceCode),
    startToCloseTimeout: timing.callTimeoutMs,
    scheduleToCloseTimeout: retryBudgetMs(timing),
    retry: {
      initialInterval: timing.retryInitialIntervalMs,
      maximumInterval: timing.retryMaximumIntervalMs,
      backoffCoefficient: 2,
      maximumAttempts: timing.retryMaximumAttempts,
    },
  });

  const state: CaseState = {
    caseId,
    itemCode: item.code,
    itemVersion: item.version,
    stage: 'intake',
    status: 'active',
    needsIntervention: null,
    provinceCaseId: null,
    decision: null,
    delivery: { method: input.delivery.method, status: 'pending' },
    transferredMaterials: [],
    lastSeq: 0,
  };

  // Province events arrive by callback (signal) or by status poll; each eventId counts once.
  const seenEventIds = new Set<string>();
  const inbox: ProvinceEvent[] = [];
  const receive = (event: ProvinceEvent) => {
    if (seenEventIds.has(event.eventId)) return;
    seenEventIds.add(event.eventId);
    inbox.push(event);
  };
  let withdrawal: StaffCommand | null = null;
  let retryRequested = false;
  let confirmation: DeliveryConfirmation | null = null;

  // Created before the handlers, which may run as soon as they are set (buffered messages).
  const main = new CancellationScope();
  let transferStarted = false;

  let searchKey = '';
  async function record(type: string, data: Record<string, unknown> = {}, actor = 'system'): Promise<void> {
    state.lastSeq += 1;
    const event = { seq: state.lastSeq, type, stage: state.stage, status: state.status, at: new Date().toISOString(), actor, data };
    const key = `${state.stage}|${state.status}|${state.needsIntervention !== null}`;
    if (key !== searchKey) {
      searchKey = key;
      upsertSearchAttributes([
        { key: CASE_STAGE_KEY, value: state.stage },
        { key: CASE_STATUS_KEY, value: state.status },
        { key: NEEDS_INTERVENTION_KEY, value: state.needsIntervention !== null },
      ]);
    }
    await store.recordCaseEvent({ event, state: { ...state, transferredMaterials: [...state.transferredMaterials] }, input: event.seq === 1 ? input : undefined });
  }

  function enter(stage: CaseStage, status: CaseStatus = state.status) {
    state.stage = stage;
    state.status = status;
  }

  /**
   * Runs a province call; past its retry budget the case is flagged and waits for a staff retry.
   * With `obsolete`, the wait also ends when the call is no longer needed (a poll made moot by
   * the callback it was standing in for); the step then returns null.
   */
  function step<T>(name: string, call: () => Promise<T>): Promise<T>;
  function step<T>(name: string, call: () => Promise<T>, obsolete: () => boolean): Promise<T | null>;
  async function step<T>(name: string, call: () => Promise<T>, obsolete: () => boolean = () => false): Promise<T | null> {
    for (;;) {
      try {
        return await call();
      } catch (err) {
        if (isCancellation(err)) throw err;
        state.needsIntervention = { step: name, error: failureMessage(err), since: new Date().toISOString() };
        retryRequested = false;
        await record('intervention.required', { step: name, error: state.needsIntervention.error });
        await condition(() => retryRequested || obsolete());
        if (!retryRequested) {
          state.needsIntervention = null;
          await record('intervention.cleared', { step: name, by: 'province event' });
          return null;
        }
      }
    }
  }

  /**
   * The next province event of one of `types`. Callbacks are the fast path; when none comes the
   * workflow polls the province's status, waiting twice as long after each poll that found
   * nothing new (up to statusPollMaxMs), so a long review keeps the history small.
   */
  async function nextProvinceEvent(types: readonly ProvinceEventType[], alsoStop: () => boolean = () => false): Promise<ProvinceEvent | null> {
    const maxWait = timing.statusPollMaxMs ?? DEFAULT_STATUS_POLL_MAX_MS;
    let wait = timing.statusPollAfterMs;
    for (;;) {
      const i = inbox.findIndex((e) => types.includes(e.type));
      if (i >= 0) return inbox.splice(i, 1)[0]!;
      if (alsoStop()) return null;
      const arrived = await condition(() => alsoStop() || inbox.some((e) => types.includes(e.type)), wait);
      if (!arrived && state.provinceCaseId) {
        const provinceCaseId = state.provinceCaseId;
        const known = seenEventIds.size;
        const status = await step('pollProvinceStatus', () => province.getProvinceCaseStatus({ provinceCode, provinceCaseId }), () => alsoStop() || inbox.some((e) => types.includes(e.type)));
        for (const e of status?.events ?? []) receive({ ...e, via: 'poll' });
        wait = seenEventIds.size > known ? timing.statusPollAfterMs : Math.min(wait * 2, maxWait);
      }
    }
  }

  setHandler(getStateQuery, () => state);
  setHandler(provinceEventSignal, receive);
  setHandler(
    withdrawUpdate,
    async (cmd) => {
      withdrawal = cmd;
      main.cancel();
      await condition(() => state.status !== 'active');
      return state;
    },
    {
      validator: (cmd) => {
        requireReason(cmd);
        if (state.status !== 'active') throw ApplicationFailure.nonRetryable(`the case is already ${state.status}`, 'CaseClosed');
        if (state.decision) throw ApplicationFailure.nonRetryable('a decision has been made; the case can no longer be withdrawn', 'DecisionMade');
        if (withdrawal) throw ApplicationFailure.nonRetryable('the case is already being withdrawn', 'WithdrawalPending');
      },
    },
  );
  setHandler(
    retryUpdate,
    async (cmd) => {
      const stuck = state.needsIntervention!;
      // Cleared here, so the projection shows the case as no longer stuck while the step runs
      // again; a failure past the budget flags it anew.
      state.needsIntervention = null;
      retryRequested = true;
      await record('intervention.retry', { step: stuck.step, reason: cmd.reason, role: cmd.role, region: cmd.region }, cmd.actor);
      return state;
    },
    {
      validator: (cmd) => {
        requireReason(cmd);
        if (!state.needsIntervention) throw ApplicationFailure.nonRetryable('the case is not waiting for an intervention', 'NothingToRetry');
      },
    },
  );
  setHandler(
    confirmDeliveryUpdate,
    async (cmd) => {
      confirmation = cmd;
      await condition(() => state.status !== 'active');
      return state;
    },
    {
      validator: (cmd) => {
        if (state.stage !== 'delivery' || state.status !== 'active') {
          throw ApplicationFailure.nonRetryable(`nothing to deliver: the case is at ${state.stage} (${state.status})`, 'NotInDelivery');
        }
        if (cmd.method !== state.delivery.method) {
          throw ApplicationFailure.nonRetryable(`the result goes out by ${state.delivery.method}, not ${cmd.method}`, 'WrongDeliveryMethod');
        }
      },
    },
  );

  async function run(): Promise<void> {
    await record('case.submitted', {
      itemCode: item.code,
      itemVersion: item.version,
      channel: input.channel,
      receivingRegion: input.receivingRegion,
      handlingRegion: input.handlingRegion,
      materials: input.materials.map((m) => m.materialCode),
    }, input.submittedBy.id);

    // Precheck (收件标准): required materials present, e-licences verified with the issuing system.
    enter('precheck');
    const problems = missingRequiredMaterials(item, input.materials).map((code) => `required material ${code} is missing`);
    const checks: ELicenceCheck[] = [];
    for (const def of item.materials) {
      const submitted = input.materials.find((m) => m.materialCode === def.code);
      if (!def.eLicence || !submitted) continue;
      const licenceType = def.eLicence.licenceType;
      const check = await step(`verifyELicence:${def.code}`, () =>
        province.verifyELicence({ provinceCode, materialCode: def.code, licenceType, holderName: input.applicant.name, holderIdNumber: input.applicant.idNumber, sha256: submitted.sha256 }),
      );
      checks.push(check);
      if (!check.valid) problems.push(`e-licence ${def.code} could not be verified: ${check.reason ?? 'invalid'}`);
    }
    const eLicences = checks.map(({ materialCode, valid, issuer }) => ({ materialCode, valid, issuer }));
    if (problems.length > 0) {
      enter('closed', 'not_accepted');
      await record('precheck.failed', { problems, eLicences });
      return;
    }
    await record('precheck.passed', { eLicences });

    // Transfer (材料流转): create the case at the handling authority, then send every material.
    enter('transfer');
    transferStarted = true;
    const created = await step('createProvinceCase', () =>
      province.createProvinceCase({ caseId, provinceCode, idempotencyKey: `${caseId}:create`, input }),
    );
    state.provinceCaseId = created.provinceCaseId;
    await record('transfer.created', { provinceCaseId: created.provinceCaseId });
    for (const m of input.materials) {
      const sent = await step(`uploadMaterial:${m.materialCode}`, () =>
        province.uploadMaterial({
          caseId,
          provinceCode,
          idempotencyKey: `${caseId}:material:${m.materialCode}`,
          provinceCaseId: created.provinceCaseId,
          materialCode: m.materialCode,
          sha256: m.sha256,
          contentType: m.contentType,
        }),
      );
      state.transferredMaterials.push(m.materialCode);
      await record('material.transferred', { materialCode: m.materialCode, sha256: sent.sha256, size: sent.size });
    }
    await step('submitProvinceCase', () =>
      province.submitProvinceCase({ caseId, provinceCode, idempotencyKey: `${caseId}:submit`, provinceCaseId: created.provinceCaseId }),
    );
    enter('review');
    await record('review.started', { provinceCaseId: created.provinceCaseId, materials: state.transferredMaterials.length });

    // Review (审核) at the handling authority, until its decision.
    let decisionEvent: ProvinceEvent;
    for (;;) {
      const event = (await nextProvinceEvent(['case.accepted', 'case.approved', 'case.rejected']))!;
      if (event.type !== 'case.accepted') {
        decisionEvent = event;
        break;
      }
      await record('review.accepted', { eventId: event.eventId, via: event.via }, `province:${provinceCode}`);
    }

    enter('decision');
    const approved = decisionEvent.type === 'case.approved';
    const reasons = approved ? [] : stringList(decisionEvent.data.reasons);
    state.decision = { outcome: approved ? 'approved' : 'rejected', reasons, at: decisionEvent.at };
    await record(approved ? 'decision.approved' : 'decision.rejected', { eventId: decisionEvent.eventId, via: decisionEvent.via, reasons }, `province:${provinceCode}`);
    if (!approved) {
      enter('closed', 'rejected');
      await record('case.closed', { outcome: 'rejected' });
      return;
    }

    // Delivery (送达).
    enter('delivery');
    await deliver(decisionEvent);
    enter('closed', 'completed');
    await record('case.completed', { delivery: state.delivery.method });
  }

  async function deliver(approval: ProvinceEvent): Promise<void> {
    const method = state.delivery.method;
    if (method === 'electronic') {
      const certificate = approval.data.certificate as CaseState['delivery']['certificate'];
      state.delivery = { ...state.delivery, status: 'issued', certificate };
      await record('delivery.issued', { certificate: certificate ?? null }, `province:${provinceCode}`);
      return;
    }
    await record('delivery.awaiting', { method });
    if (method === 'mail') {
      const mailed = await nextProvinceEvent(['delivery.mailed', 'delivery.received'], () => confirmation !== null);
      if (mailed?.type === 'delivery.mailed') {
        state.delivery = { ...state.delivery, status: 'mailed', trackingNumber: stringOr(mailed.data.trackingNumber) };
        await record('delivery.mailed', { trackingNumber: state.delivery.trackingNumber ?? null, via: mailed.via }, `province:${provinceCode}`);
      }
      const received = mailed?.type === 'delivery.received' ? mailed : await nextProvinceEvent(['delivery.received'], () => confirmation !== null);
      if (received) {
        state.delivery = { ...state.delivery, status: 'confirmed', confirmedBy: `province:${provinceCode}`, confirmedAt: received.at };
        await record('delivery.confirmed', { signedBy: stringOr(received.data.signedBy) ?? null, via: received.via }, `province:${provinceCode}`);
        return;
      }
    } else {
      await condition(() => confirmation !== null);
    }
    const c = confirmation!;
    state.delivery = { ...state.delivery, status: 'confirmed', confirmedBy: c.actor, confirmedAt: new Date().toISOString() };
    await record('delivery.confirmed', { method: c.method, note: c.note ?? null, role: c.role, region: c.region }, c.actor);
  }

  try {
    await main.run(run);
  } catch (err) {
    if (!(withdrawal && isCancellation(err))) throw err;
  }
  if (withdrawal) await finishWithdrawal(withdrawal);
  await condition(allHandlersFinished);
  return state;

  /** After a withdrawal cancelled the main flow: tell the province (if it has the case) and close. */
  async function finishWithdrawal(cmd: StaffCommand): Promise<void> {
    await CancellationScope.nonCancellable(async () => {
      state.needsIntervention = null;
      await record('case.withdrawal_requested', { reason: cmd.reason, role: cmd.role, region: cmd.region }, cmd.actor);
      let provinceResult: string | null = null;
      if (transferStarted) {
        try {
          // A create cut short by the withdrawal may still have reached the province: the same
          // idempotency key returns that case (or creates it), so nothing is left orphaned there.
          const provinceCaseId =
            state.provinceCaseId ??
            (await province.createProvinceCase({ caseId, provinceCode, idempotencyKey: `${caseId}:create`, input })).provinceCaseId;
          state.provinceCaseId = provinceCaseId;
          const res = await province.withdrawProvinceCase({ caseId, provinceCode, idempotencyKey: `${caseId}:withdraw`, provinceCaseId, reason: cmd.reason });
          provinceResult = res.status;
        } catch (err) {
          // The province refused (e.g. it decided meanwhile) or stayed down past the budget: the
          // applicant's withdrawal stands on our side; the outcome is on the record for staff.
          provinceResult = `failed: ${failureMessage(err)}`;
        }
      }
      enter('closed', 'withdrawn');
      await record('case.withdrawn', { reason: cmd.reason, province: provinceResult }, cmd.actor);
    });
  }
}

function retryBudgetMs(t: CaseInput['timing']): number {
  let total = 0;
  let interval = t.retryInitialIntervalMs;
  for (let i = 0; i < t.retryMaximumAttempts; i++) {
    total += t.callTimeoutMs + interval;
    interval = Math.min(interval * 2, t.retryMaximumIntervalMs);
  }
  return total;
}

function failureMessage(err: unknown): string {
  const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

function requireReason(cmd: StaffCommand): void {
  if (!cmd.actor || !cmd.reason || cmd.reason.trim().length < 2) {
    throw ApplicationFailure.nonRetryable('a staff action needs an actor and a reason', 'ReasonRequired');
  }
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
