// Reads of a case's personal data by staff, as the audit log records them and as the applicant sees
// them in the progress lookup (docs/security.md "The audit log"). Every staff route that answers a
// case's personal data writes one `case.read` row per case with the view it read and the side of the
// case the reader stood on; the codec's decodes are `payload.decode` rows. The applicant is told
// which office read what and when (the province and the side, "四川省 办理地"), never who. Pure, so
// the api and tests share one vocabulary.
import { PROVINCES, provinceOf } from './regions.js';

/** What a `case.read` row read: the staff route, and how the applicant's trail names it. */
export const READ_VIEWS = {
  case: { route: 'GET /v1/cases/:caseId', text: '查看办件信息' },
  messages: { route: 'GET /v1/cases/:caseId/messages', text: '查看工作联络' },
  evaluation: { route: 'GET /v1/cases/:caseId/evaluation', text: '查看评价' },
  'follow-ups': { route: 'GET /v1/follow-ups', text: '查看差评回访' },
  'access-log': { route: 'GET /v1/cases/:caseId/access-log', text: '查看访问记录' },
} as const satisfies Record<string, { route: string; text: string }>;

export type ReadView = keyof typeof READ_VIEWS;

/** The audit actions that are reads of personal data (the applicant's trail shows these). */
export const DATA_ACCESS_ACTIONS = ['case.read', 'payload.decode'] as const;
export type DataAccessAction = (typeof DATA_ACCESS_ACTIONS)[number];

/** Decoding the case's Temporal payloads opens its full, unmasked data. */
const DECODE_TEXT = '查看办件原始数据（解密）';

/** Which side of the case the reader stood on: their region covers the receiving, the handling, or both regions. */
export type ReaderSide = 'receiving' | 'handling' | 'both';

export function readerSide(on: { receiving: boolean; handling: boolean }): ReaderSide | null {
  if (on.receiving && on.handling) return 'both';
  if (on.receiving) return 'receiving';
  if (on.handling) return 'handling';
  return null;
}

const SIDE_TEXT: Record<ReaderSide, string> = { receiving: '收件地', handling: '办理地', both: '收件地、办理地' };

/** An office as the applicant is shown it: the region, its province and the side, never a person. */
export interface Office {
  region: string;
  province: string;
  side: ReaderSide | null;
  /** "四川省 办理地". */
  label: string;
}

export function officeOf(region: string, side: ReaderSide | null): Office {
  const province = PROVINCES[provinceOf(region)] ?? region;
  return { region, province, side, label: side ? `${province} ${SIDE_TEXT[side]}` : province };
}

/** One entry of the applicant's data-access trail. */
export interface DataAccessEntry {
  at: string;
  office: Office;
  /** `case.read` or `payload.decode`. */
  kind: DataAccessAction;
  /** The view read (`case`, `messages`, …); null for a decode. */
  view: ReadView | null;
  /** What was read, in the applicant's words. */
  text: string;
}

/** An audit row of a read as the applicant's trail shows it: the reader's actor and role are dropped here. */
export function dataAccessEntryOf(row: { at: string; region: string; action: string; detail: Record<string, unknown> }): DataAccessEntry {
  const side = isReaderSide(row.detail.side) ? row.detail.side : null;
  const view = isReadView(row.detail.view) ? row.detail.view : null;
  const kind: DataAccessAction = row.action === 'payload.decode' ? 'payload.decode' : 'case.read';
  const text = kind === 'payload.decode' ? DECODE_TEXT : view ? READ_VIEWS[view].text : READ_VIEWS.case.text;
  return { at: row.at, office: officeOf(row.region, side), kind, view: kind === 'payload.decode' ? null : view, text };
}

function isReaderSide(v: unknown): v is ReaderSide {
  return v === 'receiving' || v === 'handling' || v === 'both';
}

function isReadView(v: unknown): v is ReadView {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(READ_VIEWS, v);
}
