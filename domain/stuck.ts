// Stuck cases (issue 9): a case is stuck when any of these holds, each reported with its reason
// and since when, so the staff who must unblock it see why and how long it has waited:
//   - `intervention`: flagged for intervention (a province unreachable or refusing past the retry
//     budget, a projection that would not write), with the step and the last error;
//   - `province_silent`: at the handling authority (transfer or review) and nothing heard from it
//     (no event, no callback) for longer than the threshold;
//   - `idle`: no state change for N working hours (office hours on working days);
//   - `sla_red`: a time limit overdue;
//   - `consultation_missed`: a video consultation whose time passed without an outcome;
//   - `liaison_unanswered`: a liaison message between the offices not acknowledged within
//     LIAISON_REPLY_HOURS office hours;
//   - `workflow_failing`: Temporal reports the case's workflow task failing (a bad deploy, a bad
//     payload), asked of Temporal by the api.
// Pure: the thresholds arrive as instants computed by the caller (api/stuckCases.ts).
import type { CaseSla, Consultation, Intervention } from './case.js';

export const STUCK_REASONS = ['intervention', 'province_silent', 'idle', 'sla_red', 'consultation_missed', 'liaison_unanswered', 'workflow_failing'] as const;
export type StuckReasonCode = (typeof STUCK_REASONS)[number];

export interface StuckReason {
  reason: StuckReasonCode;
  /** Since when it holds (ISO instant). */
  since: string;
  /** What a person needs to act: the step and error, the limit overdue, the message… */
  detail: string;
}

/** What the rules read of a case (its projection row and what hangs off it). */
export interface StuckCandidate {
  status: string;
  stage: string;
  needsIntervention: boolean;
  intervention: Intervention | null;
  sla: CaseSla | null;
  updatedAt: string;
  lastProvinceAt: string | null;
  consultations: Consultation[];
  /** The oldest liaison message not acknowledged, if any. */
  oldestUnanswered: { sentAt: string; to: string } | null;
  /** Temporal's report of a failing workflow task, if the api asked and there is one. */
  workflowProblem: { since: string; detail: string } | null;
}

export interface StuckThresholds {
  /** Silent since before this instant: the authority has been silent longer than the threshold. */
  provinceSilentBefore: Date;
  /** Unchanged since before this: idle for N working hours. */
  idleBefore: Date;
  /** Sent before this and not acknowledged: past the reply time. */
  liaisonDueBefore: Date;
}

const OPEN = new Set(['active', 'awaiting_supplement']);

/** The reasons a case is stuck, oldest first; empty when it is not. */
export function stuckReasons(c: StuckCandidate, t: StuckThresholds): StuckReason[] {
  if (!OPEN.has(c.status)) return [];
  const reasons: StuckReason[] = [];
  if (c.needsIntervention) {
    const i = c.intervention;
    reasons.push({
      reason: 'intervention',
      since: i?.since ?? c.updatedAt,
      detail: i ? `${i.kind ?? 'unreachable'} at ${i.step}: ${i.error}${i.status ? ` (HTTP ${i.status})` : ''}${i.reason ? ` — ${i.reason}` : ''}` : 'flagged for intervention',
    });
  }
  const atAuthority = c.status === 'active' && (c.stage === 'transfer' || c.stage === 'review');
  if (atAuthority && c.lastProvinceAt && Date.parse(c.lastProvinceAt) < t.provinceSilentBefore.getTime()) {
    reasons.push({ reason: 'province_silent', since: c.lastProvinceAt, detail: `nothing heard from the handling authority since ${c.lastProvinceAt}` });
  }
  if (c.status === 'active' && Date.parse(c.updatedAt) < t.idleBefore.getTime()) {
    reasons.push({ reason: 'idle', since: c.updatedAt, detail: `no change at stage ${c.stage} since ${c.updatedAt}` });
  }
  const red = redLimit(c.sla);
  if (red) reasons.push(red);
  for (const k of c.consultations) {
    if (k.status === 'missed' && !k.outcome) {
      reasons.push({ reason: 'consultation_missed', since: k.missedAt ?? k.endsAt ?? k.requestedAt, detail: `video consultation ${k.consultationId} (${k.topic}) passed without an outcome` });
    }
  }
  if (c.oldestUnanswered && Date.parse(c.oldestUnanswered.sentAt) < t.liaisonDueBefore.getTime()) {
    reasons.push({ reason: 'liaison_unanswered', since: c.oldestUnanswered.sentAt, detail: `a liaison message to the ${c.oldestUnanswered.to} side is not acknowledged` });
  }
  if (c.workflowProblem) reasons.push({ reason: 'workflow_failing', since: c.workflowProblem.since, detail: c.workflowProblem.detail });
  return reasons.sort((a, b) => a.since.localeCompare(b.since));
}

function redLimit(sla: CaseSla | null): StuckReason | null {
  if (!sla || sla.state !== 'red' || sla.settled) return null;
  const limits = (['statutory', 'promised'] as const).filter((k) => sla[k].state === 'red');
  const first = limits.map((k) => ({ k, dueAt: sla[k].dueAt })).sort((a, b) => (a.dueAt ?? '').localeCompare(b.dueAt ?? ''))[0];
  const since = first?.dueAt ?? sla.escalatedAt ?? sla.readAt;
  return { reason: 'sla_red', since, detail: `${limits.join(' and ')} time limit overdue${first ? ` since ${since}` : ''}` };
}

/** How long a stuck case has waited: its oldest reason; the list shows the longest waits first. */
export function stuckSince(reasons: readonly StuckReason[]): string {
  return reasons.reduce((min, r) => (r.since < min ? r.since : min), reasons[0]?.since ?? '');
}
