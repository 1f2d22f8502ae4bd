// The case (办件): its stages, statuses, workflow input and the state a query returns. Pure types
// and constants shared by workflows, activities, api and tests.
import type { CaseEventType } from './caseEvents.js';
import type { DeliveryMethod, ItemDefinition } from './items.js';

export const CASE_STAGES = ['intake', 'precheck', 'transfer', 'review', 'decision', 'delivery', 'closed'] as const;
export type CaseStage = (typeof CASE_STAGES)[number];

/** `active` until the case ends; `needsIntervention` is a separate flag on an active case. */
export const CASE_STATUSES = ['active', 'completed', 'rejected', 'withdrawn', 'not_accepted'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

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
}

export interface CaseInput {
  caseId: string;
  item: ItemDefinition;
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
}

export const PROVINCE_EVENT_TYPES = ['case.accepted', 'case.approved', 'case.rejected', 'delivery.mailed', 'delivery.received', 'review.correction_required', 'review.procedure_started', 'review.procedure_ended'] as const;
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
}

export interface Decision {
  outcome: 'approved' | 'rejected';
  reasons: string[];
  at: string;
}

export type DeliveryStatus = 'pending' | 'issued' | 'mailed' | 'confirmed';

export interface DeliveryState {
  method: DeliveryMethod;
  status: DeliveryStatus;
  trackingNumber?: string;
  certificate?: Certificate;
  confirmedBy?: string;
  confirmedAt?: string;
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
 * domain/caseEvents.ts (TypedCaseEvent there ties each type to the shape of its data).
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
}
