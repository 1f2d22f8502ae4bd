// The hand-off ledger's SQL (table case_handoffs, db/migrations/006_handoffs.sql): appending
// entries to a case's hash chain, reading it, verifying it, and the events custody is computed
// from. What an entry is and how it is hashed is domain/handoffs.ts.
//
// Appends are serialised per case (an advisory lock held to the end of the transaction), so two
// writers never compute the same seq or chain onto the same head. The projection appends the
// entries of each event it inserts (appendEventHandoffs, in its own transaction); later code
// appends hand-offs that have no case event yet, such as paper originals sent by post and liaison
// attachments, with appendHandoff.
import pg from 'pg';
import {
  chainEntry,
  CUSTODY_EVENT_TYPES,
  handoffsFromEvent,
  verifyEntries,
  type ChainedHandoff,
  type ChainVerdict,
  type HandoffDraft,
  type HandoffItem,
  type HandoffKind,
  type HandoffParty,
  type HandoffSource,
  type LedgerEvent,
} from '../domain/handoffs.js';
import type { Queryable } from './cases.js';
import { withTransaction } from './transaction.js';

export interface StoredHandoff extends ChainedHandoff {
  /** The run that replaced the one that recorded this entry's event, when a reset superseded it. */
  supersededBy: string | null;
}

interface HandoffRow {
  case_id: string;
  seq: number;
  kind: HandoffKind;
  ref: string;
  from_side: HandoffParty;
  to_side: HandoffParty;
  what: HandoffItem[];
  sent_at: Date;
  acknowledged_at: Date | null;
  acknowledges: number | null;
  source_event_seq: number | null;
  source_run_id: string | null;
  prev_hash: string;
  entry_hash: string;
  superseded_by?: string | null;
}

const COLUMNS = `h.case_id, h.seq, h.kind, h.ref, h.from_side, h.to_side, h.what, h.sent_at, h.acknowledged_at, h.acknowledges,
  h.source_event_seq, h.source_run_id, h.prev_hash, h.entry_hash`;

function fromRow(r: HandoffRow): StoredHandoff {
  return {
    caseId: r.case_id,
    seq: r.seq,
    kind: r.kind,
    ref: r.ref,
    from: r.from_side,
    to: r.to_side,
    what: r.what,
    sentAt: r.sent_at.toISOString(),
    acknowledgedAt: r.acknowledged_at ? r.acknowledged_at.toISOString() : null,
    acknowledges: r.acknowledges,
    source: r.source_event_seq === null ? null : { eventSeq: r.source_event_seq, runId: r.source_run_id },
    prevHash: r.prev_hash,
    entryHash: r.entry_hash,
    supersededBy: r.superseded_by ?? null,
  };
}

/**
 * Appends `drafts` to the case's chain, in order, inside the caller's transaction (given a pool,
 * it opens one). Idempotent: with a `source`, nothing is appended when entries of that event (and
 * run) are already on the ledger, and those entries are returned; without one, a draft whose ref
 * is already on the ledger (appended without an event) is not appended again. An `ack` draft is
 * linked to the latest entry with its `acknowledgesRef` that is not itself an ack, or to none
 * (acknowledges null) when that hand-off is not on the ledger, e.g. it predates the ledger.
 */
export async function appendHandoffs(db: Queryable, caseId: string, drafts: readonly HandoffDraft[], source: HandoffSource | null = null): Promise<StoredHandoff[]> {
  if (db instanceof pg.Pool) return withTransaction(db, (client) => appendHandoffs(client, caseId, drafts, source));
  if (drafts.length === 0) return [];
  await db.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`handoffs:${caseId}`]);
  if (source) {
    const { rows } = await db.query<HandoffRow>(
      `SELECT ${COLUMNS} FROM case_handoffs h WHERE h.case_id = $1 AND h.source_event_seq = $2 AND h.source_run_id IS NOT DISTINCT FROM $3::text ORDER BY h.seq`,
      [caseId, source.eventSeq, source.runId],
    );
    if (rows.length > 0) return rows.map(fromRow);
  }
  const head = await db.query<HandoffRow>(`SELECT ${COLUMNS} FROM case_handoffs h WHERE h.case_id = $1 ORDER BY h.seq DESC LIMIT 1`, [caseId]);
  let prev: ChainedHandoff | null = head.rows[0] ? fromRow(head.rows[0]) : null;
  const out: StoredHandoff[] = [];
  for (const draft of drafts) {
    checkDraft(draft);
    if (!source) {
      const { rows } = await db.query<HandoffRow>(`SELECT ${COLUMNS} FROM case_handoffs h WHERE h.case_id = $1 AND h.ref = $2 AND h.source_event_seq IS NULL`, [caseId, draft.ref]);
      if (rows[0]) {
        out.push(fromRow(rows[0]));
        continue;
      }
    }
    let acknowledges: number | null = null;
    if (draft.kind === 'ack') {
      const { rows } = await db.query<{ seq: number }>(
        `SELECT seq FROM case_handoffs WHERE case_id = $1 AND ref = $2 AND kind <> 'ack' ORDER BY seq DESC LIMIT 1`,
        [caseId, draft.acknowledgesRef],
      );
      acknowledges = rows[0]?.seq ?? null;
    }
    const entry = chainEntry(prev, caseId, draft, { acknowledges, source });
    await db.query(
      `INSERT INTO case_handoffs (case_id, seq, kind, ref, from_side, to_side, what, sent_at, acknowledged_at, acknowledges,
         source_event_seq, source_run_id, prev_hash, entry_hash)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)`,
      [
        caseId, entry.seq, entry.kind, entry.ref, entry.from, entry.to, JSON.stringify(entry.what), entry.sentAt, entry.acknowledgedAt,
        entry.acknowledges, entry.source?.eventSeq ?? null, entry.source?.runId ?? null, entry.prevHash, entry.entryHash,
      ],
    );
    out.push({ ...entry, supersededBy: null });
    prev = entry;
  }
  return out;
}

function checkDraft(d: HandoffDraft): void {
  if (d.kind === 'ack' && !d.acknowledgesRef) throw new Error(`an ack (${d.ref}) must name the ref of the entry it acknowledges`);
  if (d.kind !== 'ack' && d.acknowledgesRef !== undefined) throw new Error(`only an ack names an acknowledged entry (${d.kind} ${d.ref})`);
  if (d.from === d.to) throw new Error(`a hand-off goes from one party to another (${d.kind} ${d.ref}: ${d.from} → ${d.to})`);
}

/**
 * One hand-off that no case event records, such as paper originals sent by post or a liaison
 * attachment, e.g. `{kind: 'original_by_post', ref: 'original:resident-id-card:SF123', from:
 * 'receiving', to: 'handling', what: [{materialCode, trackingNumber}], sentAt, acknowledgedAt:
 * null}`, and later its receipt `{kind: 'ack', ref: 'ack:original:resident-id-card:SF123',
 * acknowledgesRef: 'original:resident-id-card:SF123', from: 'handling', to: 'receiving', …}`.
 * Idempotent by `ref`: a retry returns the entry already appended.
 */
export async function appendHandoff(db: Queryable, caseId: string, draft: HandoffDraft): Promise<StoredHandoff> {
  const [entry] = await appendHandoffs(db, caseId, [draft], null);
  return entry!;
}

/**
 * The projection's part: the entries a just-inserted case event creates (domain/handoffs.ts),
 * appended in the projection's transaction. `runId` is null on the legacy write.
 */
export async function appendEventHandoffs(db: Queryable, caseId: string, event: LedgerEvent, runId: string | null): Promise<StoredHandoff[]> {
  const drafts = handoffsFromEvent(event);
  if (drafts.length === 0) return [];
  return appendHandoffs(db, caseId, drafts, { eventSeq: event.seq, runId });
}

/** The case's ledger in seq order, each entry marked when a reset superseded the run that recorded it. */
export async function listHandoffs(db: Queryable, caseId: string): Promise<StoredHandoff[]> {
  const { rows } = await db.query<HandoffRow>(
    `SELECT ${COLUMNS}, s.superseded_by
       FROM case_handoffs h
       LEFT JOIN superseded_runs s ON s.case_id = h.case_id AND s.run_id = h.source_run_id AND h.source_event_seq >= s.at_seq
      WHERE h.case_id = $1
      ORDER BY h.seq`,
    [caseId],
  );
  return rows.map(fromRow);
}

export type ChainCheck = ChainVerdict & { entries: StoredHandoff[] };

/** Recomputes the case's chain from the stored rows (domain/handoffs.ts, verifyEntries). */
export async function verifyChain(db: Queryable, caseId: string): Promise<ChainCheck> {
  const entries = await listHandoffs(db, caseId);
  return { ...verifyEntries(caseId, entries), entries };
}

/** Every case that has a ledger, for `npm run ledger -- verify --all`. */
export async function casesWithHandoffs(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ case_id: string }>(`SELECT DISTINCT case_id FROM case_handoffs ORDER BY case_id`);
  return rows.map((r) => r.case_id);
}

export interface CustodyInputs {
  status: string;
  closedAt: Date | null;
  events: { type: string; at: Date; data: Record<string, unknown> }[];
}

/** What custody is computed from: the case's status, when it closed, and the events custody reads; null when there is no such case. */
export async function findCustodyInputs(db: Queryable, caseId: string): Promise<CustodyInputs | null> {
  const { rows } = await db.query<{ status: string; closed_at: Date | null }>(`SELECT status, closed_at FROM cases WHERE case_id = $1`, [caseId]);
  const row = rows[0];
  if (!row) return null;
  const events = await db.query<{ type: string; at: Date; data: Record<string, unknown> }>(
    `SELECT type, at, data FROM case_events WHERE case_id = $1 AND type = ANY($2::text[]) ORDER BY seq`,
    [caseId, CUSTODY_EVENT_TYPES],
  );
  return { status: row.status, closedAt: row.closed_at, events: events.rows };
}

/** The first hand-off (not an ack) of the case named `ref`, or null. */
export async function findHandoffByRef(db: Queryable, caseId: string, ref: string): Promise<{ seq: number; kind: string } | null> {
  const { rows } = await db.query<{ seq: number; kind: string }>(`SELECT seq, kind FROM case_handoffs WHERE case_id = $1 AND ref = $2 AND kind <> 'ack' ORDER BY seq LIMIT 1`, [caseId, ref]);
  return rows[0] ?? null;
}
