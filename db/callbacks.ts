// Data access for inbound province callbacks (api/callbacks.ts tells the story): the case a
// callback names, and the province_callbacks table that de-duplicates events per
// (province, case, event id), db/migrations/002_callbacks_per_case.sql.
//
// Each function is one autocommit statement on whatever it is given (the pool, or a client inside
// withTransaction from db/transaction.ts when a caller needs several in one transaction): the
// callback use case deliberately holds no transaction while it signals Temporal.
import type pg from 'pg';

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

/**
 * Where a callback about `caseId` goes: a case's own handling region, or, for the id a joint case's
 * participant is known by at its authority (case_participants), that participant's region and case.
 */
export async function callbackTargetOf(db: Queryable, caseId: string): Promise<{ region: string; participantOf: string | null } | null> {
  const { rows } = await db.query<{ region: string; participant_of: string | null }>(
    `SELECT handling_region AS region, NULL::uuid AS participant_of FROM cases WHERE case_id = $1
     UNION ALL
     SELECT region_code AS region, case_id AS participant_of FROM case_participants WHERE participant_case_id = $1
     LIMIT 1`,
    [caseId],
  );
  const r = rows[0];
  return r ? { region: r.region, participantOf: r.participant_of } : null;
}

/**
 * Records a callback. `new`: first sight of this event; `delivered`: seen and already delivered
 * (a duplicate); `undelivered`: seen, but its delivery failed or is still under way.
 */
export async function recordCallback(db: Queryable, key: CallbackKey, type: string): Promise<'new' | 'delivered' | 'undelivered'> {
  const inserted = await db.query(
    `INSERT INTO province_callbacks (region_code, case_id, event_id, type) VALUES ($1,$2,$3,$4)
     ON CONFLICT (region_code, case_id, event_id) DO NOTHING`,
    [key.regionCode, key.caseId, key.eventId, type],
  );
  if (inserted.rowCount === 1) return 'new';
  const { rows } = await db.query<{ delivered: boolean }>(
    `SELECT delivered_at IS NOT NULL AS delivered FROM province_callbacks WHERE region_code = $1 AND case_id = $2 AND event_id = $3`,
    [key.regionCode, key.caseId, key.eventId],
  );
  return rows[0]?.delivered ? 'delivered' : 'undelivered';
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
