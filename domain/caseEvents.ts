// Every event a case can record, with the shape of its data: one closed union, so the workflow
// cannot record a type nobody reads, and the projection, the API and the console can rely on what
// each type carries. Pure types and constants, safe in workflow code.
//
// No event data carries the applicant's personal data in clear (name, identity number, phone,
// address): the workflow scrubs every recorded string against the applicant (workflows/case/record.ts),
// and fields that name a person hold masked values.
import type { Certificate, ConsultationAgreement, ConsultationEffect, ConsultationParticipant, ConsultationRecording, Deficiency } from './case.js';
import type { SlaState } from './clock.js';
import type { SlaLimitName } from './sla.js';

/** The delivery limit's figures (art. 44). */
export type DeliveryFigures = {
  state: SlaState;
  dueDate: string | null;
  used: number;
  remaining: number;
};

/** The second staff member who approved an action that changes the legal record. */
export type FourEyes = {
  approvalId: string;
  approvedBy: string;
  approvalReason: string;
};

/** One limit's figures as the SLA events record them. */
export interface SlaLimitFigures {
  state: SlaState;
  dueDate: string | null;
  used: number;
  remaining: number;
  extendedBy: number;
  stopped: boolean;
}

/** Why a case waits for a person: the province could not be reached, or it refused the request. */
export type InterventionKind = 'unreachable' | 'refused' | 'projection';

export interface ELicenceResult {
  materialCode: string;
  valid: boolean;
  issuer?: string;
}

/** The outcome of a consultation as recorded (minutes scrubbed of the applicant's personal data). */
export type ConsultationOutcomeData = {
  consultationId: string;
  minutes: string;
  agreed: ConsultationAgreement;
  deficiencies: Deficiency[] | null;
  effect: ConsultationEffect;
  role: string;
  region: string;
};

/** Type → data of every case event. */
export interface CaseEventData {
  'case.submitted': {
    itemCode: string;
    itemVersion: number;
    channel: string;
    receivingRegion: string;
    handlingRegion: string;
    materials: string[];
  };
  'precheck.passed': { eLicences: ELicenceResult[] };
  /** Taken in with consultBeforeAcceptance: the case waits for a video consultation to be requested. */
  'precheck.awaiting_consultation': Record<string, never>;
  'precheck.failed': { problems: string[]; eLicences: ELicenceResult[] };
  /** 免提交: a material fetched from the data-sharing hub instead of asked of the applicant; kept as a file of the case. */
  'material.fetched': { materialCode: string; source: string; recordId: string; issuer: string; issuedAt: string; fileId: string; sha256: string; size: number; contentType: string };
  /** The hub has no record of the applicant for a 免提交 material: the applicant brings it (the precheck's notice asks). */
  'material.not_shared': { materialCode: string; source: string; reason: string };
  'transfer.created': { provinceCaseId: string };
  'material.transferred': { materialCode: string; sha256: string; size: number };
  'review.started': { provinceCaseId: string; materials: number };
  'review.accepted': { eventId: string; via: 'callback' | 'poll' };
  'decision.approved': { eventId: string; via: 'callback' | 'poll'; reasons: string[] };
  'decision.rejected': { eventId: string; via: 'callback' | 'poll'; reasons: string[] };
  'delivery.issued': { certificate: Certificate | null };
  'delivery.awaiting': { method: string };
  'delivery.mailed': { trackingNumber: string | null; via: 'callback' | 'poll' };
  /** The mail came back undelivered; the result goes to the receiving window for collection. */
  'delivery.returned': { trackingNumber: string | null; reason: string; via: 'callback' | 'poll' };
  /** By the province (signedBy masked) or by staff at the window or for a mail receipt. */
  'delivery.confirmed':
    | { signedBy: string | null; via: 'callback' | 'poll' }
    | { method: 'window' | 'mail'; note: string | null; role: string; region: string };
  /**
   * Closed without delivery: rejected by the handling authority, or not accepted because a
   * consultation before acceptance (视频会商收件) agreed so (its minutes are the reason).
   */
  'case.closed': { outcome: 'rejected' } | { outcome: 'not_accepted'; reason: string; consultationId: string } | { outcome: 'not_supplemented' };
  'case.completed': { delivery: string };
  'intervention.required': { step: string; kind: InterventionKind; error: string; reason?: string | null; status?: number | null };
  'intervention.cleared': { step: string; by: string };
  'intervention.retry': { step: string; reason: string; role: string; region: string };
  /** A stuck step done outside the system (线下办理), with its evidence and who approved it (four eyes). */
  'step.recorded_offline': FourEyes & {
    step: string;
    reason: string;
    evidence: { fileId: string; sha256: string; contentType: string; size: number };
    provinceCaseId: string | null;
    role: string;
    region: string;
  };
  /** The case went to another handling authority (改派); what became of it at the old one. */
  'case.rerouted': FourEyes & { from: string; to: string; reason: string; oldAuthority: string | null; role: string; region: string };
  'case.withdrawal_requested': { reason: string; role: string; region: string };
  /** The province had already decided: the withdrawal stands refused and the case takes the decision. */
  'withdrawal.refused': { reason: string; provinceOutcome: 'approved' | 'rejected' | null };
  'case.withdrawn': { reason: string; province: string | null };
  /** A one-time notice (一次性告知): every deficiency at once; the case waits for the applicant. */
  'correction.notice_issued': {
    noticeId: string;
    side: 'receiving' | 'handling';
    round: number;
    deficiencies: { materialCode: string; problem: string; needed: string }[];
    supplementDue: string | null;
    /** 多地联办: the participant whose authority issued it. */
    participant?: string;
  };
  /** More notices on one side than the item allows: processed, and flagged for the supervisors. */
  'correction.rounds_exceeded': { side: 'receiving' | 'handling'; round: number; maxRounds: number };
  'correction.supplemented': {
    noticeId: string;
    side: 'receiving' | 'handling';
    round: number;
    items: { materialCode: string; fileId: string; sha256: string; size: number; contentType: string }[];
    participant?: string;
  };
  /** The supplement deadline passed: the case closes as not_supplemented. */
  'correction.expired': { noticeId: string; side: 'receiving' | 'handling'; round: number; supplementDue: string | null; province: string | null; participant?: string };
  /** 多地联办: the participants resolved for the application, and what one's rejection does. */
  'joint.started': { participants: { key: string; role: string; regionCode: string; step: number; timeLimitDays: number }[]; onRejection: string };
  /** A step begins: its participants start in parallel. */
  'joint.step_started': { step: number; participants: string[] };
  /** A participant's child workflow started on its region's queue, with its own deadline. */
  'participant.started': { participant: string; role: string; regionCode: string; step: number; participantCaseId: string; dueDate: string | null; dueAt: string | null };
  /** What a participant's workflow recorded (its transfer, review, procedures, interventions), as it recorded it. */
  'participant.progress': { participant: string; type: string; data: Record<string, unknown> };
  /** A participant's authority decided its part (or the applicant did not supplement its notice in time). */
  'participant.decided': { participant: string; outcome: 'approved' | 'rejected' | 'not_supplemented'; reasons: string[]; eventId: string | null };
  /** A participant's own time limit passed before it decided. */
  'participant.overdue': { participant: string; dueDate: string | null; dueAt: string };
  /** The compensation of a participant's part after the case failed or was withdrawn: told, and undone or closed. */
  'participant.compensated': { participant: string; action: 'withdrawn' | 'revoked' | 'skipped' | 'nothing_to_undo'; reason: string; province: string | null };
  /** A supplemented material sent to the handling authority and acknowledged. */
  'supplement.transferred': { noticeId: string; materialCode: string; sha256: string; size: number; revision: number };
  /** The handling authority received the supplement's answer and resumed its review. */
  'correction.answered': { noticeId: string; round: number };
  /**
   * 行政许可法 art. 32: the handling authority's notice came more than 5 working days after it
   * received the materials, so by law the application counts as accepted on the day they arrived.
   */
  'acceptance.deemed': { acceptedOn: string; noticeOn: string; workingDays: number; noticeId: string };
  /** 行政许可法 art. 45: a procedure (hearing, testing, expert review, …) whose time does not count toward the limit. */
  'procedure.started': { procedureId: string; kind: string; reason: string; expectedEnd: string | null; noticeRef: string | null };
  'procedure.ended': { procedureId: string; result: string | null };
  /** Art. 42: an extension asked for, and its decision (the applicant is told the reasons). */
  'extension.requested': { extensionId: string; days: number; reason: string; role: string; region: string };
  'extension.approved': { extensionId: string; days: number; reason: string; applicantNotice: string };
  'extension.refused': { extensionId: string; days: number; reason: string };
  /**
   * The SLA clock (domain/sla.ts): started when the authority received the materials; changed
   * when a pause, a resumption or an extension moves a due date or a state; a warning and an
   * overdue limit; the escalation of a red case to the handling side's supervisors; stopped at the
   * decision with the final figures (a case closed otherwise keeps its last reading, settled); unavailable while the calendar data does not reach.
   */
  'sla.started': { state: SlaState; promised: SlaLimitFigures; statutory: SlaLimitFigures };
  'sla.changed': { state: SlaState; promised: SlaLimitFigures; statutory: SlaLimitFigures };
  'sla.warning': { limit: SlaLimitName; dueDate: string | null; remaining: number; used: number };
  'sla.overdue': { limit: SlaLimitName; dueDate: string | null; remaining: number; used: number };
  'sla.escalated': { limit: SlaLimitName | 'delivery'; to: { role: 'supervisor'; side: 'receiving' | 'handling'; region: string }; dueDate: string | null; overdueBy: number };
  /** Art. 44: the result reaches the applicant within 10 working days of the approval (mail and window pick-up). */
  'sla.delivery_started': DeliveryFigures;
  'sla.delivery_warning': DeliveryFigures;
  'sla.delivery_overdue': DeliveryFigures;
  'sla.delivery_stopped': DeliveryFigures;
  'sla.stopped': { state: SlaState; promised: SlaLimitFigures; statutory: SlaLimitFigures };
  'sla.unavailable': { problem: string };
  /**
   * Video consultation (视频会商, workflows/case/consultation.ts): asked for by either side; booked
   * with the video-meeting service (room, times, a personal join link per participant) or not
   * (`booking_failed`: the service refused or stayed down past the retry budget); its outcome
   * (`held` / `not_held`, with the minutes, what was agreed and what that does to the case); or
   * `missed`: its time passed without an outcome (roomStatus: what the service says, null when it
   * could not be asked).
   */
  'consultation.requested': {
    consultationId: string;
    topic: string;
    participants: ConsultationParticipant[];
    proposedTimes: string[];
    beforeAcceptance: boolean;
    role: string;
    region: string;
  };
  'consultation.booked': { consultationId: string; roomId: string; startsAt: string; endsAt: string; joinLinks: (ConsultationParticipant & { url: string })[] };
  'consultation.booking_failed': { consultationId: string; kind: 'unreachable' | 'refused'; error: string };
  'consultation.held': ConsultationOutcomeData & { recording: ConsultationRecording | null };
  'consultation.not_held': ConsultationOutcomeData;
  'consultation.missed': { consultationId: string; roomId: string; endsAt: string; roomStatus: string | null };
  /** A province event whose payload the workflow could not accept (it is dropped, the case goes on). */
  'province.event_rejected': { eventId: string | null; problem: string };
}

export type CaseEventType = keyof CaseEventData;

export const CASE_EVENT_TYPES = [
  'case.submitted',
  'precheck.passed',
  'precheck.awaiting_consultation',
  'precheck.failed',
  'material.fetched',
  'material.not_shared',
  'transfer.created',
  'material.transferred',
  'review.started',
  'review.accepted',
  'decision.approved',
  'decision.rejected',
  'delivery.issued',
  'delivery.awaiting',
  'delivery.mailed',
  'delivery.returned',
  'delivery.confirmed',
  'case.closed',
  'case.completed',
  'intervention.required',
  'intervention.cleared',
  'intervention.retry',
  'step.recorded_offline',
  'case.rerouted',
  'case.withdrawal_requested',
  'withdrawal.refused',
  'case.withdrawn',
  'province.event_rejected',
  'correction.notice_issued',
  'correction.rounds_exceeded',
  'correction.supplemented',
  'correction.expired',
  'supplement.transferred',
  'joint.started',
  'joint.step_started',
  'participant.started',
  'participant.progress',
  'participant.decided',
  'participant.overdue',
  'participant.compensated',
  'correction.answered',
  'acceptance.deemed',
  'procedure.started',
  'procedure.ended',
  'extension.requested',
  'extension.approved',
  'extension.refused',
  'sla.started',
  'sla.changed',
  'sla.warning',
  'sla.overdue',
  'sla.escalated',
  'sla.stopped',
  'sla.unavailable',
  'sla.delivery_started',
  'sla.delivery_warning',
  'sla.delivery_overdue',
  'sla.delivery_stopped',
  'consultation.requested',
  'consultation.booked',
  'consultation.booking_failed',
  'consultation.held',
  'consultation.not_held',
  'consultation.missed',
] as const satisfies readonly CaseEventType[];

// Compile-time check that the list names every type of the union.
type Missing = Exclude<CaseEventType, (typeof CASE_EVENT_TYPES)[number]>;
const _allListed: Missing extends never ? true : Missing = true;
void _allListed;
