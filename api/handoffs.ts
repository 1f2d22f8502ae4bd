// GET /v1/cases/:caseId/handoffs: the case's hand-off ledger (交接台账) with its chain checked, and
// custody: who held the case when and the working days each party held it, so each day of delay
// is attributable. Entries and the chain are domain/handoffs.ts over db/handoffs.ts; custody is
// computed from the recorded events on the working-day calendar, up to the day the case closed
// (or now).
import type pg from 'pg';
import { findCustodyInputs, listHandoffs, type StoredHandoff } from '../db/handoffs.js';
import { isOpenStatus, type CaseStatus } from '../domain/case.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import {
  custodyOf,
  verifyEntries,
  workingDaysHeld,
  type ChainedHandoff,
  type CustodyHolder,
  type HeldInterval,
} from '../domain/handoffs.js';
import { caseNotFound } from './caseReads.js';

/** A ledger entry as the api shows it: the chained entry, with its later acknowledgement and whether a reset superseded it. */
export interface LedgerEntryView extends Omit<ChainedHandoff, 'caseId'> {
  /** The `ack` entry that acknowledged it, when the receipt came later. */
  acknowledgedBySeq?: number;
  /** The run that replaced the one that recorded this entry (a workflow reset), or null. */
  supersededBy: string | null;
}

export interface CaseHandoffs {
  caseId: string;
  entries: LedgerEntryView[];
  chain: { ok: boolean; length: number; headHash: string; firstBadSeq: number | null; problem: string | null };
  /** The instant custody is counted to: when the case closed, or now. */
  asOf: string;
  custody: HeldInterval[];
  workingDaysBySide: Record<CustodyHolder, number>;
  calendarGap: string | null;
}

export async function caseHandoffs(pool: pg.Pool, calendar: WorkingCalendar, caseId: string, now = new Date()): Promise<CaseHandoffs> {
  const [entries, inputs] = await Promise.all([listHandoffs(pool, caseId), findCustodyInputs(pool, caseId)]);
  if (!inputs) throw caseNotFound(caseId);
  const verdict = verifyEntries(caseId, entries);
  const until = !isOpenStatus(inputs.status as CaseStatus) && inputs.closedAt ? inputs.closedAt : now;
  const { custody, workingDaysBySide, calendarGap } = workingDaysHeld(custodyOf(inputs.events, until), until, calendar);
  return {
    caseId,
    entries: entryViews(entries),
    chain: verdict.ok
      ? { ok: true, length: verdict.length, headHash: verdict.headHash, firstBadSeq: null, problem: null }
      : { ok: false, length: verdict.length, headHash: verdict.headHash, firstBadSeq: verdict.firstBadSeq, problem: verdict.problem },
    asOf: until.toISOString(),
    custody,
    workingDaysBySide,
    calendarGap,
  };
}

/** Each entry with its acknowledgement: its own receipt, or the first ack of it not superseded by a reset. */
function entryViews(entries: readonly StoredHandoff[]): LedgerEntryView[] {
  const ackOf = new Map<number, StoredHandoff>();
  for (const e of entries) {
    if (e.kind !== 'ack' || e.acknowledges === null || e.supersededBy !== null) continue;
    if (!ackOf.has(e.acknowledges)) ackOf.set(e.acknowledges, e);
  }
  return entries.map((e) => {
    const ack = e.acknowledgedAt === null ? ackOf.get(e.seq) : undefined;
    return {
      seq: e.seq,
      kind: e.kind,
      ref: e.ref,
      from: e.from,
      to: e.to,
      what: e.what,
      sentAt: e.sentAt,
      acknowledgedAt: e.acknowledgedAt ?? ack?.sentAt ?? null,
      ...(ack ? { acknowledgedBySeq: ack.seq } : {}),
      acknowledges: e.acknowledges,
      source: e.source,
      supersededBy: e.supersededBy,
      entryHash: e.entryHash,
      prevHash: e.prevHash,
    };
  });
}
