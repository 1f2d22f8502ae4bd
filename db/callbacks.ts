// Data access for inbound province callbacks (api/callbacks.ts tells the story): the case a
// callback names, and the province_callbacks table that de-duplicates events per
// (province, case, event id), db/migrations/002_callbacks_per_case.sql.
//
// Each function is one autocommit statement on whatever it is given (the pool, or a client inside
// withTransaction from db/transaction.ts when a caller needs several in one transaction): the
// callback use case deliberately holds no transaction while it signals Temporal. A callback costs
// two: recordCallback before the signal, markCallbackDelivered (or forgetCallback) after it.
import type pg from 'pg';
import { regionLikePattern } from '../domain/regions.js';

type Queryable = pg.Pool | pg.PoolClient;

export interface CallbackKey {
  regionCode: string;
  caseId: string;
  eventId: string;
}

/** The handling region of a case, or null when there is no such case. */
export async function handlingRegionOf(db: Queryable, caseId: string): Promise<string | null> {
  const { rows } = await db.query<{ handling_region: string }>(`SELECT handling_region FROM cases WHERE case_id = $1`, [caseId]);
  return rows[0]?.handling_region ?? null;
}

/** Where a callback goes: a case's own handling region, or a joint case's participant's region and case. */
export interface CallbackTarget {
  region: string;
  participantOf: string | null;
}

/**
 * Finds where a callback about `key.caseId` goes and, when that is a case of `key.regionCode`'s
 * province, records the event, in one statement (one round trip, one commit per callback).
 *
 * The target is the case's own handling region, or, for the id a joint case's participant is known
 * by at its authority (case_participants), that participant's region and case. `seen` says what
 * the record found: `new`, first sight of this event; `delivered`, seen and already delivered (a
 * duplicate); `undelivered`, seen, but its delivery failed or is still under way. A callback about
 * no case is null; one about a case of another province records nothing, and its target names a
 * region the caller refuses.
 */
export async function recordCallback(db: Queryable, key: CallbackKey, type: string): Promise<{ target: CallbackTarget; seen: 'new' | 'delivered' | 'undelivered' } | null> {
  const { rows } = await db.query<{ region: string; participant_of: string | null; inserted: boolean; delivered: boolean | null }>(
    `WITH target AS (
       SELECT handling_region AS region, NULL::uuid AS participant_of FROM cases WHERE case_id = $2
       UNION ALL
       SELECT region_code AS region, case_id AS participant_of FROM case_participants WHERE participant_case_id = $2
       LIMIT 1
     ), recorded AS (
       INSERT INTO province_callbacks (region_code, case_id, event_id, type)
       SELECT $1, $2, $3, $4 FROM target WHERE target.region LIKE $5
       ON CONFLICT (region_code, case_id, event_id) DO NOTHING
       RETURNING 1
     )
     SELECT t.region, t.participant_of, EXISTS (SELECT 1 FROM recorded) AS inserted,
            (SELECT p.delivered_at IS NOT NULL FROM province_callbacks p WHERE p.region_code = $1 AND p.case_id = $2 AND p.event_id = $3) AS delivered
       FROM target t`,
    [key.regionCode, key.caseId, key.eventId, type, regionLikePattern(key.regionCode)],
  );
  const r = rows[0];
  if (!r) return null;
  // The row read beside the insert is the one from before it (one snapshot): present when the event
  // was seen before. A row a concurrent callback inserted after that snapshot reads as absent and
  // counts as undelivered: that delivery is under way, and signalling again is harmless (the
  // workflow takes each event id once).
  const seen = r.inserted ? 'new' : r.delivered ? 'delivered' : 'undelivered';
  return { target: { region: r.region, participantOf: r.participant_of }, seen };
}

/** Marks a callback delivered: later repeats are duplicates. */
export async function markCallbackDelivered(db: Queryable, key: CallbackKey): Promise<void> {
  await db.query(`UPDATE province_callbacks SET delivered_at = now() WHERE region_code = $1 AND case_id = $2 AND event_id = $3 AND delivered_at IS NULL`, [
    key.regionCode,
    key.caseId,
    key.eventId,
  ]);
}

/** Forgets a callback whose delivery failed, so the province's retry is processed afresh. */
export async function forgetCallback(db: Queryable, key: CallbackKey): Promise<void> {
  await db.query(`DELETE FROM province_callbacks WHERE region_code = $1 AND case_id = $2 AND event_id = $3 AND delivered_at IS NULL`, [key.regionCode, key.caseId, key.eventId]);
}
