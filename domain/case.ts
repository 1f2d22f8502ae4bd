// The case (办件): its stages, statuses, workflow input and the state a query returns. Pure types
// and constants shared by workflows, activities, api and tests.
import type { CreateCaseRequest } from '../contracts/province.js';
import type { CaseEventType } from './caseEvents.js';
import type { SlaState } from './clock.js';
import type { SlaLimit } from './sla.js';
import type { DeliveryMethod, ItemDefinition } from './items.js';
import type { JointPlan, ParticipantState } from './joint.js';

export const CASE_STAGES = ['intake', 'precheck', 'correction', 'transfer', 'review', 'decision', 'delivery', 'closed'] as const;
export type CaseStage = (typeof CASE_STAGES)[number];

/**
 * `active` until the case ends, `awaiting_supplement` while a one-time notice (一次性告知) waits for
 * the applicant; `needsIntervention` is a separate flag on an open case. `not_supplemented`: the
 * supplement deadline passed.
 */
export const CASE_STATUSES = ['active', 'awaiting_supplement', 'completed', 'rejected', 'withdrawn', 'not_accepted', 'not_supplemented'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/** The statuses of a case that is still running. */
export const OPEN_STATUSES = ['active', 'awaiting_supplement'] as const satisfies readonly CaseStatus[];

export function isOpenStatus(status: CaseStatus): boolean {
  return (OPEN_STATUSES as readonly CaseStatus[]).includes(status);
}

export const CHANNELS = ['window', 'online', 'mobile', 'assisted'] as const;
export type Channel = (typeof CHANNELS)[number];

export const STAFF_ROLES = ['clerk', 'approver', 'supervisor', 'manager', 'item_admin'] as const;
export type StaffRole = (typeof STAFF_ROLES)[number];

export interface Actor {
  id: string;
  role: StaffRole | 'province' | 'system';
  region: string;
}

export interface Applicant {
  name: string;
  idNumber: string;
  phone: string;
}

export interface MaterialRef {
  materialCode: string;
  fileId: string;
  sha256: string;
  size: number;
  contentType: string;
}

export interface DeliveryRequest {
  method: DeliveryMethod;
  address?: string;
}

/** Everything that can change between deployments reaches the workflow here, pinned at intake. */
export interface CaseTiming {
  /** First retry interval of a province call. */
  retryInitialIntervalMs: number;
  retryMaximumIntervalMs: number;
  /** Attempts of one province call before the case is flagged needsIntervention. */
  retryMaximumAttempts: number;
  /** One attempt of a province call may take this long. */
  callTimeoutMs: number;
  /** With no callback for this long, the workflow polls the province's status. */
  statusPollAfterMs: number;
  /**
   * Each poll that finds nothing new doubles the wait, up to this, so a review of weeks stays a
   * few hundred history events. Absent in cases taken in before it existed (6 hours then).
   */
  statusPollMaxMs?: number;
  /**
   * Attempts of one projection write, and the first wait between them (doubling up to 30 s),
   * before the case is flagged for intervention. Absent in cases taken in before: 8 and 500 ms.
   */
  projectionRetryAttempts?: number;
  projectionRetryInitialMs?: number;
  /**
   * Test and demo seam (WORKING_DAY_MS): a working day of the case's time limits lasts this many
   * milliseconds instead of running to the end of the due date on the calendar. Never in production.
   */
  workingDayMs?: number;
}

/**
 * The part of an item definition a case runs by, pinned into its input at intake: what the
 * procedure, the projection and the province request read. The guide's text (legal basis,
 * conditions, process, fee, sample notes) stays in item_versions under the same version, so it is
 * not carried, sealed and stored in every case's history. Inputs recorded before this carry the
 * whole definition, which is a superset.
 */
export type CaseItem = Pick<
  ItemDefinition,
  | 'code' | 'version' | 'name' | 'type' | 'handlingType' | 'applicationFields' | 'materials' | 'promisedDays' | 'statutoryDays'
  | 'specialProcedures' | 'result' | 'deliveryMethods' | 'review' | 'joint'
>;

export function caseItemOf(item: ItemDefinition): CaseItem {
  const { code, version, name, type, handlingType, applicationFields, materials, promisedDays, statutoryDays, specialProcedures, result, deliveryMethods, review, joint } = item;
  return { code, version, name, type, handlingType, applicationFields, materials, promisedDays, statutoryDays, specialProcedures, result, deliveryMethods, review, ...(joint ? { joint } : {}) };
}

export interface CaseInput {
  caseId: string;
  item: CaseItem;
  applicant: Applicant;
  receivingRegion: string;
  handlingRegion: string;
  channel: Channel;
  materials: MaterialRef[];
  delivery: DeliveryRequest;
  submittedAt: string;
  submittedBy: Actor;
  /** Where the handling province sends its callbacks. */
  callbackUrl: string;
  timing: CaseTiming;
  /** 视频会商收件: hold the case before the transfer until a consultation has been requested and has its outcome. Absent unless asked for. */
  consultBeforeAcceptance?: true;
  /** The application's fields beyond the applicant (the item's applicationFields), when it has any. */
  application?: Record<string, string>;
  /** 多地联办: the participants resolved for this application (domain/joint.ts); absent for a single authority. */
  joint?: JointPlan;
}

export const PROVINCE_EVENT_TYPES = ['case.accepted', 'case.approved', 'case.rejected', 'delivery.mailed', 'delivery.received', 'delivery.returned', 'review.correction_required', 'review.procedure_started', 'review.procedure_ended'] as const;
export type ProvinceEventType = (typeof PROVINCE_EVENT_TYPES)[number];

/** A signed callback from a province system, after the api verified it. */
export interface ProvinceEvent {
  eventId: string;
  type: ProvinceEventType;
  at: string;
  data: Record<string, unknown>;
  /** `callback` when pushed by the province, `poll` when the workflow fetched it. */
  via: 'callback' | 'poll';
}

export interface Certificate {
  certificateId: string;
  issuer: string;
  sha256: string;
  issuedAt: string;
  /** The electronic licence (电子证照), when the province issued one (contracts/province.ts `licenceSchema`). */
  licence?: ElectronicLicence;
}

/** A GB/T 36904 licence identifier and the issuing authority's SM2 signature of the document's SM3 digest. */
export interface ElectronicLicence {
  licenceId: string;
  licenceType: string;
  /** The issuing authority's unified social credit code. */
  issuerCode: string;
  documentSm3: string;
  /** DER hex. */
  signature: string;
  signedAt: string;
}

export interface Decision {
  outcome: 'approved' | 'rejected';
  reasons: string[];
  at: string;
}

export type DeliveryStatus = 'pending' | 'issued' | 'mailed' | 'returned' | 'confirmed';

export interface DeliveryState {
  method: DeliveryMethod;
  status: DeliveryStatus;
  trackingNumber?: string;
  certificate?: Certificate;
  confirmedBy?: string;
  confirmedAt?: string;
  /** Mail that came back undelivered: why; the result then waits at the receiving window. */
  returnedReason?: string;
}

export interface Intervention {
  step: string;
  /**
   * `unreachable`: the province did not answer past the retry budget (retry later);
   * `refused`: it answered with a final refusal (its reason says what to fix);
   * `projection`: tongban's own database would not take the case's events.
   * Absent on interventions recorded before the kinds existed.
   */
  kind?: 'unreachable' | 'refused' | 'projection';
  error: string;
  /** The province's own reason for a refusal. */
  reason?: string;
  /** The HTTP status of a refusal. */
  status?: number;
  since: string;
}

/**
 * One recorded event as the projection stores it: the type is one of the closed union in
 * domain/caseEvents.ts (CaseEventData there gives the shape of each type's data).
 */
export interface CaseEvent {
  seq: number;
  type: CaseEventType;
  stage: CaseStage;
  status: CaseStatus;
  at: string;
  actor: string;
  data: Record<string, unknown>;
}

/** Which office asked for the correction: the receiving window (收件补正) or the handling authority (审查补正). */
export type CorrectionSide = 'receiving' | 'handling';

export interface Deficiency {
  materialCode: string;
  problem: string;
  needed: string;
}

/** A one-time notice (一次性告知): every deficiency at once, answered by one supplement. */
export interface CorrectionNotice {
  noticeId: string;
  side: CorrectionSide;
  /** The notice's round on its side, from 1. */
  round: number;
  deficiencies: Deficiency[];
  issuedAt: string;
  /** The last day (China time) the applicant may supplement, or null when no deadline applies. */
  supplementDue: string | null;
  /** In a joint case (多地联办): the participant whose authority issued it. */
  participant?: string;
}

/** An extension of the time limit (行政许可法 art. 42): asked by the handling authority's approver, decided by its head (a supervisor). */
export interface Extension {
  extensionId: string;
  days: number;
  reason: string;
  requestedBy: string;
  requestedAt: string;
  status: 'requested' | 'approved' | 'refused';
  decidedBy?: string;
  decidedAt?: string;
  decisionReason?: string;
}

/** A side of a video consultation (视频会商): the two offices, and the applicant who may join. */
export const CONSULTATION_SIDES = ['receiving', 'handling', 'applicant'] as const;
export type ConsultationSide = (typeof CONSULTATION_SIDES)[number];

export interface ConsultationParticipant {
  side: ConsultationSide;
  /** The staff member on the receiving or handling side (their token's `sub`); an applicant has none. */
  staffId?: string;
}

/**
 * `requested` until the video service has booked a room (`booked`) or could not (`failed`: staff
 * may request again); then `held` or `not_held` with the outcome staff recorded, or `missed` when
 * its time passed without one (an outcome may still be recorded: `missedAt` keeps the flag).
 */
export const CONSULTATION_STATUSES = ['requested', 'booked', 'held', 'not_held', 'missed', 'failed'] as const;
export type ConsultationStatus = (typeof CONSULTATION_STATUSES)[number];

/** What the consultation agreed the case does next. */
export const CONSULTATION_AGREEMENTS = ['continue', 'correction', 'reject', 'withdraw-advised'] as const;
export type ConsultationAgreement = (typeof CONSULTATION_AGREEMENTS)[number];

/**
 * What an agreement does to the case. Before the case went to the handling authority (视频会商收件)
 * the receiving side acts on it: `receiving-notice` (a one-time notice with the agreed
 * deficiencies), `not-accepted` (the case closes). After, the notice and the decision are the
 * authority's: `authority-notice` (its `review.correction_required` follows), `authority-decides`.
 * `none`: the case goes on as it was (`continue`; `withdraw-advised`, after which the applicant may
 * withdraw through the withdraw route).
 */
export const CONSULTATION_EFFECTS = ['none', 'receiving-notice', 'not-accepted', 'authority-notice', 'authority-decides'] as const;
export type ConsultationEffect = (typeof CONSULTATION_EFFECTS)[number];

/** The recording of a held meeting at the video service: its bytes (GET url with the service key) hash to sha256. */
export interface ConsultationRecording {
  recordingId: string;
  url: string;
  sha256: string;
  durationSeconds: number;
}

export interface ConsultationOutcome {
  held: boolean;
  /** Free text, scrubbed of the applicant's personal data, at most MAX_CONSULTATION_MINUTES_CHARS. */
  minutes: string;
  agreed: ConsultationAgreement;
  /** With `correction`: the deficiencies of the one-time notice agreed on. */
  deficiencies?: Deficiency[];
  effect: ConsultationEffect;
  /** The service's recording reference of a held meeting, when it had one. */
  recording: ConsultationRecording | null;
  recordedBy: string;
  recordedAt: string;
}

/** The most a consultation's minutes may hold. */
export const MAX_CONSULTATION_MINUTES_CHARS = 4000;

/** A video consultation (视频会商) between the offices, booked with the video-meeting service. */
export interface Consultation {
  consultationId: string;
  topic: string;
  participants: ConsultationParticipant[];
  /** The times proposed, in order of preference; the first still ahead when booking is booked. */
  proposedTimes: string[];
  requestedBy: string;
  requestedAt: string;
  /** Requested before the case went to the handling authority (视频会商收件): it holds the transfer. */
  beforeAcceptance: boolean;
  status: ConsultationStatus;
  roomId: string | null;
  startsAt: string | null;
  endsAt: string | null;
  /** One personal link per participant; each is its own credential, for that person only. */
  joinLinks: (ConsultationParticipant & { url: string })[];
  /** Why the booking failed. */
  failure: string | null;
  /** When its time passed without an outcome (kept when one is recorded later). */
  missedAt: string | null;
  outcome: ConsultationOutcome | null;
}

/** The state the workflow's query returns and the projection mirrors. */
export interface CaseState {
  caseId: string;
  itemCode: string;
  itemVersion: number;
  stage: CaseStage;
  status: CaseStatus;
  needsIntervention: Intervention | null;
  provinceCaseId: string | null;
  decision: Decision | null;
  delivery: DeliveryState;
  transferredMaterials: string[];
  lastSeq: number;
  /** The open one-time notice, or null. Absent in cases from before corrections existed. */
  correction?: CorrectionNotice | null;
  /** Notices issued so far, per side. */
  correctionRounds?: Record<CorrectionSide, number>;
  /** Extensions asked for, with their decisions. Absent in cases from before extensions existed. */
  extensions?: Extension[];
  /** The SLA clock once the authority has the materials (workflows/case/sla.ts); absent in cases from before it. */
  sla?: CaseSla | null;
  /** Video consultations (视频会商), in the order requested; absent until the first is requested. */
  consultations?: Consultation[];
  /** 多地联办: each participant's progress and deadline; absent for a single authority. */
  participants?: ParticipantState[];
}

/** Where a case stands against its time limits, as the workflow last read them. */
export interface CaseSla {
  /** The worse of the two limits. */
  state: SlaState;
  promised: SlaLimit;
  statutory: SlaLimit;
  /** When the case was escalated to the handling side's supervisors (first overdue limit). */
  escalatedAt: string | null;
  /** The clock stopped for good: the decision was taken or the case closed. */
  settled: boolean;
  /** When these figures were read (the workflow reads again at every change). */
  readAt: string;
  /** Art. 44: once approved, the delivery of the result (mail, window), 10 working days from the approval. */
  delivery?: SlaLimit | null;
}

/**
 * What the handling authority is sent to create the case (POST /cases): built in the workflow from
 * the case as it stands (after a reroute or a receiving-side correction), so the activity's input
 * carries the request alone rather than the whole case input with its pinned item definition.
 */
export function createCaseRequestOf(
  input: Pick<CaseInput, 'caseId' | 'item' | 'receivingRegion' | 'handlingRegion' | 'channel' | 'applicant' | 'materials' | 'delivery' | 'callbackUrl'>,
): CreateCaseRequest {
  return {
    caseId: input.caseId,
    itemCode: input.item.code,
    itemVersion: input.item.version,
    receivingRegion: input.receivingRegion,
    handlingRegion: input.handlingRegion,
    channel: input.channel,
    applicant: input.applicant,
    materials: input.materials.map(({ materialCode, sha256, size, contentType }) => ({ materialCode, sha256, size, contentType })),
    delivery: input.delivery,
    callbackUrl: input.callbackUrl,
  };
}
