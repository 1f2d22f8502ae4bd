// The applicant's side of a case: the receipt (回执) printed at intake, and the public progress
// lookup (GET /v1/progress/:caseId?code=…) it makes possible. The lookup needs no login, so it shows
// nothing personal beyond the masked name, and it answers a wrong code exactly as it answers an
// unknown case (404, same body), so it cannot be used to find out which case numbers exist. It also
// tells the applicant which offices read their file and when (dataAccess, from the audit log), by
// office and side only, never the staff member.
import type pg from 'pg';
import { queryCodeFor, queryCodeMatches } from '../crypto/queryCode.js';
import { findProgress, type ProgressRecord } from '../db/caseQueries.js';
import { materialNamesOfCase } from '../db/items.js';
import type { CaseStage, CaseStatus } from '../domain/case.js';
import type { DataAccessEntry } from '../domain/dataAccess.js';
import { dataAccessTrail } from './accessLog.js';
import { problem } from './problem.js';

export interface Receipt {
  /** With the case number, lets the applicant look up the progress without logging in. */
  queryCode: string;
  /** Where to look it up (relative to the api). */
  progressPath: string;
}

export function receiptFor(hashKey: string, caseId: string): Receipt {
  const queryCode = queryCodeFor(hashKey, caseId);
  return { queryCode, progressPath: `/v1/progress/${caseId}?code=${queryCode}` };
}

export interface Progress {
  caseId: string;
  itemName: string;
  /** Masked. */
  applicantName: string;
  stage: CaseStage;
  status: CaseStatus;
  /** Where the case stands, in the applicant's words. */
  statusText: string;
  /** What the applicant must do next (or that nothing is needed). */
  nextStep: string;
  /** The day the applicant can expect the next thing: the supplement deadline while one is asked for, else the promised due date; null when not yet known or closed. */
  expectedDate: string | null;
  submittedAt: string;
  closedAt: string | null;
  /** Staff reads of the applicant's personal data, newest first (at most DATA_ACCESS_TRAIL_LIMIT): which office, when, what; never who. */
  dataAccess: DataAccessEntry[];
}

/** The lookup: 404 for an unknown case and for a wrong code alike. */
export async function lookupProgress(pool: pg.Pool, hashKey: string, caseId: string, code: string): Promise<Progress> {
  const record = await findProgress(pool, caseId);
  if (!record || !queryCodeMatches(hashKey, caseId, code)) throw problem(404, 'no case with this number and query code');
  // Material names as the item version the case was accepted under calls them.
  const [materialNames, dataAccess] = await Promise.all([
    record.status === 'awaiting_supplement' ? materialNamesOfCase(pool, caseId) : new Map<string, string>(),
    dataAccessTrail(pool, caseId),
  ]);
  return progressOf(record, materialNames, dataAccess);
}

/** `materialNames`: code → name in the case's item version, for the materials a notice asks for. */
export function progressOf(r: ProgressRecord, materialNames: ReadonlyMap<string, string> = new Map(), dataAccess: DataAccessEntry[] = []): Progress {
  const { statusText, nextStep } = describe(r, materialNames);
  const open = r.closedAt === null;
  const expectedDate = !open ? null : r.status === 'awaiting_supplement' ? (r.correction?.supplementDue ?? null) : r.dueDate;
  return {
    caseId: r.caseId,
    itemName: r.itemName,
    applicantName: r.applicantName,
    stage: r.stage,
    status: r.status,
    statusText,
    nextStep,
    expectedDate,
    submittedAt: r.submittedAt,
    closedAt: r.closedAt,
    dataAccess,
  };
}

const NOTHING_TO_DO = '无需操作，请耐心等待。';

function describe(r: ProgressRecord, names: ReadonlyMap<string, string>): { statusText: string; nextStep: string } {
  switch (r.status) {
    case 'awaiting_supplement': {
      const list = (r.correction?.deficiencies ?? []).map((d) => `${names.get(d.materialCode) ?? d.materialCode}（${d.problem}；${d.needed}）`).join('；');
      const due = r.correction?.supplementDue ? `请于${r.correction.supplementDue}前` : '请尽快';
      return { statusText: '待补正材料', nextStep: `${due}到受理窗口补齐以下材料：${list}。逾期未补正的，将终止办理。` };
    }
    case 'completed':
      return { statusText: '已办结', nextStep: r.delivery.method === 'electronic' ? '电子证照已签发，可在政务服务平台查看。' : '办理结果已送达。' };
    case 'rejected':
      return { statusText: '不予许可', nextStep: '办理地已作出不予许可的决定，理由请到受理窗口查询；如有异议，可依法申请行政复议或者提起行政诉讼。' };
    case 'withdrawn':
      return { statusText: '已撤回', nextStep: '申请已撤回，办理终止。' };
    case 'not_supplemented':
      return { statusText: '未补正，已终止', nextStep: '未在期限内补齐材料，办理已终止；可重新提出申请。' };
    case 'not_accepted':
      return { statusText: '不予受理', nextStep: '申请不予受理，原因请到受理窗口查询；可补齐条件后重新提出申请。' };
    case 'active':
      break;
  }
  switch (r.stage) {
    case 'intake':
    case 'precheck':
      return { statusText: '已收件，正在预审', nextStep: NOTHING_TO_DO };
    case 'transfer':
      return { statusText: '材料正在转交办理地', nextStep: NOTHING_TO_DO };
    case 'review':
    case 'correction':
      return { statusText: '办理地审查中', nextStep: NOTHING_TO_DO };
    case 'decision':
      return { statusText: '已作出决定，正在送达', nextStep: NOTHING_TO_DO };
    case 'delivery':
      if (r.delivery.method === 'window') return { statusText: '结果已送达受理窗口', nextStep: '请携带身份证件和回执到受理窗口领取办理结果。' };
      if (r.delivery.method === 'mail') {
        return r.delivery.status === 'mailed'
          ? { statusText: '结果已邮寄', nextStep: `请注意查收邮件${r.delivery.trackingNumber ? `（运单号 ${r.delivery.trackingNumber}）` : ''}。` }
          : { statusText: '结果待邮寄', nextStep: NOTHING_TO_DO };
      }
      return { statusText: '正在签发电子证照', nextStep: NOTHING_TO_DO };
    case 'closed':
      return { statusText: '已办结', nextStep: '办理已结束。' };
  }
}
