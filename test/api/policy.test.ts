// The role-and-side policy (domain/policy.ts) as a table: who may do what to a case received in
// Guangzhou (440100) and handled in Chengdu (510100). Pure: no app, no database.
import { describe, expect, it } from 'vitest';
import { allowedRoles, mayAct, type CaseAction } from '../../domain/policy.js';
import type { StaffRole } from '../../domain/case.js';

const CASE = { receivingRegion: '440100', handlingRegion: '510100' };
const staff = (role: StaffRole, region: string) => ({ role, region });
const outcome = (role: StaffRole, region: string, action: CaseAction) => {
  const d = mayAct(staff(role, region), action, CASE);
  return d.ok ? 'ok' : d.status;
};

describe('role-and-side policy', () => {
  it('When staff on neither side ask for anything about the case, then the answer is 404 whatever their role', () => {
    for (const action of ['case.read', 'case.withdraw', 'case.retry', 'case.confirmDelivery', 'case.supplement', 'case.review', 'payload.decode'] as const) {
      expect(outcome('supervisor', '330000', action)).toBe(404);
      expect(outcome('clerk', '440300', action)).toBe(404);
    }
  });

  it('When the receiving side withdraws on the applicant’s request, then clerks and supervisors there may and the handling side may not', () => {
    expect(outcome('clerk', '440100', 'case.withdraw')).toBe('ok');
    expect(outcome('supervisor', '440000', 'case.withdraw')).toBe('ok');
    expect(outcome('approver', '510000', 'case.withdraw')).toBe(403);
    expect(outcome('clerk', '510100', 'case.withdraw')).toBe(403);
    expect(outcome('supervisor', '510000', 'case.withdraw')).toBe(403);
    expect(outcome('approver', '440100', 'case.withdraw')).toBe(403);
    const refused = mayAct(staff('supervisor', '510000'), 'case.withdraw', CASE);
    expect(refused).toEqual({ ok: false, status: 403, detail: "only the receiving side (440100) may withdraw a case on the applicant's request; a token for region 510000 is not on it" });
  });

  it('When a delivery is confirmed, then only the receiving side’s clerks and supervisors may', () => {
    expect(outcome('clerk', '440100', 'case.confirmDelivery')).toBe('ok');
    expect(outcome('supervisor', '440000', 'case.confirmDelivery')).toBe('ok');
    expect(outcome('clerk', '510100', 'case.confirmDelivery')).toBe(403);
    expect(outcome('approver', '440100', 'case.confirmDelivery')).toBe(403);
  });

  it('When a supplement to a correction notice is taken in, then only the receiving side’s clerks and supervisors may', () => {
    expect(outcome('clerk', '440100', 'case.supplement')).toBe('ok');
    expect(outcome('supervisor', '440000', 'case.supplement')).toBe('ok');
    expect(outcome('clerk', '510100', 'case.supplement')).toBe(403);
    expect(outcome('approver', '510100', 'case.supplement')).toBe(403);
    expect(outcome('approver', '440100', 'case.supplement')).toBe(403);
    expect(mayAct(staff('supervisor', '510000'), 'case.supplement', CASE)).toEqual({
      ok: false,
      status: 403,
      detail: "only the receiving side (440100) may take in the applicant's supplement to a correction notice; a token for region 510000 is not on it",
    });
  });

  it('When a case is reviewed, then only the handling side’s approvers may', () => {
    expect(outcome('approver', '510100', 'case.review')).toBe('ok');
    expect(outcome('approver', '440100', 'case.review')).toBe(403);
    expect(outcome('clerk', '510100', 'case.review')).toBe(403);
  });

  it('When a stuck step is retried, then clerks, approvers and supervisors of either side may', () => {
    for (const role of ['clerk', 'approver', 'supervisor'] as const) {
      expect(outcome(role, '440100', 'case.retry')).toBe('ok');
      expect(outcome(role, '510100', 'case.retry')).toBe('ok');
    }
    expect(outcome('manager', '440000', 'case.retry')).toBe(403);
  });

  it('When a video consultation is requested or its outcome recorded, then clerks, approvers and supervisors of either side may, managers may not', () => {
    for (const action of ['case.consult', 'case.consultationOutcome'] as const) {
      for (const role of ['clerk', 'approver', 'supervisor'] as const) {
        expect(outcome(role, '440100', action)).toBe('ok');
        expect(outcome(role, '510100', action)).toBe('ok');
      }
      expect(outcome('manager', '440000', action)).toBe(403);
      expect(outcome('clerk', '330000', action)).toBe(404);
    }
  });

  it('When a case is read, then clerks, approvers and supervisors of either side may; managers and item admins may not (they see reports, no personal data)', () => {
    for (const role of ['clerk', 'approver', 'supervisor'] as const) {
      expect(outcome(role, '440000', 'case.read')).toBe('ok');
      expect(outcome(role, '510000', 'case.read')).toBe('ok');
    }
    for (const role of ['manager', 'item_admin'] as const) expect(outcome(role, '440000', 'case.read')).toBe(403);
  });

  it('When payloads are decoded, then supervisors and approvers of either side may and clerks may not', () => {
    expect(outcome('supervisor', '440000', 'payload.decode')).toBe('ok');
    expect(outcome('approver', '510100', 'payload.decode')).toBe('ok');
    expect(outcome('clerk', '440100', 'payload.decode')).toBe(403);
  });

  it('When a case is taken in, then the receiving side is required and a stranger gets 403, not 404', () => {
    expect(outcome('clerk', '440100', 'case.submit')).toBe('ok');
    expect(outcome('clerk', '440300', 'case.submit')).toBe(403);
    expect(outcome('clerk', '510100', 'case.submit')).toBe(403);
    expect(allowedRoles('case.submit')).toEqual(['clerk', 'supervisor']);
  });
});
