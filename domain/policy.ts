// Who may do what to a case: one table of actions, each with the staff roles allowed and the side
// of the case the staff member must be on. A cross-province case has two sides: the receiving
// side (the window where the applicant came, `receivingRegion`) and the handling side (the
// authority that decides, `handlingRegion`); a staff member is on a side when their region covers
// that side's region (regionCovers), so supervisors act only within their own region. Routes read
// `allowedRoles` for their role gate and call `mayAct` once the case's regions are known. Pure, so
// the api, the codec and tests share one rule.
import { STAFF_ROLES, type StaffRole } from './case.js';
import { regionCovers } from './regions.js';

export type Side = 'receiving' | 'handling' | 'either';

export interface PolicyRule {
  roles: readonly StaffRole[];
  side: Side;
  /** How the action reads in a refusal: "only the receiving side (440100) may <what>". */
  what: string;
  /**
   * Whether a staff member on neither side is told the case does not exist (404, as for every
   * read). False for intake, where the case is not there yet and the answer is a plain 403.
   */
  hidesCase: boolean;
}

export const CASE_POLICY = {
  'case.submit': { roles: ['clerk', 'supervisor'], side: 'receiving', what: 'take in a case', hidesCase: false },
  // Managers answer for the figures (GET /v1/reports/sla), item admins for the catalog: neither sees a citizen's case.
  'case.read': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: "read a case and its applicant's data", hidesCase: true },
  // Who read the case's personal data and every staff action on it: oversight, so the supervisors
  // of either side; not approvers or clerks (their colleagues' reads are not their work), not
  // managers (the rows' reasons and details may carry personal data).
  'case.readAccessLog': { roles: ['supervisor'], side: 'either', what: "read the case's access log", hidesCase: true },
  'case.withdraw': { roles: ['clerk', 'supervisor'], side: 'receiving', what: "withdraw a case on the applicant's request", hidesCase: true },
  'case.confirmDelivery': { roles: ['clerk', 'supervisor'], side: 'receiving', what: 'confirm a window pick-up or a mail receipt', hidesCase: true },
  'case.supplement': { roles: ['clerk', 'supervisor'], side: 'receiving', what: "take in the applicant's supplement to a correction notice", hidesCase: true },
  'case.extend': { roles: ['approver'], side: 'handling', what: 'ask to extend the time limit (art. 42)', hidesCase: true },
  'case.decideExtension': { roles: ['supervisor'], side: 'handling', what: 'approve or refuse an extension of the time limit', hidesCase: true },
  'case.review': { roles: ['approver'], side: 'handling', what: 'review a case', hidesCase: true },
  'case.message': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: 'write to or acknowledge the other office (工作联络)', hidesCase: true },
  'case.evaluate': { roles: ['clerk', 'supervisor'], side: 'receiving', what: "record the applicant's evaluation (好差评)", hidesCase: true },
  'case.sendOriginals': { roles: ['clerk', 'supervisor'], side: 'receiving', what: 'record paper originals posted to the handling authority', hidesCase: true },
  'case.receiveOriginals': { roles: ['approver', 'supervisor'], side: 'handling', what: 'record the arrival of posted paper originals', hidesCase: true },
  'case.retry': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: 'retry a stuck step', hidesCase: true },
  'case.consult': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: 'request a video consultation (视频会商)', hidesCase: true },
  'case.consultationOutcome': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: "record a video consultation's outcome", hidesCase: true },
  'case.note': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: 'add a note to the case', hidesCase: true },
  'case.reassign': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: "hand the case to a colleague of one's side", hidesCase: true },
  // 改派 changes the legal record: asked by the window holding the applicant's file, decided by a
  // second person there (api/approvals.ts).
  'case.reroute': { roles: ['clerk', 'supervisor'], side: 'receiving', what: 'ask to reroute the case to another handling authority (改派)', hidesCase: true },
  'case.approveReroute': { roles: ['supervisor'], side: 'receiving', what: 'approve or refuse a reroute', hidesCase: true },
  // 线下办理: asked and decided on the side whose step it records (domain/staffActions.ts offlineStepOf);
  // the side is checked once the step is known.
  'case.recordOffline': { roles: ['clerk', 'approver', 'supervisor'], side: 'either', what: 'record a step as done outside the system', hidesCase: true },
  'case.approveOffline': { roles: ['supervisor'], side: 'either', what: 'approve or refuse a step recorded as done outside the system', hidesCase: true },
  'payload.decode': { roles: ['supervisor', 'approver'], side: 'either', what: "decode a case's Temporal payloads", hidesCase: true },
  'payload.encode': { roles: ['supervisor', 'approver'], side: 'either', what: "encode a case's Temporal payloads", hidesCase: true },
} as const satisfies Record<string, PolicyRule>;

export type CaseAction = keyof typeof CASE_POLICY;

/**
 * Who may read and change the item catalog (事项目录). It is national, so there is no side: item
 * admins write it, and every staff role reads it (a clerk checks what an item asks for, an approver
 * what a case was accepted under).
 */
export const ITEM_POLICY = {
  'item.read': { roles: STAFF_ROLES, what: 'read the item catalog' },
  'item.create': { roles: ['item_admin'], what: 'create a draft version of an item' },
  'item.publish': { roles: ['item_admin'], what: 'publish an item version' },
  'item.retire': { roles: ['item_admin'], what: 'retire an item version' },
} as const satisfies Record<string, Pick<PolicyRule, 'roles' | 'what'>>;

export type ItemAction = keyof typeof ITEM_POLICY;

/** The roles allowed an item action (for a route's role gate). */
export function allowedItemRoles(action: ItemAction): readonly StaffRole[] {
  return ITEM_POLICY[action].roles;
}

export interface CaseSides {
  receivingRegion: string;
  handlingRegion: string;
}

export interface StaffScope {
  role: StaffRole;
  region: string;
}

export type Decision = { ok: true } | { ok: false; status: 403 | 404; detail: string };

/** The roles allowed to attempt an action at all (for a route's role gate). */
export function allowedRoles(action: CaseAction): readonly StaffRole[] {
  return CASE_POLICY[action].roles;
}

/** Which sides of the case the staff member is on. */
export function sidesOf(staff: Pick<StaffScope, 'region'>, c: CaseSides): { receiving: boolean; handling: boolean } {
  return { receiving: regionCovers(staff.region, c.receivingRegion), handling: regionCovers(staff.region, c.handlingRegion) };
}

/**
 * Whether `staff` may do `action` to the case with these sides. Order matters: a staff member on
 * neither side learns nothing (404, the case "does not exist"); one who can see the case but has
 * the wrong role or stands on the wrong side is told why (403).
 */
export function mayAct(staff: StaffScope, action: CaseAction, c: CaseSides): Decision {
  const rule: PolicyRule = CASE_POLICY[action];
  const on = sidesOf(staff, c);
  if (rule.hidesCase && !on.receiving && !on.handling) return { ok: false, status: 404, detail: 'no such case' };
  if (!rule.roles.includes(staff.role)) {
    return { ok: false, status: 403, detail: `the role ${staff.role} may not ${rule.what}; allowed: ${rule.roles.join(', ')}` };
  }
  if (rule.side === 'receiving' && !on.receiving) {
    return { ok: false, status: 403, detail: `only the receiving side (${c.receivingRegion}) may ${rule.what}; a token for region ${staff.region} is not on it` };
  }
  if (rule.side === 'handling' && !on.handling) {
    return { ok: false, status: 403, detail: `only the handling side (${c.handlingRegion}) may ${rule.what}; a token for region ${staff.region} is not on it` };
  }
  if (rule.side === 'either' && !on.receiving && !on.handling) {
    return { ok: false, status: 403, detail: `only staff of the receiving (${c.receivingRegion}) or handling (${c.handlingRegion}) side may ${rule.what}` };
  }
  return { ok: true };
}
