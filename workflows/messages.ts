// The contract between api, worker and workflow: ids, task queues, and message definitions.
// Imported by workflow code, so it stays free of I/O.
import type { LiaisonMessageRequest } from '../contracts/province.js';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { CaseInput, CaseState, ConsultationAgreement, ConsultationParticipant, Deficiency, Intervention, ProvinceEvent } from '../domain/case.js';
import type { JointParticipant } from '../domain/joint.js';

/** Task queue of the case workflows and of activities that touch tongban's own stores. */
export const CASE_TASK_QUEUE = 'tongban-case';

/** Province activities run on a queue per province, so a province can host its own worker. */
export function provinceTaskQueue(provinceCode: string): string {
  return `province-${provinceCode}`;
}

const CASE_PREFIX = 'case:';
export function caseWorkflowId(caseId: string): string {
  return `${CASE_PREFIX}${caseId}`;
}
export function caseIdFromWorkflowId(workflowId: string): string | null {
  return workflowId.startsWith(CASE_PREFIX) ? workflowId.slice(CASE_PREFIX.length) : null;
}

export interface StaffCommand {
  actor: string;
  role: string;
  region: string;
  reason: string;
}

export interface DeliveryConfirmation {
  actor: string;
  role: string;
  region: string;
  /** What was confirmed: a window pick-up or a mail receipt. */
  method: 'window' | 'mail';
  note?: string;
}

/** One supplemented material: an uploaded file answering a deficiency of the open notice. */
export interface SupplementItem {
  materialCode: string;
  fileId: string;
  sha256: string;
  size: number;
  contentType: string;
  note?: string;
}

/** The applicant's supplement (补正材料), taken in at the receiving window, answering one notice. */
export interface SupplementCommand {
  actor: string;
  role: string;
  region: string;
  noticeId: string;
  items: SupplementItem[];
}

/** The handling authority's approver asks to extend the time limit (art. 42). */
export interface ExtensionRequest {
  actor: string;
  role: string;
  region: string;
  days: number;
  reason: string;
}

/** The head of the authority (a supervisor of the handling side) approves or refuses it. */
export interface ExtensionDecision {
  actor: string;
  role: string;
  region: string;
  extensionId: string;
  approve: boolean;
  reason: string;
}

/** Either side asks for a video consultation (视频会商); the case books it with the video-meeting service. */
export interface ConsultationRequest {
  actor: string;
  role: string;
  region: string;
  topic: string;
  participants: ConsultationParticipant[];
  /** 1–5 ISO instants, in order of preference. */
  proposedTimes: string[];
}

/** What came of a booked (or missed) consultation, recorded by staff of either side. */
export interface ConsultationOutcomeCommand {
  actor: string;
  role: string;
  region: string;
  consultationId: string;
  held: boolean;
  minutes: string;
  agreed: ConsultationAgreement;
  /** Required with `correction`: the one-time notice agreed on. */
  deficiencies?: Deficiency[];
}

export const getStateQuery = defineQuery<CaseState>('getState');
/** A verified province event (from a callback); duplicates by eventId are ignored. */
export const provinceEventSignal = defineSignal<[ProvinceEvent]>('provinceEvent');
/** The applicant withdraws; rejected once a decision exists. */
export const withdrawUpdate = defineUpdate<CaseState, [StaffCommand]>('withdraw');
export const confirmDeliveryUpdate = defineUpdate<CaseState, [DeliveryConfirmation]>('confirmDelivery');
/**
 * The supplement answering the open notice; rejected (NoticeNotOpen) when that notice is not the
 * open one, and (SupplementIncomplete) when a deficiency is left unanswered.
 */
export const supplementUpdate = defineUpdate<CaseState, [SupplementCommand]>('supplement');
/** An extension request; rejected (ExtensionNotAllowed) after the decision, beyond the item's maximum, or while another is pending. */
export const requestExtensionUpdate = defineUpdate<CaseState, [ExtensionRequest]>('requestExtension');
/** The decision on a pending extension; rejected (ExtensionNotPending) when it is not pending. */
export const decideExtensionUpdate = defineUpdate<CaseState, [ExtensionDecision]>('decideExtension');
/**
 * A video consultation; rejected (ConsultationNotAllowed) once the case is decided or closed, while
 * another is requested or booked, or past the most a case may have; (ConsultationInvalid) when the
 * request itself is malformed. Answers once it is on record as requested: the booking follows.
 */
export const requestConsultationUpdate = defineUpdate<CaseState, [ConsultationRequest]>('requestConsultation');
/**
 * The outcome of a booked or missed consultation; rejected (ConsultationNotOpen) when it is not
 * waiting for one or the case has ended, (ConsultationInvalid) when malformed (a `correction`
 * without deficiencies, a material the item does not have).
 */
export const recordConsultationOutcomeUpdate = defineUpdate<CaseState, [ConsultationOutcomeCommand]>('recordConsultationOutcome');
/** Staff retry of the step a case is stuck on; rejected when nothing is stuck. */
export const retryUpdate = defineUpdate<CaseState, [StaffCommand]>('retry');

/** Who approved a four-eyes action (api/approvals.ts): the second staff member and their reason. */
export interface Approval {
  approvalId: string;
  approvedBy: string;
  approvedRole: string;
  approvedRegion: string;
  approvalReason: string;
}

/**
 * A step the case is stuck on, done outside the system (线下办理) and recorded with its evidence: the
 * case goes on as if the call had succeeded. Only steps that can say what the call would have
 * answered take one (the transfer's); `provinceCaseId` is the number the authority gave for a case
 * created offline.
 */
export interface OfflineStepCommand extends StaffCommand, Approval {
  step: string;
  evidence: { fileId: string; sha256: string; contentType: string; size: number };
  provinceCaseId?: string;
}

/** The case goes to another handling authority (改派) before that side has its materials. */
export interface RerouteCommand extends StaffCommand, Approval {
  handlingRegion: string;
  /** Where the new authority calls back (its province's callback route). */
  callbackUrl: string;
}

/** Rejected (OfflineNotAllowed) unless the case is stuck on that step and the step can be done offline. */
export const recordOfflineUpdate = defineUpdate<CaseState, [OfflineStepCommand]>('recordOffline');
/** Rejected (RerouteNotAllowed) once the handling authority has the materials, for a joint case, or to the same region. */
export const rerouteUpdate = defineUpdate<CaseState, [RerouteCommand]>('reroute');

/** Custom search attributes registered on the dev server (name → type). */
export const SEARCH_ATTRIBUTES = {
  CaseStage: 'Keyword',
  CaseStatus: 'Keyword',
  ItemCode: 'Keyword',
  HandlingRegion: 'Keyword',
  ReceivingRegion: 'Keyword',
  NeedsIntervention: 'Bool',
  /** green | yellow | red: where the case stands against its limits (workflows/case/sla.ts). */
  SlaState: 'Keyword',
  /** The last instant of the promised limit (China time); absent while a pause stops the clock. */
  DueDate: 'Datetime',
} as const;

export const CASE_STAGE_KEY = defineSearchAttributeKey('CaseStage', SearchAttributeType.KEYWORD);
export const CASE_STATUS_KEY = defineSearchAttributeKey('CaseStatus', SearchAttributeType.KEYWORD);
export const ITEM_CODE_KEY = defineSearchAttributeKey('ItemCode', SearchAttributeType.KEYWORD);
export const HANDLING_REGION_KEY = defineSearchAttributeKey('HandlingRegion', SearchAttributeType.KEYWORD);
export const RECEIVING_REGION_KEY = defineSearchAttributeKey('ReceivingRegion', SearchAttributeType.KEYWORD);
export const NEEDS_INTERVENTION_KEY = defineSearchAttributeKey('NeedsIntervention', SearchAttributeType.BOOL);
export const SLA_STATE_KEY = defineSearchAttributeKey('SlaState', SearchAttributeType.KEYWORD);
export const DUE_DATE_KEY = defineSearchAttributeKey('DueDate', SearchAttributeType.DATETIME);

// ---------------------------------------------------------------------------------------------
// Forwarding a liaison message to the handling authority's system (workflows/liaison/).

export interface ForwardLiaisonInput {
  caseId: string;
  provinceCode: string;
  message: LiaisonMessageRequest;
  /** The stored files behind message.files, by position. */
  files: { position: number; sha256: string; contentType: string }[];
  /** Province call timings, and how long to wait before looking again for the province's case (doubling up to an hour). */
  timing: { callTimeoutMs: number; retryInitialIntervalMs: number; retryMaximumIntervalMs: number; firstLookMs: number };
}

/** One forwarding workflow per message: a second start of the same message starts nothing. */
export function liaisonWorkflowId(messageId: string): string {
  return `liaison:${messageId}`;
}


// ---------------------------------------------------------------------------------------------
// 多地联办: one child workflow per participant of a joint case (workflows/joint/), on the queue of
// the participant's province. The child tells the case what it records (participantEventSignal);
// the case forwards the applicant's supplement, staff retries and the order to stop.

/** The participant's workflow id: its authority calls back with `participantCaseId`, and the api signals this. */
export function participantWorkflowId(participantCaseId: string): string {
  return `participant:${participantCaseId}`;
}

export interface ParticipantInput {
  /** The joint case's workflow (the parent), which the participant reports to. */
  parentWorkflowId: string;
  /** The joint case's id. */
  caseId: string;
  participant: JointParticipant;
  /**
   * The case as this participant's authority receives it: its region as the handling region,
   * its participantCaseId as the case id, the materials as they stand when its step starts.
   */
  case: CaseInput;
}

/** How a participant's part ended. */
export interface ParticipantOutcome {
  outcome: 'approved' | 'rejected' | 'not_supplemented' | 'stopped';
  /** The authority's decision event (with the certificate of an approval), when it decided. */
  decision: ProvinceEvent | null;
  provinceCaseId: string | null;
  /** What stopping it did at its authority (a stop order: withdrawn, or an approval revoked). */
  compensation: { action: 'withdrawn' | 'revoked' | 'nothing_to_undo'; province: string | null } | null;
}

/** An event the participant recorded, as the case records it (`participant.progress` and the rest). */
export interface ParticipantEvent {
  participant: string;
  type: string;
  data: Record<string, unknown>;
  actor: string;
  at: string;
  /** The participant's intervention flag after the event. */
  needsIntervention: Intervention | null;
}

export const participantEventSignal = defineSignal<[ParticipantEvent]>('participantEvent');
export const participantSupplementSignal = defineSignal<[SupplementCommand]>('participantSupplement');
export const participantRetrySignal = defineSignal<[StaffCommand]>('participantRetry');
/** Stop and undo the participant's part (the case was rejected elsewhere, or withdrawn). */
export const participantStopSignal = defineSignal<[{ reason: string }]>('participantStop');
