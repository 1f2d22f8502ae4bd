// What staff can do to a stuck or wandering case from the console (POST /v1/cases/:id/actions/<action>),
// and, for the two actions that change the legal record and so need a second person's approval
// (record-offline, reroute), which side decides and what each will do to the deadlines and to the
// other office, shown before anyone confirms. Pure: the API and the console's tests share it.
import type { CaseStage, CaseStatus, Intervention } from './case.js';
import type { Side } from './policy.js';
import { PROVINCES, provinceOf } from './regions.js';

export const STAFF_ACTIONS = ['retry', 'record-offline', 'reroute', 'extend', 'withdraw', 'reassign', 'note'] as const;
export type StaffAction = (typeof STAFF_ACTIONS)[number];

/** The actions whose request waits for a second staff member's approval (four eyes). */
export const FOUR_EYES_ACTIONS = ['record-offline', 'reroute'] as const satisfies readonly StaffAction[];
export type FourEyesAction = (typeof FOUR_EYES_ACTIONS)[number];

export function isFourEyes(action: StaffAction): action is FourEyesAction {
  return (FOUR_EYES_ACTIONS as readonly string[]).includes(action);
}

export interface OfflineStep {
  /** Whose step it is: that side asks for and approves the record. */
  side: Exclude<Side, 'either'>;
  /** What was done outside the system, for the record and the preview. */
  what: string;
  /** The authority's number for a case it created outside the system is required. */
  needsProvinceCaseId: boolean;
}

/**
 * The steps a case can be stuck on that may be recorded as done offline, with whose they are: the
 * transfer of the materials (材料流转) is the receiving window's duty. Every other step (polls, the
 * SLA clock's readings, a projection write, a participant's steps) is retried, not recorded.
 * Must match the steps workflows/case/transfer.ts runs with `offlineStep`.
 */
export function offlineStepOf(step: string): OfflineStep | null {
  if (step === 'createProvinceCase') return { side: 'receiving', what: '在办理地系统外创建办件 (the case was created at the authority outside the system)', needsProvinceCaseId: true };
  if (step.startsWith('uploadMaterial:')) {
    return { side: 'receiving', what: `材料 ${step.slice('uploadMaterial:'.length)} 已线下递交 (the material was delivered outside the system)`, needsProvinceCaseId: false };
  }
  if (step === 'submitProvinceCase') return { side: 'receiving', what: '已在办理地系统外提交审查 (the case was submitted for review outside the system)', needsProvinceCaseId: false };
  return null;
}

/** The stages before the handling authority has the materials: the only ones a reroute fits. */
export const REROUTABLE_STAGES: readonly CaseStage[] = ['intake', 'precheck', 'correction', 'transfer'];

export function regionLabel(region: string): string {
  const province = PROVINCES[provinceOf(region)] ?? provinceOf(region);
  return region === provinceOf(region) ? `${province} (${region})` : `${province} ${region}`;
}

/** One time limit before and after the action. */
export interface DeadlineEffect {
  limit: 'promised' | 'statutory';
  /** The due date now, null while the clock has not started (or a pause holds it). */
  before: string | null;
  after: string | null;
  note: string;
}

export interface ActionEffects {
  summary: string;
  deadlines: DeadlineEffect[];
  otherOffice: string;
}

export interface EffectCase {
  caseId: string;
  stage: CaseStage;
  status: CaseStatus;
  receivingRegion: string;
  handlingRegion: string;
  intervention: Intervention | null;
  /** The current due dates (GET /v1/cases/:id/deadlines), null when not started. */
  promisedDue: string | null;
  statutoryDue: string | null;
  clockStarted: boolean;
}

/**
 * Why the action does not fit the case as the projection shows it now (the 409 the request gets), or
 * null. The workflow checks again when the action is carried out, since the case may move meanwhile.
 */
export function refusalFor(action: FourEyesAction, c: EffectCase, params: { step?: string; handlingRegion?: string }): string | null {
  if (c.status !== 'active' && c.status !== 'awaiting_supplement') return `the case is already ${c.status}`;
  if (action === 'reroute') {
    if (!REROUTABLE_STAGES.includes(c.stage)) return `the handling authority already has the materials (the case is at ${c.stage}): it decides the case or refuses it, it is no longer rerouted`;
    if (params.handlingRegion === c.handlingRegion) return `the case is already handled in ${c.handlingRegion}`;
    return null;
  }
  if (!c.intervention) return 'the case is not stuck on a step: nothing to record as done offline';
  if (c.intervention.step !== params.step) return `the case is stuck on ${c.intervention.step}, not ${params.step}`;
  if (!offlineStepOf(c.intervention.step)) return `${c.intervention.step} cannot be done outside the system: retry it, or reroute or withdraw the case`;
  return null;
}

/** What a reroute or a record-offline will do, for the staff member about to confirm or approve it. */
export function effectsOf(action: FourEyesAction, c: EffectCase, params: { step?: string; handlingRegion?: string; provinceCaseId?: string }): ActionEffects {
  const limits: DeadlineEffect['limit'][] = ['promised', 'statutory'];
  const due = (l: DeadlineEffect['limit']) => (l === 'promised' ? c.promisedDue : c.statutoryDue);
  if (action === 'reroute') {
    const to = params.handlingRegion!;
    return {
      summary: `改派：本件由 ${regionLabel(c.handlingRegion)} 改由 ${regionLabel(to)} 办理 (rerouted from ${c.handlingRegion} to ${to})`,
      deadlines: limits.map((limit) => ({
        limit,
        before: due(limit),
        after: null,
        note: c.clockStarted
          ? '办理地已收到材料，不能改派 (the authority has the materials: no reroute)'
          : `尚未起算：自 ${regionLabel(to)} 收到全部材料之日起计算，原办理地的时间不计入 (not started: counts from the day ${to} receives the materials; nothing at ${c.handlingRegion} counts)`,
      })),
      otherOffice:
        c.stage === 'transfer'
          ? `${regionLabel(c.handlingRegion)} 若已建档，其办件将被撤回并注明改派；${regionLabel(to)} 将收到全部材料 (the old authority's case, if created, is withdrawn with the reroute as its reason; the new authority receives every material)`
          : `材料尚未发往 ${regionLabel(c.handlingRegion)}；将发往 ${regionLabel(to)} (nothing was sent to the old authority yet; the materials go to the new one)`,
    };
  }
  const step = offlineStepOf(params.step ?? '');
  return {
    summary: `线下办理：${params.step} 记为已在系统外完成，办件继续下一步 (${params.step} recorded as done outside the system; the case moves on)${step ? `: ${step.what}` : ''}`,
    deadlines: limits.map((limit) => ({
      limit,
      before: due(limit),
      after: due(limit),
      note: c.clockStarted
        ? '不变：已用时间照常计算 (unchanged: the time used stays counted)'
        : '不变：仍自办理地收到全部材料之日起计算 (unchanged: still counts from the day the authority has every material)',
    })),
    otherOffice:
      params.step === 'createProvinceCase'
        ? `${regionLabel(c.handlingRegion)} 的办件编号记为 ${params.provinceCaseId ?? '—'}，此后的材料与提交经系统发往该办件 (the authority's case number is recorded; later materials and the submission go to it through the system)`
        : `${regionLabel(c.handlingRegion)} 将在交接记录中看到此步骤为线下完成，附证明材料 (the authority sees the step as done offline in the hand-off record, with the evidence)`,
  };
}
