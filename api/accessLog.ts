// Who looked at this citizen's file (docs/security.md "The audit log"). Every staff read of a
// case's personal data writes one `case.read` row before the data is answered (recordCaseReads);
// a read whose row cannot be written answers 503 and no data: fail closed, since an unaudited read
// is what the log exists to rule out. Supervisors of either side read the case's whole audit
// (getAccessLog in api/caseReads.ts); the applicant sees which office read what and when, never who, in the progress
// lookup (dataAccessTrail).
import type pg from 'pg';
import { listCaseDataAccess, writeCaseReads } from '../db/audit.js';
import { dataAccessEntryOf, READ_VIEWS, readerSide, type DataAccessEntry, type ReaderSide, type ReadView } from '../domain/dataAccess.js';
import { sidesOf, type CaseSides } from '../domain/policy.js';
import type { StaffClaims } from './auth.js';
import { DATABASE_RETRY_AFTER_SECONDS, problem } from './problem.js';

/** How many reads the applicant's trail shows, newest first. */
export const DATA_ACCESS_TRAIL_LIMIT = 100;

/**
 * Records that `staff` read `view` of each case (one statement), on the side(s) their region covers.
 * Throws 503 when the rows cannot be written, so the caller never answers the data unaudited.
 */
export async function recordCaseReads(db: pg.Pool | pg.PoolClient, staff: StaffClaims, view: ReadView, cases: readonly (CaseSides & { caseId: string })[]): Promise<void> {
  await recordReads(db, staff, view, cases.map((c) => ({ caseId: c.caseId, side: readerSide(sidesOf(staff, c)) })));
}

/** recordCaseReads when the side each case was read from is already known (a list of one side's work). */
export async function recordReads(db: pg.Pool | pg.PoolClient, staff: StaffClaims, view: ReadView, reads: readonly { caseId: string; side: ReaderSide | null }[]): Promise<void> {
  try {
    await writeCaseReads(
      db,
      reads.map((r) => ({
        actor: staff.sub,
        role: staff.role,
        region: staff.region,
        action: 'case.read',
        caseId: r.caseId,
        detail: { view, route: READ_VIEWS[view].route, side: r.side },
      })),
    );
  } catch (e) {
    throw unaudited(e);
  }
}

/** The 503 of a read (or decode) whose audit row could not be written. */
export function unaudited(cause: unknown) {
  const err = problem(503, 'the read could not be recorded in the audit log, so nothing is answered; retry later', {
    headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
  });
  err.cause = cause;
  return err;
}

/** The applicant's trail: the newest reads of the case's personal data, by office, without the staff member. */
export async function dataAccessTrail(pool: pg.Pool, caseId: string): Promise<DataAccessEntry[]> {
  return (await listCaseDataAccess(pool, caseId, DATA_ACCESS_TRAIL_LIMIT)).map(dataAccessEntryOf);
}
