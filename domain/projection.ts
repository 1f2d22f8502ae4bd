// What the case workflow sends its projection with each event: the case-row fields that changed
// since its last write (the event itself carries stage and status). Shared by the workflow's
// recorder and the projection activity.
import type { ParticipantState } from './joint.js';
import type { CaseSla, Consultation, CorrectionNotice, CorrectionSide, Decision, DeliveryState, Intervention } from './case.js';

export interface CaseRowChanges {
  needsIntervention?: Intervention | null;
  decision?: Decision | null;
  delivery?: DeliveryState;
  provinceCaseId?: string | null;
  correction?: CorrectionNotice | null;
  correctionRounds?: Record<CorrectionSide, number>;
  sla?: CaseSla | null;
  /** The case's video consultations (视频会商), whole. */
  consultations?: Consultation[];
  /** 多地联办: each participant's progress, whole; null for a single authority. */
  participants?: ParticipantState[] | null;
}

/**
 * `written`: applied (or already there); `snapshot-required`: the case row was last written by
 * another run of the workflow (after a reset), so the next write must carry every field;
 * `superseded`: this run was replaced by a newer one and its writes are ignored.
 */
export type ProjectionWriteResult = 'written' | 'snapshot-required' | 'superseded';
