// What the statutory clock of a case is computed from, as the projection recorded it: the item's
// limits, when the handling authority received the materials (or the day acceptance is deemed by
// art. 32), the handling side's correction notices and their supplements, the art. 45
// procedures, and the approved extensions (art. 42). The clock itself is domain/clock.ts; the derivation is shown by api/deadlines.ts.
import { CLOCK_EVENT_TYPES } from '../domain/clock.js';
import type { Queryable } from './cases.js';

export interface ClockEventRow {
  type: string;
  at: Date;
  data: Record<string, unknown>;
}

export interface ClockInputs {
  promisedDays: number;
  statutoryDays: number;
  status: string;
  closedAt: Date | null;
  events: ClockEventRow[];
  /** Art. 44: when the authority approved, and when the result reached the applicant (issued electronically, or confirmed). */
  approvedAt: Date | null;
  deliveredAt: Date | null;
}


/** The case's clock inputs, or null when there is no such case. */
export async function findClockInputs(db: Queryable, caseId: string): Promise<ClockInputs | null> {
  const { rows } = await db.query<{ promised_days: number; statutory_days: number; status: string; closed_at: Date | null }>(
    `SELECT promised_days, statutory_days, status, closed_at FROM cases WHERE case_id = $1`,
    [caseId],
  );
  const row = rows[0];
  if (!row) return null;
  const events = await db.query<ClockEventRow>(
    `SELECT type, at, data FROM case_events WHERE case_id = $1 AND type = ANY($2::text[]) ORDER BY seq`,
    [caseId, CLOCK_EVENT_TYPES],
  );
  const delivery = await db.query<{ approved_at: Date | null; delivered_at: Date | null }>(
    `SELECT min(at) FILTER (WHERE type = 'decision.approved') AS approved_at,
            min(at) FILTER (WHERE type IN ('delivery.issued', 'delivery.confirmed')) AS delivered_at
       FROM case_events WHERE case_id = $1 AND type IN ('decision.approved', 'delivery.issued', 'delivery.confirmed')`,
    [caseId],
  );
  return {
    promisedDays: row.promised_days,
    statutoryDays: row.statutory_days,
    status: row.status,
    closedAt: row.closed_at,
    events: events.rows,
    approvedAt: delivery.rows[0]?.approved_at ?? null,
    deliveredAt: delivery.rows[0]?.delivered_at ?? null,
  };
}
