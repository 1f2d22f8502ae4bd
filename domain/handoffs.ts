// The hand-off ledger (交接台账, issue 7): every hand-off between the offices of a case and the
// applicant (materials, supplements, notices, the decision, the result, the post; later paper
// originals and liaison attachments) is one entry: what was handed over (content hashes), from
// which party to which, when it was sent and when the receiver acknowledged it. Entries are chained
// by hash, so neither side can rewrite history unnoticed, and a verifier recomputes the chain.
// Beside it, custody: who held the case when, and the working days each party held it, so each
// day of delay is attributable.
//
// This module is the pure part: which entries a recorded case event creates (`handoffsFromEvent`),
// the entry hash and the chain check (`chainEntry`, `verifyEntries`), and custody
// (`custodyOf`, `workingDaysHeld`). The SQL is db/handoffs.ts; the read is api/handoffs.ts.
// SHA-256 comes from node:crypto (deterministic, no I/O); workflow code has no use for the
// ledger and must not import this module (its bundle refuses Node built-ins).
//
// The chain is append-only. An acknowledgement that arrives later (the applicant signing for a
// mailed result) never updates the entry it acknowledges: it is an entry of its own, kind `ack`,
// naming the acknowledged entry's seq. An entry whose receipt is part of the same hand-off (an
// upload the province's receipt hash-checked) is written acknowledged.
import { createHash } from 'node:crypto';
import { CalendarRangeError } from './calendar.js';
import { canonicalJson } from './canonicalJson.js';
import { dateInChina } from './dates.js';

/** The parties of a hand-off, and the holders of a case. */
export const HANDOFF_PARTIES = ['receiving', 'handling', 'applicant', 'post', 'datahub'] as const;
export type HandoffParty = (typeof HANDOFF_PARTIES)[number];
/** The parties that can hold a case (the data-sharing hub only ever hands something over). */
export type CustodyHolder = Exclude<HandoffParty, 'datahub'>;

export const HANDOFF_KINDS = [
  /** An original material sent to the handling authority (material.transferred). */
  'material',
  /** A supplement: from the applicant to the receiving window, then each file to the handling authority. */
  'supplement',
  /** A one-time correction notice (一次性告知) to the applicant. */
  'correction_notice',
  /** The notice to the applicant of an approved extension (art. 42: the reasons are told). */
  'extension_notice',
  /** The written notice to the applicant of an art. 45 procedure, when the authority names one. */
  'procedure_notice',
  /** The handling authority's decision, to the receiving side. */
  'decision',
  /** The result to the applicant: an electronic certificate, or picked up at the window. */
  'result',
  /** The result handed to the post, with its tracking number. */
  'result_by_post',
  /** Paper originals sent by post (no case event yet: appendHandoff in db/handoffs.ts). */
  'original_by_post',
  /** A file attached to a liaison message between the offices (no case event yet: appendHandoff). */
  'liaison_attachment',
  /** A 免提交 material fetched from the data-sharing hub (datahub → receiving), hash-checked on download. */
  'shared_data',
  /** The acknowledgement of an earlier entry, given after it. */
  'ack',
] as const;
export type HandoffKind = (typeof HANDOFF_KINDS)[number];

/** One thing handed over: flat JSON, content hashes as 64 hex characters. */
export type HandoffItem = Readonly<Record<string, string | number | null>>;

/** The prev_hash of a chain's first entry (there is no entry before it): 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** An entry before it has a place in the chain. */
export interface HandoffDraft {
  kind: HandoffKind;
  /**
   * What is handed over, named within the case (`material:<code>`, `notice:<noticeId>`,
   * `result:post`, …): an `ack` names the entry it acknowledges by it, and a hand-off appended
   * without an event (appendHandoff) is idempotent by it.
   */
  ref: string;
  from: HandoffParty;
  to: HandoffParty;
  what: HandoffItem[];
  /** ISO instant. */
  sentAt: string;
  /** ISO instant of a receipt that is part of the same hand-off; null when none is recorded with it. */
  acknowledgedAt: string | null;
  /** For kind `ack`: the ref of the entry acknowledged (the latest entry with that ref). */
  acknowledgesRef?: string;
}

/** The case event that produced an entry: its seq and the workflow run that recorded it. */
export interface HandoffSource {
  eventSeq: number;
  /** null for cases on the legacy projection write, which carries no run id. */
  runId: string | null;
}

/** An entry in the chain: exactly the fields its hash covers. */
export interface HandoffEntry {
  caseId: string;
  /** 1, 2, 3, … within the case's ledger. */
  seq: number;
  kind: HandoffKind;
  ref: string;
  from: HandoffParty;
  to: HandoffParty;
  what: HandoffItem[];
  sentAt: string;
  acknowledgedAt: string | null;
  /** For an `ack`: the seq of the entry it acknowledges (null when that hand-off is not on the ledger). */
  acknowledges: number | null;
  /** null for entries appended without an event (paper originals, liaison attachments). */
  source: HandoffSource | null;
}

export interface ChainedHandoff extends HandoffEntry {
  prevHash: string;
  entryHash: string;
}

// ---------------------------------------------------------------------------------------------
// Hashing and the chain

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** An instant as the ledger writes it: ISO 8601, UTC, milliseconds (what PostgreSQL gives back). */
export function ledgerInstant(at: string | Date): string {
  const ms = typeof at === 'string' ? Date.parse(at) : at.getTime();
  if (Number.isNaN(ms)) throw new RangeError(`${String(at)} is not an instant`);
  return new Date(ms).toISOString();
}

/** The fields the hash covers, and nothing else an object may carry. */
function hashedFields(e: HandoffEntry) {
  return {
    caseId: e.caseId,
    seq: e.seq,
    kind: e.kind,
    ref: e.ref,
    from: e.from,
    to: e.to,
    what: e.what,
    sentAt: e.sentAt,
    acknowledgedAt: e.acknowledgedAt,
    acknowledges: e.acknowledges,
    source: e.source ? { eventSeq: e.source.eventSeq, runId: e.source.runId } : null,
  };
}

/** sha256(prevHash + '\n' + canonicalJson(entry)), hex. */
export function entryHash(prevHash: string, entry: HandoffEntry): string {
  return sha256Hex(`${prevHash}\n${canonicalJson(hashedFields(entry))}`);
}

/** The next entry of a chain whose head is `head` (null for an empty chain). */
export function chainEntry(
  head: Pick<ChainedHandoff, 'seq' | 'entryHash'> | null,
  caseId: string,
  draft: HandoffDraft,
  links: { acknowledges: number | null; source: HandoffSource | null },
): ChainedHandoff {
  const entry: HandoffEntry = {
    caseId,
    seq: (head?.seq ?? 0) + 1,
    kind: draft.kind,
    ref: draft.ref,
    from: draft.from,
    to: draft.to,
    what: draft.what,
    sentAt: ledgerInstant(draft.sentAt),
    acknowledgedAt: draft.acknowledgedAt === null ? null : ledgerInstant(draft.acknowledgedAt),
    acknowledges: links.acknowledges,
    source: links.source,
  };
  const prevHash = head?.entryHash ?? GENESIS_HASH;
  return { ...entry, prevHash, entryHash: entryHash(prevHash, entry) };
}

export type ChainVerdict =
  | { ok: true; length: number; headHash: string }
  | { ok: false; length: number; headHash: string; firstBadSeq: number; problem: string };

/**
 * Recomputes a case's chain in seq order: seqs 1, 2, 3, … without a gap, each entry's prevHash
 * the hash of the entry before (64 zeros for the first), each entryHash the hash of the entry's
 * own fields, and each `ack` naming an earlier entry that is not an ack. The first entry that
 * fails is reported; the head hash is the stored hash of the last entry (64 zeros when empty).
 *
 * What a chain alone cannot show: the last entries removed, or the whole chain recomputed after an
 * edit. Against those, each side keeps the head hash it has seen (the GET answers it) and compares.
 */
export function verifyEntries(caseId: string, entries: readonly ChainedHandoff[]): ChainVerdict {
  const sorted = [...entries].sort((a, b) => a.seq - b.seq);
  const headHash = sorted.at(-1)?.entryHash ?? GENESIS_HASH;
  const length = sorted.length;
  const bad = (firstBadSeq: number, problem: string): ChainVerdict => ({ ok: false, length, headHash, firstBadSeq, problem });
  const kinds = new Map<number, HandoffKind>();
  let prevHash = GENESIS_HASH;
  for (const [i, e] of sorted.entries()) {
    const expected = i + 1;
    if (e.seq !== expected) return bad(expected, `entry ${expected} is missing (the next stored entry is ${e.seq})`);
    if (e.caseId !== caseId) return bad(e.seq, `entry ${e.seq} belongs to case ${e.caseId}`);
    if (e.prevHash !== prevHash) return bad(e.seq, `its prev_hash ${e.prevHash} is not the hash of entry ${e.seq - 1} (${prevHash})`);
    const recomputed = entryHash(e.prevHash, e);
    if (e.entryHash !== recomputed) return bad(e.seq, `its content does not match its entry_hash (stored ${e.entryHash}, recomputed ${recomputed})`);
    if (e.kind === 'ack') {
      if (e.acknowledges !== null && !(e.acknowledges < e.seq && kinds.has(e.acknowledges) && kinds.get(e.acknowledges) !== 'ack')) {
        return bad(e.seq, `it acknowledges entry ${e.acknowledges}, which is not an earlier hand-off`);
      }
    } else if (e.acknowledges !== null) {
      return bad(e.seq, `it is a ${e.kind}, not an ack, yet names entry ${e.acknowledges} as acknowledged`);
    }
    kinds.set(e.seq, e.kind);
    prevHash = e.entryHash;
  }
  return { ok: true, length, headHash };
}

// ---------------------------------------------------------------------------------------------
// Which entries a recorded case event creates

/** A recorded case event, as the projection stores it. */
export interface LedgerEvent {
  seq: number;
  type: string;
  at: string | Date;
  data: Record<string, unknown>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const side = (v: unknown): 'receiving' | 'handling' => (v === 'receiving' ? 'receiving' : 'handling');

/** The content hash of a recorded document (a notice, a list of reasons): its canonical JSON, hashed. */
export function documentHash(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * The hand-offs an event records, from the events as they are (the workflow records nothing new
 * for the ledger). `sentAt` is the event's instant. Never throws: a malformed event yields what
 * can be read of it, an event without a readable instant yields nothing.
 *
 * | event | entries |
 * | --- | --- |
 * | material.transferred | material, receiving → handling, `[{materialCode, sha256, size}]`, acknowledged at once |
 * | supplement.transferred | supplement, receiving → handling, `[{noticeId, materialCode, sha256, size, revision}]`, acknowledged at once |
 * | correction.notice_issued | correction_notice, the notice's side → applicant, `[{noticeId, round, deficiencies, sha256}]` |
 * | correction.supplemented | supplement, applicant → receiving, `[{materialCode, sha256, size}…]`, acknowledged at once; and an ack of the notice by the applicant |
 * | decision.approved / .rejected | decision, handling → receiving, `[{outcome, reasons, sha256, provinceEventId}]`, acknowledged at once |
 * | delivery.issued | result, handling → applicant, `[{certificateId, issuer, sha256}]`, acknowledged at once |
 * | delivery.mailed | result_by_post, handling → post, `[{trackingNumber}]` |
 * | delivery.confirmed (mail) | ack of the result_by_post by the applicant |
 * | delivery.confirmed (window) | result, receiving → applicant, acknowledged at once |
 * | extension.approved | extension_notice, handling → applicant, `[{extensionId, days, sha256}]` |
 * | procedure.started with a noticeRef | procedure_notice, handling → applicant, `[{procedureId, kind, noticeRef}]` |
 */
export function handoffsFromEvent(event: LedgerEvent): HandoffDraft[] {
  let at: string;
  try {
    at = ledgerInstant(event.at);
  } catch {
    return [];
  }
  const d = event.data ?? {};
  const entry = (kind: HandoffKind, ref: string, from: HandoffParty, to: HandoffParty, what: HandoffItem[], acknowledged: boolean): HandoffDraft => ({
    kind,
    ref,
    from,
    to,
    what,
    sentAt: at,
    acknowledgedAt: acknowledged ? at : null,
  });
  const ack = (targetRef: string, from: HandoffParty, to: HandoffParty, what: HandoffItem[]): HandoffDraft => ({
    kind: 'ack',
    ref: `ack:${targetRef}`,
    from,
    to,
    what,
    sentAt: at,
    acknowledgedAt: null,
    acknowledgesRef: targetRef,
  });

  switch (event.type) {
    case 'participant.progress': {
      // 多地联办: a participant's transfers are hand-offs to its authority, named by the participant.
      const participant = str(d.participant);
      if (d.type !== 'material.transferred' && d.type !== 'supplement.transferred') return [];
      const inner = handoffsFromEvent({ ...event, type: d.type, data: (d.data ?? {}) as Record<string, unknown> });
      return inner.map((h) => ({ ...h, ref: `${participant}:${h.ref}`, what: h.what.map((w) => ({ participant, ...w })) }));
    }
    case 'participant.decided': {
      // Its authority's decision on its part, to the receiving side (the case decides once, after all of them).
      const participant = str(d.participant);
      const reasons = Array.isArray(d.reasons) ? d.reasons : [];
      return [entry('decision', `decision:${participant}`, 'handling', 'receiving', [{ participant, outcome: str(d.outcome), reasons: reasons.length, sha256: documentHash(reasons), provinceEventId: str(d.eventId) }], true)];
    }
    case 'material.fetched': {
      // Acknowledged at once: the download hashed to the record's SHA-256 before it was kept.
      const code = str(d.materialCode);
      return [
        entry('shared_data', `shared:${code}`, 'datahub', 'receiving', [{ materialCode: code, source: str(d.source), recordId: str(d.recordId), issuer: str(d.issuer), sha256: str(d.sha256), size: num(d.size) }], true),
      ];
    }
    case 'material.transferred': {
      // Acknowledged at once: the province's upload receipt checked the SHA-256 (the activity
      // fails on a mismatch), and the event records the hash the receipt confirmed.
      const code = str(d.materialCode);
      return [entry('material', `material:${code}`, 'receiving', 'handling', [{ materialCode: code, sha256: str(d.sha256), size: num(d.size) }], true)];
    }
    case 'supplement.transferred': {
      // A new revision of a material, hash-checked by the upload receipt like an original.
      const noticeId = str(d.noticeId);
      const code = str(d.materialCode);
      const revision = num(d.revision);
      return [
        entry('supplement', `supplement:${noticeId}:${code}:r${revision}`, 'receiving', 'handling', [{ noticeId, materialCode: code, sha256: str(d.sha256), size: num(d.size), revision }], true),
      ];
    }
    case 'correction.notice_issued': {
      // No receipt is recorded when the applicant is told; the supplement that answers the notice
      // acknowledges it (below). The hash covers the notice as recorded (deficiencies, due date).
      const noticeId = str(d.noticeId);
      const deficiencies = Array.isArray(d.deficiencies) ? d.deficiencies.length : 0;
      return [entry('correction_notice', `notice:${noticeId}`, side(d.side), 'applicant', [{ noticeId, round: num(d.round), deficiencies, sha256: documentHash(d) }], false)];
    }
    case 'correction.supplemented': {
      // The receiving window took the supplement in (the staff member's command is the receipt),
      // and answering the notice shows the applicant had it.
      const noticeId = str(d.noticeId);
      const items = Array.isArray(d.items) ? (d.items as Record<string, unknown>[]) : [];
      const what = items.map((i) => ({ materialCode: str(i?.materialCode), sha256: str(i?.sha256), size: num(i?.size) }));
      return [
        entry('supplement', `supplement:${noticeId}`, 'applicant', 'receiving', what, true),
        ack(`notice:${noticeId}`, 'applicant', side(d.side), [{ noticeId, answeredWith: `supplement:${noticeId}` }]),
      ];
    }
    case 'decision.approved':
    case 'decision.rejected': {
      // Acknowledged at once: the decision reaches tongban as a signed callback (or the answer to
      // a status poll), where the receiving side reads it; the hash covers the reasons given.
      const reasons = Array.isArray(d.reasons) ? d.reasons : [];
      const outcome = event.type === 'decision.approved' ? 'approved' : 'rejected';
      return [entry('decision', 'decision', 'handling', 'receiving', [{ outcome, reasons: reasons.length, sha256: documentHash(reasons), provinceEventId: str(d.eventId) }], true)];
    }
    case 'delivery.issued': {
      // Electronic delivery is complete on issue (the case completes with it).
      const c = d.certificate && typeof d.certificate === 'object' ? (d.certificate as Record<string, unknown>) : null;
      const what = c ? [{ certificateId: str(c.certificateId), issuer: str(c.issuer), sha256: str(c.sha256) }] : [];
      return [entry('result', 'result:electronic', 'handling', 'applicant', what, true)];
    }
    case 'delivery.awaiting':
      // A result for window pick-up goes to the receiving window first (the window has it once the
      // case waits there; the applicant's collection is its own entry, below).
      return d.method === 'window' ? [entry('result', 'result:to-window', 'handling', 'receiving', [{ method: 'window' }], true)] : [];
    case 'delivery.mailed':
      // Acknowledged later, by the applicant's receipt (delivery.confirmed).
      return [entry('result_by_post', 'result:post', 'handling', 'post', [{ trackingNumber: str(d.trackingNumber) }], false)];
    case 'delivery.returned':
      // The post brought the result back undelivered (the next entry sends it to the window).
      return [entry('result_by_post', 'result:post:returned', 'post', 'handling', [{ trackingNumber: str(d.trackingNumber), reason: str(d.reason) }], true)];
    case 'delivery.confirmed': {
      if (d.method === 'window') {
        // Picked up at the receiving window: the clerk records the applicant's signature.
        return [entry('result', 'result:window', 'receiving', 'applicant', [{ method: 'window' }], true)];
      }
      // A mail receipt, reported by the province (signedBy, via) or recorded by staff (method mail).
      const via = str(d.via) ?? 'staff';
      return [ack('result:post', 'applicant', 'handling', [{ confirmedVia: via }])];
    }
    case 'extension.approved': {
      const extensionId = str(d.extensionId);
      return [entry('extension_notice', `extension:${extensionId}`, 'handling', 'applicant', [{ extensionId, days: num(d.days), sha256: documentHash(str(d.applicantNotice)) }], false)];
    }
    case 'procedure.started': {
      const noticeRef = str(d.noticeRef);
      if (!noticeRef) return [];
      const procedureId = str(d.procedureId);
      return [entry('procedure_notice', `procedure:${procedureId}`, 'handling', 'applicant', [{ procedureId, kind: str(d.kind), noticeRef }], false)];
    }
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------
// Custody: who held the case when.
//
// The holder is the party the case waits for:
// - the receiving side from submission until the handling authority has the materials
//   (`review.started`), and again from a supplement taken in (`correction.supplemented`) until the
//   authority has its answer (`correction.answered`) or, after a receiving-side notice, until the
//   rerun precheck sends the case on (`review.started`);
// - the handling side from `review.started` (art. 45 procedures included: the deadlines exclude
//   those days on their own) until its decision or a notice to the applicant; after an approval it
//   keeps the case until it hands the result over (electronic issue, or the post);
// - the applicant from a notice (`correction.notice_issued`) until the supplement or the notice's
//   expiry, and from a result waiting at the window (`delivery.awaiting` window) until the pick-up;
// - the post from `delivery.mailed` until `delivery.confirmed`.
// Custody ends with the result delivered, a rejection, a withdrawal, an expired notice or the
// case's closing; a case stuck on an intervention stays with its holder.

/** A recorded event as custody reads it. */
export interface CustodyEvent {
  type: string;
  at: string | Date;
  data: Record<string, unknown>;
}

export interface CustodyInterval {
  holder: CustodyHolder;
  /** ISO instant the holder took the case. */
  from: string;
  /** ISO instant it passed the case on, or null while it still holds it. */
  to: string | null;
}

const CUSTODY_ENDS = new Set(['delivery.issued', 'delivery.confirmed', 'decision.rejected', 'case.closed', 'case.completed', 'case.withdrawn', 'correction.expired', 'precheck.failed']);

/** The event types custody reads. */
export const CUSTODY_EVENT_TYPES = [
  'case.submitted',
  'review.started',
  'correction.notice_issued',
  'correction.supplemented',
  'correction.answered',
  'delivery.awaiting',
  'delivery.mailed',
  ...CUSTODY_ENDS,
] as const;

/** The holder after `e`: a party, null when custody ends, undefined when it does not change. */
function holderAfter(e: CustodyEvent): CustodyHolder | null | undefined {
  if (CUSTODY_ENDS.has(e.type)) return null;
  switch (e.type) {
    case 'case.submitted':
      return 'receiving';
    case 'review.started':
    case 'correction.answered':
      return 'handling';
    case 'correction.notice_issued':
      return 'applicant';
    case 'correction.supplemented':
      return 'receiving';
    case 'delivery.awaiting':
      return e.data?.method === 'window' ? 'applicant' : 'handling';
    case 'delivery.mailed':
      return 'post';
    default:
      return undefined;
  }
}

/**
 * Who held the case when, from its events in seq order. Custody starts at `case.submitted` (or,
 * without it, at the first event, with the receiving side). The last interval of an open case has
 * `to` null; `until` (the day the case closed, or now) only bounds it: an event after `until` is
 * not read. Intervals of no duration are left out.
 */
export function custodyOf(events: readonly CustodyEvent[], until: string | Date): CustodyInterval[] {
  const end = Date.parse(ledgerInstant(until));
  const intervals: CustodyInterval[] = [];
  let holder: CustodyHolder | null = null;
  let since = '';
  let ended = false;
  const close = (at: string) => {
    if (holder !== null && at !== since) intervals.push({ holder, from: since, to: at });
  };
  for (const e of events) {
    if (ended) break;
    let at: string;
    try {
      at = ledgerInstant(e.at);
    } catch {
      continue;
    }
    if (Date.parse(at) > end) break;
    if (holder === null) {
      holder = 'receiving';
      since = at;
    }
    const next = holderAfter(e);
    if (next === undefined || next === holder) continue;
    close(at);
    if (next === null) {
      ended = true;
      holder = null;
    } else {
      holder = next;
      since = at;
    }
  }
  if (!ended && holder !== null) intervals.push({ holder, from: since, to: null });
  return intervals;
}

/** What custody needs of the calendar (domain/calendar.ts's WorkingCalendar). */
export interface CustodyCalendar {
  /** The working days after `from` up to and including `to` (dates YYYY-MM-DD, China time). */
  workingDaysBetween(from: string, to: string): number;
}

export interface HeldInterval extends CustodyInterval {
  /** null when the calendar data does not reach the interval's end (see calendarGap). */
  workingDays: number | null;
}

export interface CustodyReading {
  custody: HeldInterval[];
  workingDaysBySide: Record<CustodyHolder, number>;
  /** Why some interval has no count: the calendar data ends before it. */
  calendarGap: string | null;
}

/**
 * The working days of a period from China date `from` to `to` as art. 82 counts it (after `from`, up
 * to and including `to`; 0 within one day), or null with the gap named when the calendar data does
 * not reach it. Custody (below) and the days per stage (domain/stageDays.ts) count with it.
 */
export function periodWorkingDays(calendar: CustodyCalendar, from: string, to: string): { workingDays: number | null; calendarGap: string | null } {
  if (to <= from) return { workingDays: 0, calendarGap: null };
  try {
    return { workingDays: calendar.workingDaysBetween(from, to), calendarGap: null };
  } catch (e) {
    if (!(e instanceof CalendarRangeError)) throw e;
    return {
      workingDays: null,
      calendarGap: `the working-day calendar does not cover ${e.date} (it covers ${e.covered.from} to ${e.covered.to}); the year's State Council notice must be added (docs/calendar.md)`,
    };
  }
}

/**
 * The working days each holder held the case, counted as art. 82 counts a period: for an interval
 * from instant a to instant b, the working days after a's date (China time) up to and including b's
 * date. The day of a hand-off counts for the party that passed the case on, never for both, so the
 * intervals add up to the case's working days from submission to its end (or `until`): every day
 * of delay is attributed once. An interval within one day counts 0.
 */
export function workingDaysHeld(intervals: readonly CustodyInterval[], until: string | Date, calendar: CustodyCalendar): CustodyReading {
  const bySide: Record<CustodyHolder, number> = { receiving: 0, handling: 0, applicant: 0, post: 0 };
  let calendarGap: string | null = null;
  const untilDate = dateInChina(ledgerInstant(until));
  const custody = intervals.map((i): HeldInterval => {
    const span = periodWorkingDays(calendar, dateInChina(i.from), i.to ? dateInChina(i.to) : untilDate);
    calendarGap ??= span.calendarGap;
    const { workingDays } = span;
    if (workingDays !== null) bySide[i.holder] += workingDays;
    return { ...i, workingDays };
  });
  return { custody, workingDaysBySide: bySide, calendarGap };
}
