// The simulated handling authorities: per-province state and the case lifecycle of
// docs/province-protocol.md (create → materials → submit → accepted → decision → delivery).
// HTTP concerns (signatures, routing, status codes of the transport) live in server.ts.
import { z } from 'zod';
import { sha256Hex } from '../crypto/signing.js';
import { CHANNELS, type ProvinceEventType } from '../domain/case.js';
import { ID_NUMBER_MESSAGES, idNumberProblem } from '../domain/idNumber.js';
import { DELIVERY_METHODS } from '../domain/items.js';
import { provinceOf } from '../domain/regions.js';
import { deliverCallback } from './callbacks.js';
import { ProblemError } from './problem.js';
import { resolveScenario, type Scenario, type ScenarioRule, type Subject } from './scenarios.js';
import { Scheduler } from './scheduler.js';

const sha256Field = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'hex SHA-256')
  .transform((hex) => hex.toLowerCase());

export const createCaseSchema = z
  .object({
    caseId: z.string().min(1),
    itemCode: z.string().min(1),
    itemVersion: z.number().int().min(1),
    receivingRegion: z.string().regex(/^\d{6}$/),
    handlingRegion: z.string().regex(/^\d{6}$/),
    channel: z.enum(CHANNELS),
    applicant: z.object({ name: z.string().min(1), idNumber: z.string().min(1), phone: z.string().min(1) }),
    materials: z.array(z.object({ materialCode: z.string().min(1), sha256: sha256Field, size: z.number().int().min(0), contentType: z.string().min(1) })),
    delivery: z.object({ method: z.enum(DELIVERY_METHODS), address: z.string().min(1).optional() }),
    callbackUrl: z.url({ protocol: /^https?$/ }),
  })
  .superRefine((body, ctx) => {
    const codes = body.materials.map((m) => m.materialCode);
    if (new Set(codes).size !== codes.length) ctx.addIssue({ code: 'custom', path: ['materials'], message: 'duplicate materialCode' });
    if (body.delivery.method === 'mail' && !body.delivery.address) ctx.addIssue({ code: 'custom', path: ['delivery', 'address'], message: 'mail delivery needs an address' });
  });
export type CreateCaseRequest = z.infer<typeof createCaseSchema>;

export const withdrawSchema = z.object({ reason: z.string().min(1) });

export const licenceVerifySchema = z.object({
  licenceType: z.string().min(1),
  holderIdNumber: z.string().min(1),
  holderName: z.string().min(1),
  sha256: sha256Field,
});
export type LicenceVerifyRequest = z.infer<typeof licenceVerifySchema>;

export type ProvinceCaseStatus = 'awaiting_materials' | 'reviewing' | 'approved' | 'rejected' | 'withdrawn' | 'delivered';

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
}

/** A response a route produces: `replayed` when it comes from the idempotency store. */
export interface Outcome {
  status: number;
  body: unknown;
  replayed?: boolean;
}

export interface SimCase {
  provinceCaseId: string;
  request: CreateCaseRequest;
  status: ProvinceCaseStatus;
  materials: Map<string, ReceivedMaterial>;
  events: ProvinceCallbackEvent[];
  /** Callbacks of a case go out one after another, so they arrive in order unless one is given up. */
  outbox: Promise<void>;
}

interface StoredResponse {
  fingerprint: string;
  /** A repeat may answer with a different status than the first response (a material: 201, then 200). */
  replayStatus: number;
  body: unknown;
}

const DECIDED: readonly ProvinceCaseStatus[] = ['approved', 'rejected', 'delivered'];

const REJECTION_REASONS = [
  '申请材料中的身份信息与电子证照库记录不一致，无法核实申请人身份',
  '申请人不符合本事项的受理条件，请补齐相关证明材料后重新申请',
];

/** Everything `reset()` forgets; the id counters of `Province` continue. */
class ProvinceState {
  readonly cases = new Map<string, SimCase>();
  readonly idempotency = new Map<string, StoredResponse>();
  readonly requests: RecordedRequest[] = [];
  readonly flakyCounts = new Map<string, number>();
  scenario: Scenario = 'approve';
}

export class Province {
  state = new ProvinceState();
  private caseCounter = 0;
  private eventCounter = 0;
  private certificateCounter = 0;
  private trackingCounter = 0;

  constructor(
    readonly code: string,
    readonly name: string,
    readonly secret: string,
  ) {}

  reset(): void {
    this.state = new ProvinceState();
  }

  nextCaseId(): string {
    return `${this.code}-${pad(++this.caseCounter, 6)}`;
  }

  nextEventId(): string {
    return `${this.code}-evt-${pad(++this.eventCounter, 6)}`;
  }

  nextCertificateId(): string {
    return `${this.code}-cert-${pad(++this.certificateCounter, 6)}`;
  }

  /** A 13-digit domestic EMS-style number. */
  nextTrackingNumber(): string {
    return `11${this.code.slice(0, 2)}${pad(++this.trackingCounter, 9)}`;
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
  deliveryDelayMs: number;
  slowMs: number;
  callbackRetries: number;
  callbackBackoffMs: number;
  callbackTimeoutMs: number;
  onCallbackGivenUp: (event: ProvinceCallbackEvent, url: string) => void;
}

export function subjectOfCase(request: CreateCaseRequest): Subject {
  return { caseId: request.caseId, applicantName: request.applicant.name, itemCode: request.itemCode };
}

export class ProvinceSimulation {
  private scheduler = new Scheduler();
  private rules: ScenarioRule[] = [];

  constructor(
    private readonly provinces: ReadonlyMap<string, Province>,
    private readonly options: SimulationOptions,
  ) {}

  province(code: string): Province {
    const province = this.provinces.get(code);
    if (!province) throw new ProblemError(404, 'unknown-province', 'Unknown province', `no simulated province ${code}`);
    return province;
  }

  setScenario(code: string, scenario: Scenario): void {
    this.province(code).state.scenario = scenario;
  }

  addRule(rule: ScenarioRule): void {
    this.rules.push({ match: { ...rule.match }, scenario: rule.scenario });
  }

  scenarioFor(province: Province, subject: Subject): Scenario {
    return resolveScenario(this.rules, province.state.scenario, subject);
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
    for (const province of this.provinces.values()) province.reset();
  }

  dispose(): void {
    this.scheduler.dispose();
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
    if (outcome.status < 300) province.state.idempotency.set(key, { fingerprint, replayStatus: outcome.replayStatus ?? outcome.status, body: outcome.body });
    return { status: outcome.status, body: outcome.body };
  }

  caseOf(province: Province, provinceCaseId: string): SimCase {
    const found = province.state.cases.get(provinceCaseId);
    if (!found) throw new ProblemError(404, 'unknown-case', 'Unknown case', `no case ${provinceCaseId} at province ${province.code}`);
    return found;
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
      events: [],
      outbox: Promise.resolve(),
    };
    province.state.cases.set(simCase.provinceCaseId, simCase);
    return { status: 201, body: { provinceCaseId: simCase.provinceCaseId, status: simCase.status } };
  }

  uploadMaterial(simCase: SimCase, materialCode: string, bytes: Buffer, claimedSha256: string | undefined): Outcome & { replayStatus: number } {
    const declared = simCase.request.materials.find((m) => m.materialCode === materialCode);
    if (!declared) throw new ProblemError(404, 'unknown-material', 'Undeclared material', `material ${materialCode} was not declared when ${simCase.provinceCaseId} was created`);
    if (!claimedSha256 || !/^[0-9a-fA-F]{64}$/.test(claimedSha256)) {
      throw new ProblemError(400, 'missing-content-hash', 'Missing content hash', 'X-Content-SHA256 must be the hex SHA-256 of the body');
    }
    const actual = sha256Hex(bytes);
    if (actual !== claimedSha256.toLowerCase()) throw hashMismatch(`X-Content-SHA256 is ${claimedSha256} but the body hashes to ${actual}`);
    if (actual !== declared.sha256) throw hashMismatch(`material ${materialCode} was declared with sha256 ${declared.sha256} but the body hashes to ${actual}`);
    requireOpen(simCase);
    const received: ReceivedMaterial = { materialCode, sha256: actual, size: bytes.length, receivedAt: new Date().toISOString() };
    simCase.materials.set(materialCode, received);
    return { status: 201, body: received, replayStatus: 200 };
  }

  submit(province: Province, simCase: SimCase): Outcome {
    requireOpen(simCase);
    const missing = simCase.request.materials.map((m) => m.materialCode).filter((code) => !simCase.materials.has(code));
    if (missing.length > 0) throw new ProblemError(409, 'missing-materials', 'Materials missing', `missing materials: ${missing.join(', ')}`);
    simCase.status = 'reviewing';
    this.emit(province, simCase, 'case.accepted', { provinceCaseId: simCase.provinceCaseId });
    this.scheduler.after(this.options.reviewDelayMs, () => this.decide(province, simCase));
    return { status: 202, body: { status: simCase.status } };
  }

  withdraw(simCase: SimCase): Outcome {
    if (DECIDED.includes(simCase.status)) {
      throw new ProblemError(409, 'already-decided', 'Already decided', `case ${simCase.provinceCaseId} is ${simCase.status}; it can no longer be withdrawn`);
    }
    simCase.status = 'withdrawn';
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
    if (method === 'mail') this.scheduler.after(this.options.deliveryDelayMs, () => this.mail(province, simCase));
  }

  private issueCertificate(province: Province, simCase: SimCase): Record<string, string> {
    const certificateId = province.nextCertificateId();
    const issuedAt = new Date().toISOString();
    const document = JSON.stringify({ certificateId, caseId: simCase.request.caseId, itemCode: simCase.request.itemCode, issuedAt });
    return { certificateId, issuer: `${province.name}政务服务中心`, sha256: sha256Hex(document), issuedAt };
  }

  private mail(province: Province, simCase: SimCase): void {
    const trackingNumber = province.nextTrackingNumber();
    this.emit(province, simCase, 'delivery.mailed', { trackingNumber });
    this.scheduler.after(this.options.deliveryDelayMs, () => {
      simCase.status = 'delivered';
      this.emit(province, simCase, 'delivery.received', { trackingNumber, signedBy: simCase.request.applicant.name });
    });
  }

  /** Records the event (a status poll shows it) and queues its callback as the scenario says. */
  private emit(province: Province, simCase: SimCase, type: ProvinceEventType, data: Record<string, unknown>): void {
    const event: ProvinceCallbackEvent = { eventId: province.nextEventId(), caseId: simCase.request.caseId, type, at: new Date().toISOString(), data };
    simCase.events.push(event);
    const scenario = this.scenarioFor(province, subjectOfCase(simCase.request));
    if (scenario === 'lost-callback') return;
    const copies = scenario === 'duplicate-callback' ? 2 : 1;
    // Bound now: after reset() a queued callback must see the disposed scheduler, not the new one.
    const scheduler = this.scheduler;
    for (let i = 0; i < copies; i++) {
      simCase.outbox = simCase.outbox.then(() => this.sendCallback(province, simCase, event, scheduler));
    }
  }

  private async sendCallback(province: Province, simCase: SimCase, event: ProvinceCallbackEvent, scheduler: Scheduler): Promise<void> {
    const url = simCase.request.callbackUrl;
    const delivered = await deliverCallback(
      {
        url,
        secret: province.secret,
        body: JSON.stringify(event),
        retries: this.options.callbackRetries,
        initialBackoffMs: this.options.callbackBackoffMs,
        attemptTimeoutMs: this.options.callbackTimeoutMs,
      },
      scheduler,
    );
    if (!delivered && !scheduler.disposed) this.options.onCallbackGivenUp(event, url);
  }
}

function requireOpen(simCase: SimCase): void {
  if (simCase.status !== 'awaiting_materials') {
    throw new ProblemError(409, 'case-not-open', 'Case not open', `case ${simCase.provinceCaseId} is ${simCase.status}; materials and submission are closed`);
  }
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
