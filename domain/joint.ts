// 多地联办 (joint handling): several authorities, usually in different provinces, each do their part
// of one case; the applicant applies once, at one window. The item declares the participants
// (domain/items.ts `joint`): each one's role, how its region is read from the application, its
// step (steps run in order; participants sharing a step run in parallel) and its own time limit.
// At intake the participants are resolved against the application and pinned in the case input
// (`JointPlan`), each with the case id its authority knows it by; the case workflow then runs one
// child workflow per participant (workflows/joint/). Pure: the workflow imports these types.
import type { ItemDefinition, JOINT_ON_REJECTION } from './items.js';
import { isRegionCode, provinceOf } from './regions.js';

/** A participant resolved for one case: where it is, and the case id its authority knows the case by. */
export interface JointParticipant {
  key: string;
  role: string;
  department: string;
  /** Six-digit division code, resolved from the application at intake. */
  regionCode: string;
  provinceCode: string;
  step: number;
  timeLimitDays: number;
  /**
   * The case id this authority's system knows the case by (and calls back with): derived from the
   * case and the participant, so two participants in one province keep apart.
   */
  participantCaseId: string;
  /** Where this participant's province sends its callbacks. */
  callbackUrl: string;
  /** The participant whose region is the case's handling region issues the result. */
  issuesResult: boolean;
}

export interface JointPlan {
  participants: JointParticipant[];
  onRejection: (typeof JOINT_ON_REJECTION)[number];
}

export const PARTICIPANT_STATUSES = ['waiting', 'transferring', 'reviewing', 'awaiting_supplement', 'approved', 'rejected', 'not_supplemented', 'withdrawn', 'revoked', 'skipped'] as const;
export type ParticipantStatus = (typeof PARTICIPANT_STATUSES)[number];

/** One participant's progress, as the case state and the case view show it. */
export interface ParticipantState {
  key: string;
  role: string;
  regionCode: string;
  step: number;
  status: ParticipantStatus;
  provinceCaseId: string | null;
  startedAt: string | null;
  /** Its own limit: timeLimitDays working days from its start (null before it starts, or past the calendar data). */
  dueDate: string | null;
  dueAt: string | null;
  overdue: boolean;
  decidedAt: string | null;
  reasons: string[];
  /** What its compensation did, when the case failed or was withdrawn after it started. */
  compensation: string | null;
}

export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * The participants of a joint item for one application, or every problem with it: a region read
 * from an application field must be given and be a division code, and every participant's province
 * must have a configured gateway.
 */
export function resolveParticipants(
  item: Pick<ItemDefinition, 'joint' | 'applicationFields'>,
  application: { caseId: string; receivingRegion: string; handlingRegion: string; fields: Record<string, string> },
  opts: { hasProvince: (provinceCode: string) => boolean; callbackUrlFor: (provinceCode: string) => string; participantCaseId: (caseId: string, key: string) => string },
): { ok: true; plan: JointPlan } | { ok: false; problems: FieldProblem[] } {
  const problems: FieldProblem[] = [];
  if (!item.joint) return { ok: false, problems: [{ path: 'itemCode', message: 'is not an item handled jointly' }] };
  const participants: JointParticipant[] = [];
  for (const p of item.joint.participants) {
    let region: string | undefined;
    if (p.region.from === 'receiving') region = application.receivingRegion;
    else if (p.region.from === 'handling') region = application.handlingRegion;
    else region = application.fields[p.region.field ?? ''];
    const path = p.region.from === 'application' ? `fields.${p.region.field}` : `${p.region.from}Region`;
    if (!region) {
      problems.push({ path, message: `is required: it is the region of the ${p.role}` });
      continue;
    }
    if (!isRegionCode(region)) {
      problems.push({ path, message: `${region} is not a six-digit division code of a known province` });
      continue;
    }
    const provinceCode = provinceOf(region);
    if (!opts.hasProvince(provinceCode)) {
      problems.push({ path, message: `no gateway configured for province ${provinceCode} (the ${p.role})` });
      continue;
    }
    participants.push({
      key: p.key,
      role: p.role,
      department: p.department,
      regionCode: region,
      provinceCode,
      step: p.step,
      timeLimitDays: p.timeLimitDays,
      participantCaseId: opts.participantCaseId(application.caseId, p.key),
      callbackUrl: opts.callbackUrlFor(provinceCode),
      issuesResult: p.region.from === 'handling',
    });
  }
  if (problems.length) return { ok: false, problems };
  return { ok: true, plan: { participants, onRejection: item.joint.onRejection } };
}

/** The steps in order, each with its participants (run in parallel). */
export function jointSteps(plan: JointPlan): JointParticipant[][] {
  const steps = [...new Set(plan.participants.map((p) => p.step))].sort((a, b) => a - b);
  return steps.map((s) => plan.participants.filter((p) => p.step === s));
}

/** The application's fields: unknown keys, missing required ones and malformed regions, all at once. */
export function applicationFieldProblems(item: Pick<ItemDefinition, 'applicationFields'>, fields: Record<string, string>): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const declared = new Map(item.applicationFields.map((f) => [f.key, f]));
  for (const key of Object.keys(fields)) {
    if (!declared.has(key)) problems.push({ path: `fields.${key}`, message: `is not a field of this item${declared.size ? ` (its fields: ${[...declared.keys()].join(', ')})` : ' (it has none)'}` });
  }
  for (const f of item.applicationFields) {
    const value = fields[f.key];
    if (value === undefined || value === '') {
      if (f.required) problems.push({ path: `fields.${f.key}`, message: `is required: ${f.label}` });
      continue;
    }
    if (f.kind === 'region' && !isRegionCode(value)) problems.push({ path: `fields.${f.key}`, message: `${f.label} must be a six-digit division code (GB/T 2260) of a known province` });
  }
  return problems;
}
