// Staff console sessions (db/migrations/020_staff_sessions.sql): every statement api/session.ts
// and api/auth.ts need. Sessions are looked up by the SHA-256 of the cookie's random id; the id
// itself is never stored. A lookup that finds a live session marks it used, at most once a minute,
// in the same round trip, so the idle timeout needs no write per request.
import type { Queryable } from './cases.js';

export interface StaffSessionRow {
  sub: string;
  name: string | null;
  role: string;
  region: string;
  issuer: string;
  csrfToken: string;
  idToken: string | null;
  expiresAt: Date;
}

export interface NewStaffSession extends Omit<StaffSessionRow, 'expiresAt'> {
  idHash: Buffer;
  /** Seconds from now until the session ends whatever its use. */
  lifetimeSeconds: number;
}

/** How stale last_seen_at may get before a lookup refreshes it. */
const TOUCH_AFTER_SECONDS = 60;

export async function insertStaffSession(db: Queryable, s: NewStaffSession): Promise<void> {
  await db.query(
    `INSERT INTO staff_sessions (id_hash, sub, name, role, region, issuer, csrf_token, id_token, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))`,
    [s.idHash, s.sub, s.name, s.role, s.region, s.issuer, s.csrfToken, s.idToken, s.lifetimeSeconds],
  );
}

/**
 * The live session with this id hash (not expired, used within `idleSeconds`), or null; a live
 * session last marked more than a minute ago is marked used now.
 */
export async function findLiveStaffSession(db: Queryable, idHash: Buffer, idleSeconds: number): Promise<StaffSessionRow | null> {
  const { rows } = await db.query<StaffSessionRow>(
    `WITH live AS (
       SELECT id_hash, sub, name, role, region, issuer, csrf_token, id_token, expires_at, last_seen_at
         FROM staff_sessions
        WHERE id_hash = $1 AND expires_at > now() AND last_seen_at > now() - make_interval(secs => $2)
     ), touched AS (
       UPDATE staff_sessions s SET last_seen_at = now()
         FROM live
        WHERE s.id_hash = live.id_hash AND live.last_seen_at < now() - make_interval(secs => $3)
     )
     SELECT sub, name, role, region, issuer, csrf_token AS "csrfToken", id_token AS "idToken", expires_at AS "expiresAt" FROM live`,
    [idHash, idleSeconds, TOUCH_AFTER_SECONDS],
  );
  return rows[0] ?? null;
}

/** Deletes the session; answers the deleted row (for the sign-out's audit row and logout hint), or null. */
export async function deleteStaffSession(db: Queryable, idHash: Buffer): Promise<StaffSessionRow | null> {
  const { rows } = await db.query<StaffSessionRow>(
    `DELETE FROM staff_sessions WHERE id_hash = $1
     RETURNING sub, name, role, region, issuer, csrf_token AS "csrfToken", id_token AS "idToken", expires_at AS "expiresAt"`,
    [idHash],
  );
  return rows[0] ?? null;
}

/** Removes sessions that have ended (expired or idle); answers how many. */
export async function deleteEndedStaffSessions(db: Queryable, idleSeconds: number): Promise<number> {
  const { rowCount } = await db.query(
    `DELETE FROM staff_sessions WHERE expires_at <= now() OR last_seen_at <= now() - make_interval(secs => $1)`,
    [idleSeconds],
  );
  return rowCount ?? 0;
}
