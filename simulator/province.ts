// The simulated handling authorities: per-province state and the case lifecycle of
// docs/province-protocol.md (create → materials → submit → accepted → decision → delivery),
// with the review's detours a scenario asks for: correction notices answered by supplements
// (补正, `correction`, `correction-2`) and an art. 45 procedure that pauses the clock (`procedure`).
// Request and response shapes come from contracts/province.ts; HTTP concerns (signatures,
// routing, status codes of the transport) live in server.ts, the state file in persistence.ts.
//
// Everything a restart must not forget is plain data here: the cases with their events, the
// due time of each case's next step (rearmed on restore, so a review in progress completes) and
// each case's queue of undelivered callbacks (resumed on restore, backoff included).
import { randomBytes } from 'node:crypto';
import {
  ALREADY_DECIDED_SLUG,
  ANSWER_INCOMPLETE_SLUG,
  DECIDED_OUTCOME,
  NOT_APPROVED_SLUG,
  NOTICE_NOT_OPEN_SLUG,
  UNKNOWN_CASE_SLUG,
  type CorrectionAnswerRequest,
  type CreateCaseRequest,
  type Deficiency,
  type LicenceVerifyRequest,
  type ProvinceCaseStatusName,
} from '../contracts/province.js';
import { sha256Hex } from '../crypto/signing.js';
import type { ProvinceEventType } from '../domain/case.js';
import { ID_NUMBER_MESSAGES, idNumberProblem } from '../domain/idNumber.js';
import { provinceOf } from '../domain/regions.js';
import { deliverCallback, type CallbackRetryPolicy } from './callbacks.js';
import { withLicence } from './elicences.js';
import { ProblemError } from './problem.js';
import type { LiaisonCallbackEvent, LiaisonReceived } from './liaison.js';
import { resolveScenario, type Scenario, type ScenarioRule, type Subject } from './scenarios.js';
import { Scheduler } from './scheduler.js';

export type ProvinceCaseStatus = ProvinceCaseStatusName;

/** The body of a callback, and an entry of a status poll's `events`. */
export interface ProvinceCallbackEvent {
  eventId: string;
  caseId: string;
  type: ProvinceEventType;
  at: string;
  data: Record<string, unknown>;
}

export interface ReceivedMaterial {
  materialCode: string;
  sha256: string;
  size: number;
  receivedAt: string;
}

/** A supplement (补正材料): one revision of a material, uploaded while a notice was open. */
export interface SupplementRevision extends ReceivedMaterial {
  revision: number;
  /** The notice that was open when it arrived; only that notice's answer may cite it. */
  noticeId: string;
}

/** A correction notice (一次性告知) and, once answered, the supplements that answered it. */
export interface CorrectionNotice {
  noticeId: string;
  round: number;
  deficiencies: Deficiency[];
  issuedAt: string;
  answeredAt: string | null;
  answer: CorrectionAnswerRequest['items'] | null;
}

/** An art. 45 procedure (here always an expert review); `endedAt` null while it runs. */
export interface ProcedureRecord {
  procedureId: string;
  startedAt: string;
  endedAt: string | null;
}

export interface CaseStatusBody {
  provinceCaseId: string;
  caseId: string;
  status: ProvinceCaseStatus;
  events: ProvinceCallbackEvent[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  idempotencyKey: string | null;
  status: number;
  at: string;
  /** The W3C trace context the caller sent (tongban with tracing on); absent when it sent none. */
  traceparent?: string;
}

/** A response a route produces: `replayed` when it comes from the idempotency store. */
export interface Outcome {
  status: number;
  body: unknown;
  replayed?: boolean;
}

/** The next step of a case's lifecycle and when it is due (epoch ms). */
export interface DueStep {
  action: 'decide' | 'mail' | 'receive' | 'correct' | 'startProcedure' | 'endProcedure';
  at: number;
}

/** A callback waiting to be delivered; the first of a case's queue is the one being tried. */
export interface QueuedCallback {
  /** A case event, or (with `path: '/liaison'`) a liaison event. */
  event: ProvinceCallbackEvent | LiaisonCallbackEvent;
  /** Appended to the case's callback URL (liaison events go to `<callbackUrl>/liaison`). */
  path?: string;
  firstAttemptAt: number | null;
  attemptsMade: number;
}

export interface SimCase {
  provinceCaseId: string;
  request: CreateCaseRequest;
  status: ProvinceCaseStatus;
  materials: Map<string, ReceivedMaterial>;
  /** Every supplement revision received, in arrival order. */
  supplements: SupplementRevision[];
  /** Every correction notice sent, the last one open while the case is `awaiting_supplement`. */
  notices: CorrectionNotice[];
  procedures: ProcedureRecord[];
  events: ProvinceCallbackEvent[];
  due: DueStep | null;
  /** Callbacks go out one after another, so they arrive in order unless one is given up. */
  outbox: QueuedCallback[];
  trackingNumber: string | null;
  /** Liaison messages received from tongban (工作联络), in arrival order. */
  liaison: LiaisonReceived[];
}

export interface StoredResponse {
  fingerprint: string;
  /** A repeat may answer with a different status than the first response (a material: 201, then 200). */
  replayStatus: number;
  body: unknown;
}

const REJECTION_REASONS = [
  '申请材料中的身份信息与电子证照库记录不一致，无法核实申请人身份',
  '申请人不符合本事项的受理条件，请补齐相关证明材料后重新申请',
];

/** Everything `reset()` forgets; the id counters of `Province` continue. */
export class ProvinceState {
  readonly cases = new Map<string, SimCase>();
  readonly idempotency = new Map<string, StoredResponse>();
  readonly requests: RecordedRequest[] = [];
  readonly flakyCounts = new Map<string, number>();
  scenario: Scenario = 'approve';
}

export interface ProvinceCounters {
  cases: number;
  certificates: number;
  tracking: number;
}

export class Province {
  state = new ProvinceState();
  counters: ProvinceCounters = { cases: 0, certificates: 0, tracking: 0 };

  constructor(
    readonly code: string,
    readonly name: string,
    readonly secret: string,
  ) {}

  reset(): void {
    this.state = new ProvinceState();
  }

  nextCaseId(): string {
    return `${this.code}-${pad(++this.counters.cases, 6)}`;
  }

  /**
   * Unique for good, not per process: time-ordered (13-digit epoch ms) plus 64 random bits, so
   * ids made after a restart never repeat earlier ones, with or without a state file.
   */
  nextEventId(): string {
    return `${this.code}-evt-${pad(Date.now(), 13)}-${randomBytes(8).toString('hex')}`;
  }

  nextCertificateId(): string {
    return `${this.code}-cert-${pad(++this.counters.certificates, 6)}`;
  }

  /** A 13-digit domestic EMS-style number. */
  nextTrackingNumber(): string {
    return `11${this.code.slice(0, 2)}${pad(++this.counters.tracking, 9)}`;
  }

  /** Counts requests per key; true for the 1st, 3rd, 5th … (the ones a flaky province fails). */
  flakyTurn(key: string): boolean {
    const count = (this.state.flakyCounts.get(key) ?? 0) + 1;
    this.state.flakyCounts.set(key, count);
    return count % 2 === 1;
  }
}

export interface SimulationOptions {
  reviewDelayMs: number;
  /** Correction scenarios: from submission (or an answer that leaves a round to go) to the notice. */
  correctionDelayMs: number;
  /** The procedure scenario: from submission to the procedure's start, and again to its end. */
  procedureDelayMs: number;
  deliveryDelayMs: number;
  slowMs: number;
  callbackRetry: CallbackRetryPolicy;
  onCallbackGivenUp: (event: ProvinceCallbackEvent | LiaisonCallbackEvent, url: string) => void;
  /** Called after every change worth persisting. */
  onChange: () => void;
}

export function subjectOfCase(request: CreateCaseRequest): Subject {
  return { operation: 'case', caseId: request.caseId, applicantName: request.applicant.name, itemCode: request.itemCode };
}

export class ProvinceSimulation {
  private scheduler = new Scheduler();
  private rules: ScenarioRule[] = [];
  /** Cases whose callback queue is being worked on (one worker per case keeps the order). */
  private readonly pumping = new Set<SimCase>();

  constructor(
    readonly provinces: ReadonlyMap<string, Province>,
    private readonly options: SimulationOptions,
  ) {}

  province(code: string): Province {
    const province = this.provinces.get(code);
    if (!province) throw new ProblemError(404, 'unknown-province', 'Unknown province', `no simulated province ${code}`);
    return province;
  }

  setScenario(code: string, scenario: Scenario): void {
    this.province(code).state.scenario = scenario;
    this.options.onChange();
  }

  addRule(rule: ScenarioRule): void {
    this.rules.push({ match: { ...rule.match }, scenario: rule.scenario });
    this.options.onChange();
  }

  /** Ends the rules with exactly this match (a province that was down for some cases is back). */
  removeRules(match: ScenarioRule['match']): void {
    const key = JSON.stringify(Object.entries(match).sort());
    this.rules = this.rules.filter((r) => JSON.stringify(Object.entries(r.match).sort()) !== key);
    this.options.onChange();
  }

  get scenarioRules(): readonly ScenarioRule[] {
    return this.rules;
  }

  scenarioFor(province: Province, subject: Subject): Scenario {
    return resolveScenario(this.rules, province.state.scenario, { ...subject, province: province.code });
  }

  /** Lets a request through or throws the 503 its scenario calls for. */
  admit(province: Province, scenario: Scenario, flakyKey: string): void {
    if (scenario === 'down') throw unavailable(`province ${province.code} is down`);
    if (scenario === 'flaky' && province.flakyTurn(flakyKey)) throw unavailable(`province ${province.code} failed this request (flaky)`);
  }

  /** The extra latency of the 'slow' scenario; released early by reset() and close(). */
  slowDown(): Promise<void> {
    return this.scheduler.sleep(this.options.slowMs);
  }

  reset(): void {
    this.scheduler.dispose();
    this.scheduler = new Scheduler();
    this.rules = [];
    this.pumping.clear();
    for (const province of this.provinces.values()) province.reset();
    this.options.onChange();
  }

  dispose(): void {
    this.scheduler.dispose();
  }

  /** After restoring state: rearm every due step and resume every callback queue. */
  resume(rules: readonly ScenarioRule[]): void {
    this.rules = rules.map((rule) => ({ match: { ...rule.match }, scenario: rule.scenario }));
    for (const province of this.provinces.values()) {
      for (const simCase of province.state.cases.values()) {
        this.arm(province, simCase);
        this.pump(province, simCase);
      }
    }
  }

  /** Runs `run` once per idempotency key and answers repeats from the store; only successes are stored. */
  idempotent(province: Province, key: string, fingerprint: string, run: () => Outcome & { replayStatus?: number }): Outcome {
    const stored = province.state.idempotency.get(key);
    if (stored) {
      if (stored.fingerprint !== fingerprint) {
        throw new ProblemError(409, 'idempotency-key-reused', 'Idempotency key reused', `Idempotency-Key ${key} was first used with a different request`);
      }
      return { status: stored.replayStatus, body: stored.body, replayed: true };
    }
    const outcome = run();
    if (outcome.status < 300) {
      province.state.idempotency.set(key, { fingerprint, replayStatus: outcome.replayStatus ?? outcome.status, body: outcome.body });
      this.options.onChange();
    }
    return { status: outcome.status, body: outcome.body };
  }

  /** The province's case for a tongban case id; 404 when it has none. */
  caseByTongbanId(code: string, caseId: string): SimCase {
    const province = this.province(code);
    for (const simCase of province.state.cases.values()) if (simCase.request.caseId === caseId) return simCase;
    throw new ProblemError(404, 'unknown-case', 'Unknown case', `province ${code} has no case for ${caseId}`);
  }

  /** Persists a change made outside the simulation's own methods (e.g. liaison). */
  changed(): void {
    this.options.onChange();
  }

  caseOf(province: Province, provinceCaseId: string): SimCase {
    const found = province.state.cases.get(provinceCaseId);
    if (!found) throw unknownCase(`no case ${provinceCaseId} at province ${province.code}`);
    return found;
  }

  /** `GET /cases?caseId=…`: the province's case for a tongban case id, without creating one. */
  findCase(province: Province, caseId: string): Outcome {
    const found = [...province.state.cases.values()].find((c) => c.request.caseId === caseId);
    if (!found) throw unknownCase(`province ${province.code} has no case for ${caseId}`);
    return { status: 200, body: { provinceCaseId: found.provinceCaseId, caseId, status: found.status } };
  }

  createCase(province: Province, request: CreateCaseRequest): Outcome {
    if (provinceOf(request.handlingRegion) !== province.code) {
      throw new ProblemError(422, 'wrong-province', 'Wrong province', `handlingRegion ${request.handlingRegion} is not in province ${province.code}`);
    }
    const simCase: SimCase = {
      provinceCaseId: province.nextCaseId(),
      request,
      status: 'awaiting_materials',
      materials: new Map(),
      supplements: [],
      notices: [],
      procedures: [],
      events: [],
      due: null,
      outbox: [],
      trackingNumber: null,
      liaison: [],
    };
    province.state.cases.set(simCase.provinceCaseId, simCase);
    this.options.onChange();
    return { status: 201, body: { provinceCaseId: simCase.provinceCaseId, status: simCase.status } };
  }

  uploadMaterial(simCase: SimCase, materialCode: string, bytes: Buffer, claimedSha256: string | undefined, revision?: number): Outcome & { replayStatus: number } {
    if (revision !== undefined) return this.uploadSupplement(simCase, materialCode, bytes, claimedSha256, revision);
    const declared = simCase.request.materials.find((m) => m.materialCode === materialCode);
    if (!declared) throw new ProblemError(404, 'unknown-material', 'Undeclared material', `material ${materialCode} was not declared when ${simCase.provinceCaseId} was created`);
    const actual = checkedHash(bytes, claimedSha256);
    if (actual !== declared.sha256) throw hashMismatch(`material ${materialCode} was declared with sha256 ${declared.sha256} but the body hashes to ${actual}`);
    requireOpen(simCase);
    const received: ReceivedMaterial = { materialCode, sha256: actual, size: bytes.length, receivedAt: new Date().toISOString() };
    simCase.materials.set(materialCode, received);
    this.options.onChange();
    return { status: 201, body: received, replayStatus: 200 };
  }

  /**
   * `PUT …/materials/{code}?revision=N`: a supplement, taken only while a notice is open, for a
   * declared material or one the notice names. The body must hash to X-Content-SHA256 (there is
   * no declared hash to compare with: a supplement differs from the original by definition).
   * Each revision is kept; the same revision again with other bytes is a conflict.
   */
  private uploadSupplement(simCase: SimCase, materialCode: string, bytes: Buffer, claimedSha256: string | undefined, revision: number): Outcome & { replayStatus: number } {
    const notice = openNotice(simCase);
    if (!notice) {
      throw new ProblemError(409, NOTICE_NOT_OPEN_SLUG, 'No notice open', `case ${simCase.provinceCaseId} is ${simCase.status}; supplements are taken only while a correction notice is open`);
    }
    const known = simCase.request.materials.some((m) => m.materialCode === materialCode) || notice.deficiencies.some((d) => d.materialCode === materialCode);
    if (!known) throw new ProblemError(404, 'unknown-material', 'Unknown material', `material ${materialCode} was neither declared for ${simCase.provinceCaseId} nor named by notice ${notice.noticeId}`);
    const actual = checkedHash(bytes, claimedSha256);
    const existing = simCase.supplements.find((s) => s.materialCode === materialCode && s.revision === revision);
    if (existing) {
      if (existing.sha256 !== actual) {
        throw new ProblemError(409, 'revision-conflict', 'Revision conflict', `revision ${revision} of ${materialCode} was received with sha256 ${existing.sha256}; send a new revision`);
      }
      return { status: 200, body: receiptOf(existing), replayStatus: 200 };
    }
    const received: SupplementRevision = { materialCode, sha256: actual, size: bytes.length, receivedAt: new Date().toISOString(), revision, noticeId: notice.noticeId };
    simCase.supplements.push(received);
    this.options.onChange();
    return { status: 201, body: receiptOf(received), replayStatus: 200 };
  }

  submit(province: Province, simCase: SimCase): Outcome {
    requireOpen(simCase);
    const missing = simCase.request.materials.map((m) => m.materialCode).filter((code) => !simCase.materials.has(code));
    if (missing.length > 0) throw new ProblemError(409, 'missing-materials', 'Materials missing', `missing materials: ${missing.join(', ')}`);
    simCase.status = 'reviewing';
    this.emit(province, simCase, 'case.accepted', { provinceCaseId: simCase.provinceCaseId });
    const scenario = this.scenarioFor(province, subjectOfCase(simCase.request));
    if (correctionRounds(scenario) > 0) this.schedule(province, simCase, 'correct', this.options.correctionDelayMs);
    else if (scenario === 'procedure') this.schedule(province, simCase, 'startProcedure', this.options.procedureDelayMs);
    else this.schedule(province, simCase, 'decide', this.options.reviewDelayMs);
    return { status: 202, body: { status: simCase.status } };
  }

  /**
   * `POST …/corrections/{noticeId}/answer`: closes the open notice when every deficiency has a
   * supplement uploaded for it (that revision, that hash, while this notice was open), and
   * resumes the review: another notice if the scenario has a round to go, else the decision.
   */
  answerCorrection(province: Province, simCase: SimCase, noticeId: string, body: CorrectionAnswerRequest): Outcome {
    const notice = openNotice(simCase);
    if (!notice || notice.noticeId !== noticeId) {
      const known = simCase.notices.find((n) => n.noticeId === noticeId);
      const why = !known ? 'no such notice' : known.answeredAt ? `it was answered at ${known.answeredAt}` : `the case is ${simCase.status}`;
      throw new ProblemError(409, NOTICE_NOT_OPEN_SLUG, 'Notice not open', `notice ${noticeId} of case ${simCase.provinceCaseId} is not open: ${why}`);
    }
    const items = new Map(body.items.map((item) => [item.materialCode, item]));
    const unanswered = notice.deficiencies.map((d) => d.materialCode).filter((code) => !items.has(code));
    const notInNotice = body.items.map((i) => i.materialCode).filter((code) => !notice.deficiencies.some((d) => d.materialCode === code));
    const notReceived = body.items
      .filter((i) => !notInNotice.includes(i.materialCode))
      .filter((i) => !simCase.supplements.some((s) => s.noticeId === noticeId && s.materialCode === i.materialCode && s.revision === i.revision && s.sha256 === i.sha256))
      .map((i) => i.materialCode);
    if (unanswered.length + notInNotice.length + notReceived.length > 0) {
      const parts = [
        unanswered.length > 0 ? `deficiencies left unanswered: ${unanswered.join(', ')}` : '',
        notReceived.length > 0 ? `no supplement of that revision and hash was received for this notice: ${notReceived.join(', ')}` : '',
        notInNotice.length > 0 ? `not named by the notice: ${notInNotice.join(', ')}` : '',
      ].filter(Boolean);
      throw new ProblemError(422, ANSWER_INCOMPLETE_SLUG, 'Answer incomplete', `notice ${noticeId}: ${parts.join('; ')}`, { unanswered, notReceived, notInNotice });
    }
    notice.answeredAt = new Date().toISOString();
    notice.answer = body.items;
    simCase.status = 'reviewing';
    const scenario = this.scenarioFor(province, subjectOfCase(simCase.request));
    if (simCase.notices.length < correctionRounds(scenario)) this.schedule(province, simCase, 'correct', this.options.correctionDelayMs);
    else this.schedule(province, simCase, 'decide', this.options.reviewDelayMs);
    return { status: 202, body: { noticeId, status: simCase.status, answeredAt: notice.answeredAt } };
  }

  /** Revokes an approval (a joint case failed after this step approved); anything else is a 409. */
  revoke(simCase: SimCase): Outcome {
    if (simCase.status !== 'approved' && simCase.status !== 'delivered') {
      throw new ProblemError(409, NOT_APPROVED_SLUG, 'Not approved', `case ${simCase.provinceCaseId} is ${simCase.status}; only an approval can be revoked`);
    }
    simCase.status = 'revoked';
    simCase.due = null;
    this.options.onChange();
    return { status: 200, body: { status: simCase.status } };
  }

  /** Withdraws an undecided case; a decided one is a 409 `already-decided` that carries the decision. */
  withdraw(simCase: SimCase): Outcome {
    const outcome = DECIDED_OUTCOME[simCase.status];
    if (outcome) {
      throw new ProblemError(409, ALREADY_DECIDED_SLUG, 'Already decided', `case ${simCase.provinceCaseId} is ${simCase.status}; it can no longer be withdrawn`, {
        outcome,
        caseStatus: simCase.status,
      });
    }
    simCase.status = 'withdrawn';
    simCase.due = null;
    this.options.onChange();
    return { status: 200, body: { status: simCase.status } };
  }

  status(simCase: SimCase): CaseStatusBody {
    return { provinceCaseId: simCase.provinceCaseId, caseId: simCase.request.caseId, status: simCase.status, events: [...simCase.events] };
  }

  verifyLicence(province: Province, request: LicenceVerifyRequest, scenario: Scenario): Outcome {
    const idProblem = idNumberProblem(request.holderIdNumber);
    if (idProblem) return { status: 200, body: { valid: false, reason: `持有人身份号码无效：${ID_NUMBER_MESSAGES[idProblem]}` } };
    if (scenario === 'elicence-invalid') return { status: 200, body: { valid: false, reason: '电子证照库中未查询到该持有人的有效证照' } };
    const licenceNumber = `DZZZ-${province.code}-${sha256Hex(`${request.licenceType}:${request.holderIdNumber}`).slice(0, 16).toUpperCase()}`;
    return { status: 200, body: { valid: true, licenceNumber, issuer: `${province.name}电子证照库`, checkedAt: new Date().toISOString() } };
  }

  /** Sets the case's next step `delayMs` from now; persisted, so a restart rearms it. */
  private schedule(province: Province, simCase: SimCase, action: DueStep['action'], delayMs: number): void {
    simCase.due = { action, at: Date.now() + delayMs };
    this.options.onChange();
    this.arm(province, simCase);
  }

  private arm(province: Province, simCase: SimCase): void {
    const due = simCase.due;
    if (!due) return;
    this.scheduler.after(Math.max(0, due.at - Date.now()), () => {
      if (simCase.due !== due) return; // withdrawn or replaced meanwhile
      simCase.due = null;
      if (due.action === 'decide') this.decide(province, simCase);
      else if (due.action === 'mail') this.mail(province, simCase);
      else if (due.action === 'correct') this.requireCorrection(province, simCase);
      else if (due.action === 'startProcedure') this.startProcedure(province, simCase);
      else if (due.action === 'endProcedure') this.endProcedure(province, simCase);
      else this.receive(province, simCase);
      this.options.onChange();
    });
  }

  private decide(province: Province, simCase: SimCase): void {
    if (simCase.status !== 'reviewing') return; // withdrawn meanwhile
    if (this.scenarioFor(province, subjectOfCase(simCase.request)) === 'reject') {
      simCase.status = 'rejected';
      this.emit(province, simCase, 'case.rejected', { provinceCaseId: simCase.provinceCaseId, reasons: [...REJECTION_REASONS] });
      return;
    }
    simCase.status = 'approved';
    const method = simCase.request.delivery.method;
    const data: Record<string, unknown> = { provinceCaseId: simCase.provinceCaseId };
    if (method === 'electronic') data.certificate = this.issueCertificate(province, simCase);
    this.emit(province, simCase, 'case.approved', data);
    if (method === 'mail') this.schedule(province, simCase, 'mail', this.options.deliveryDelayMs);
  }

  /** Sends the next round's one-time notice and waits for its answer (no due step: the applicant's time). */
  private requireCorrection(province: Province, simCase: SimCase): void {
    if (simCase.status !== 'reviewing') return; // withdrawn meanwhile
    const round = simCase.notices.length + 1;
    const notice: CorrectionNotice = {
      noticeId: `${simCase.provinceCaseId}-bz${round}`,
      round,
      deficiencies: deficienciesFor(simCase.request, round),
      issuedAt: new Date().toISOString(),
      answeredAt: null,
      answer: null,
    };
    simCase.notices.push(notice);
    simCase.status = 'awaiting_supplement';
    this.emit(province, simCase, 'review.correction_required', { noticeId: notice.noticeId, deficiencies: notice.deficiencies });
  }

  /** An expert review (专家评审) under art. 45, told to the applicant in writing (`noticeRef`). */
  private startProcedure(province: Province, simCase: SimCase): void {
    if (simCase.status !== 'reviewing') return;
    const n = simCase.procedures.length + 1;
    const procedure: ProcedureRecord = { procedureId: `${simCase.provinceCaseId}-proc${n}`, startedAt: new Date().toISOString(), endedAt: null };
    simCase.procedures.push(procedure);
    this.emit(province, simCase, 'review.procedure_started', {
      procedureId: procedure.procedureId,
      kind: 'expert_review',
      reason: '申请事项涉及专业技术问题，需组织专家评审',
      expectedEnd: shanghaiDate(Date.now() + this.options.procedureDelayMs),
      noticeRef: `${simCase.provinceCaseId}-gz${n}`,
    });
    this.schedule(province, simCase, 'endProcedure', this.options.procedureDelayMs);
  }

  private endProcedure(province: Province, simCase: SimCase): void {
    const procedure = simCase.procedures.find((p) => p.endedAt === null);
    if (simCase.status !== 'reviewing' || !procedure) return;
    procedure.endedAt = new Date().toISOString();
    this.emit(province, simCase, 'review.procedure_ended', { procedureId: procedure.procedureId, result: '专家评审意见：申请人符合条件' });
    this.schedule(province, simCase, 'decide', this.options.reviewDelayMs);
  }

  private issueCertificate(province: Province, simCase: SimCase): Record<string, unknown> {
    const certificateId = province.nextCertificateId();
    const issuedAt = new Date().toISOString();
    const document = JSON.stringify({ certificateId, caseId: simCase.request.caseId, itemCode: simCase.request.itemCode, issuedAt });
    // With the province's electronic licence, signed by its issuing authority (simulator/elicences.ts).
    return withLicence(province, simCase, { certificateId, issuer: `${province.name}政务服务中心`, sha256: sha256Hex(document), issuedAt });
  }

  private mail(province: Province, simCase: SimCase): void {
    simCase.trackingNumber = province.nextTrackingNumber();
    this.emit(province, simCase, 'delivery.mailed', { trackingNumber: simCase.trackingNumber });
    this.schedule(province, simCase, 'receive', this.options.deliveryDelayMs);
  }

  private receive(province: Province, simCase: SimCase): void {
    if (this.scenarioFor(province, subjectOfCase(simCase.request)) === 'mail-returned') {
      this.emit(province, simCase, 'delivery.returned', { trackingNumber: simCase.trackingNumber, reason: '收件人地址不详，无法投递，邮件退回' });
      return;
    }
    simCase.status = 'delivered';
    this.emit(province, simCase, 'delivery.received', { trackingNumber: simCase.trackingNumber, signedBy: simCase.request.applicant.name });
  }

  /** Records the event (a status poll shows it) and queues its callback as the scenario says. */
  private emit(province: Province, simCase: SimCase, type: ProvinceEventType, data: Record<string, unknown>): void {
    const event: ProvinceCallbackEvent = { eventId: province.nextEventId(), caseId: simCase.request.caseId, type, at: new Date().toISOString(), data };
    simCase.events.push(event);
    const scenario = this.scenarioFor(province, subjectOfCase(simCase.request));
    if (scenario !== 'lost-callback') {
      const copies = scenario === 'duplicate-callback' ? 2 : 1;
      for (let i = 0; i < copies; i++) simCase.outbox.push({ event, firstAttemptAt: null, attemptsMade: 0 });
    }
    this.options.onChange();
    this.pump(province, simCase);
  }

  /**
   * The authority writes to the window (`liaison.message`) or acknowledges a message it received
   * (`liaison.acknowledged`): a signed callback to `<callbackUrl>/liaison`, queued after the case's
   * other callbacks. Never part of the status poll.
   */
  emitLiaison(province: Province, simCase: SimCase, type: LiaisonCallbackEvent['type'], data: Record<string, unknown>): LiaisonCallbackEvent {
    const event: LiaisonCallbackEvent = { eventId: province.nextEventId(), caseId: simCase.request.caseId, type, at: new Date().toISOString(), data };
    simCase.outbox.push({ event, path: '/liaison', firstAttemptAt: null, attemptsMade: 0 });
    this.options.onChange();
    this.pump(province, simCase);
    return event;
  }

  /** Delivers the case's queued callbacks in order, each retried as the policy says. */
  private pump(province: Province, simCase: SimCase): void {
    if (simCase.outbox.length === 0 || this.pumping.has(simCase)) return;
    this.pumping.add(simCase);
    // Bound now: after reset() a queued callback must see the disposed scheduler, not the new one.
    const scheduler = this.scheduler;
    const url = simCase.request.callbackUrl;
    const work = async () => {
      while (simCase.outbox.length > 0 && !scheduler.disposed) {
        const item = simCase.outbox[0]!;
        item.firstAttemptAt ??= Date.now();
        const delivered = await deliverCallback(
          { url: `${url}${item.path ?? ''}`, secret: province.secret, body: JSON.stringify(item.event), firstAttemptAt: item.firstAttemptAt, attemptsMade: item.attemptsMade },
          this.options.callbackRetry,
          scheduler,
          (attemptsMade) => {
            item.attemptsMade = attemptsMade;
            this.options.onChange();
          },
        );
        // Disposed (close or reset): the queue stays as it is, persisted for the next start.
        if (scheduler.disposed) return;
        if (!delivered) this.options.onCallbackGivenUp(item.event, `${url}${item.path ?? ''}`);
        simCase.outbox.shift();
        this.options.onChange();
      }
    };
    void work().finally(() => this.pumping.delete(simCase));
  }
}

/** How many correction rounds a scenario's review asks for. */
function correctionRounds(scenario: Scenario): number {
  if (scenario === 'correction') return 1;
  if (scenario === 'correction-2') return 2;
  return 0;
}

function openNotice(simCase: SimCase): CorrectionNotice | null {
  const last = simCase.notices.at(-1);
  return simCase.status === 'awaiting_supplement' && last && last.answeredAt === null ? last : null;
}

/**
 * The deficiencies of a round: the first two declared materials in round 1, the first one again
 * in later rounds (the supplement did not fix everything); a case without declared materials is
 * asked for a written statement.
 */
function deficienciesFor(request: CreateCaseRequest, round: number): Deficiency[] {
  const codes = request.materials.map((m) => m.materialCode).slice(0, round === 1 ? 2 : 1);
  if (codes.length === 0) return [{ materialCode: 'supplementary-statement', problem: '缺少情况说明', needed: '申请人签名的书面情况说明' }];
  return codes.map((materialCode) =>
    round === 1
      ? { materialCode, problem: '扫描件不清晰，关键信息无法辨认', needed: '重新提交清晰完整的彩色扫描件' }
      : { materialCode, problem: '补正材料与原件信息不一致', needed: '提交与原件一致并加盖公章的材料' },
  );
}

function receiptOf(supplement: SupplementRevision): Record<string, unknown> {
  const { materialCode, sha256, size, receivedAt, revision } = supplement;
  return { materialCode, sha256, size, receivedAt, revision };
}

/** Checks the body against X-Content-SHA256 and returns its hash. */
function checkedHash(bytes: Buffer, claimedSha256: string | undefined): string {
  if (!claimedSha256 || !/^[0-9a-fA-F]{64}$/.test(claimedSha256)) {
    throw new ProblemError(400, 'missing-content-hash', 'Missing content hash', 'X-Content-SHA256 must be the hex SHA-256 of the body');
  }
  const actual = sha256Hex(bytes);
  if (actual !== claimedSha256.toLowerCase()) throw hashMismatch(`X-Content-SHA256 is ${claimedSha256} but the body hashes to ${actual}`);
  return actual;
}

/** The calendar date (YYYY-MM-DD) of an instant in China Standard Time (UTC+8, no daylight saving). */
function shanghaiDate(epochMs: number): string {
  return new Date(epochMs + 8 * 3_600_000).toISOString().slice(0, 10);
}

function requireOpen(simCase: SimCase): void {
  if (simCase.status !== 'awaiting_materials') {
    throw new ProblemError(409, 'case-not-open', 'Case not open', `case ${simCase.provinceCaseId} is ${simCase.status}; materials and submission are closed`);
  }
}

function unknownCase(detail: string): ProblemError {
  return new ProblemError(404, UNKNOWN_CASE_SLUG, 'Unknown case', detail);
}

function hashMismatch(detail: string): ProblemError {
  return new ProblemError(422, 'hash-mismatch', 'Hash mismatch', detail);
}

function unavailable(detail: string): ProblemError {
  return new ProblemError(503, 'unavailable', 'Service unavailable', detail);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
