// SQL of the work liaison thread (工作联络, migration 007_liaison.sql): messages between the two
// offices of a case, their attachments, acknowledgements, and the forwarding of messages to the
// handling authority's own system.
import type { Queryable } from './cases.js';

export type LiaisonSide = 'receiving' | 'handling';

export interface LiaisonFile {
  position: number;
  fileId: string;
  sha256: string;
  size: number;
  contentType: string;
  forwardedAt: string | null;
}

export interface LiaisonMessage {
  messageId: string;
  caseId: string;
  from: LiaisonSide;
  to: LiaisonSide;
  author: string;
  authorRole: string | null;
  authorRegion: string | null;
  body: string;
  inReplyTo: string | null;
  sentAt: string;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  forwardedAt: string | null;
  forwardError: string | null;
  files: LiaisonFile[];
}

/** A message to record: what the writer gives, before anything happened to it. */
export type NewLiaisonMessage = Omit<LiaisonMessage, 'acknowledgedAt' | 'acknowledgedBy' | 'forwardedAt' | 'forwardError' | 'files'> & {
  idempotencyKey: string;
  files: Omit<LiaisonFile, 'forwardedAt'>[];
};

interface MessageRow {
  message_id: string;
  case_id: string;
  from_side: LiaisonSide;
  to_side: LiaisonSide;
  author: string;
  author_role: string | null;
  author_region: string | null;
  body: string;
  in_reply_to: string | null;
  sent_at: Date;
  acknowledged_at: Date | null;
  acknowledged_by: string | null;
  forwarded_at: Date | null;
  forward_error: string | null;
  files: { position: number; file_id: string; sha256: string; size: string; content_type: string; forwarded_at: string | null }[] | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function messageOf(r: MessageRow): LiaisonMessage {
  return {
    messageId: r.message_id,
    caseId: r.case_id,
    from: r.from_side,
    to: r.to_side,
    author: r.author,
    authorRole: r.author_role,
    authorRegion: r.author_region,
    body: r.body,
    inReplyTo: r.in_reply_to,
    sentAt: r.sent_at.toISOString(),
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.acknowledged_by,
    forwardedAt: iso(r.forwarded_at),
    forwardError: r.forward_error,
    files: (r.files ?? [])
      .map((f) => ({ position: f.position, fileId: f.file_id, sha256: f.sha256.trim(), size: Number(f.size), contentType: f.content_type, forwardedAt: f.forwarded_at ? new Date(f.forwarded_at).toISOString() : null }))
      .sort((a, b) => a.position - b.position),
  };
}

const SELECT = `SELECT m.*, (SELECT json_agg(json_build_object('position', f.position, 'file_id', f.file_id, 'sha256', f.sha256, 'size', f.size,
                        'content_type', f.content_type, 'forwarded_at', f.forwarded_at))
                   FROM case_message_files f WHERE f.message_id = m.message_id) AS files
              FROM case_messages m`;

/**
 * Records a message once per (author, idempotency key), with its attachments, in the caller's
 * transaction. Returns the stored message and whether this call created it.
 */
export async function insertMessage(db: Queryable, m: NewLiaisonMessage): Promise<{ message: LiaisonMessage; created: boolean }> {
  const inserted = await db.query(
    `INSERT INTO case_messages (message_id, case_id, from_side, to_side, author, author_role, author_region, body, in_reply_to, sent_at, idempotency_key)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) ON CONFLICT (author, idempotency_key) DO NOTHING`,
    [m.messageId, m.caseId, m.from, m.to, m.author, m.authorRole, m.authorRegion, m.body, m.inReplyTo, m.sentAt, m.idempotencyKey],
  );
  const created = inserted.rowCount === 1;
  if (created) {
    for (const f of m.files) {
      await db.query(`INSERT INTO case_message_files (message_id, position, file_id, sha256, size, content_type) VALUES ($1,$2,$3,$4,$5,$6)`, [
        m.messageId, f.position, f.fileId, f.sha256, f.size, f.contentType,
      ]);
    }
    // A reply acknowledges the message it answers, if nobody did yet.
    if (m.inReplyTo) {
      await db.query(`UPDATE case_messages SET acknowledged_at = $2, acknowledged_by = $3 WHERE message_id = $1 AND acknowledged_at IS NULL`, [m.inReplyTo, m.sentAt, m.author]);
    }
  }
  const { rows } = await db.query<MessageRow>(`${SELECT} WHERE m.author = $1 AND m.idempotency_key = $2`, [m.author, m.idempotencyKey]);
  return { message: messageOf(rows[0]!), created };
}

export async function listMessages(db: Queryable, caseId: string): Promise<LiaisonMessage[]> {
  const { rows } = await db.query<MessageRow>(`${SELECT} WHERE m.case_id = $1 ORDER BY m.sent_at, m.message_id`, [caseId]);
  return rows.map(messageOf);
}

export async function findMessage(db: Queryable, caseId: string, messageId: string): Promise<LiaisonMessage | null> {
  const { rows } = await db.query<MessageRow>(`${SELECT} WHERE m.case_id = $1 AND m.message_id = $2`, [caseId, messageId]);
  return rows[0] ? messageOf(rows[0]) : null;
}

/** Acknowledges a message; the first acknowledgement stands. Returns the message as it now is. */
export async function acknowledgeMessage(db: Queryable, caseId: string, messageId: string, by: string, at: string): Promise<LiaisonMessage | null> {
  await db.query(`UPDATE case_messages SET acknowledged_at = $3, acknowledged_by = $4 WHERE case_id = $1 AND message_id = $2 AND acknowledged_at IS NULL`, [caseId, messageId, at, by]);
  return findMessage(db, caseId, messageId);
}

/** Takes back a message whose forwarding could not be started (the writer retries with the same key). */
export async function deleteMessage(db: Queryable, messageId: string): Promise<void> {
  await db.query(`DELETE FROM case_messages WHERE message_id = $1`, [messageId]);
}

export async function markMessageForwarded(db: Queryable, messageId: string, at: string): Promise<void> {
  await db.query(`UPDATE case_messages SET forwarded_at = coalesce(forwarded_at, $2), forward_error = NULL WHERE message_id = $1`, [messageId, at]);
}

/** Marks an attachment received by the province's system; returns what the hand-off ledger records of it. */
export async function markFileForwarded(db: Queryable, messageId: string, position: number, at: string): Promise<{ caseId: string; sentAt: string; sha256: string; size: number; forwardedAt: string } | null> {
  const { rows } = await db.query<{ case_id: string; sent_at: Date; sha256: string; size: string; forwarded_at: Date }>(
    `UPDATE case_message_files f SET forwarded_at = coalesce(f.forwarded_at, $3)
       FROM case_messages m
      WHERE f.message_id = $1 AND f.position = $2 AND m.message_id = f.message_id
      RETURNING m.case_id, m.sent_at, f.sha256, f.size, f.forwarded_at`,
    [messageId, position, at],
  );
  const r = rows[0];
  return r ? { caseId: r.case_id, sentAt: r.sent_at.toISOString(), sha256: r.sha256.trim(), size: Number(r.size), forwardedAt: r.forwarded_at.toISOString() } : null;
}

export async function markForwardFailed(db: Queryable, messageId: string, error: string): Promise<void> {
  await db.query(`UPDATE case_messages SET forward_error = $2 WHERE message_id = $1 AND forwarded_at IS NULL`, [messageId, error.slice(0, 2000)]);
}

/** The province's case id once the case has reached the handling authority (null before). */
export async function provinceCaseIdOf(db: Queryable, caseId: string): Promise<string | null> {
  const { rows } = await db.query<{ province_case_id: string | null }>(`SELECT province_case_id FROM cases WHERE case_id = $1`, [caseId]);
  return rows[0]?.province_case_id ?? null;
}

/** Messages not acknowledged yet, oldest first (the stuck-case reasons read these). */
export async function unacknowledgedMessages(db: Queryable, sentBefore: Date, limit = 500): Promise<LiaisonMessage[]> {
  const { rows } = await db.query<MessageRow>(`${SELECT} WHERE m.acknowledged_at IS NULL AND m.sent_at < $1 ORDER BY m.sent_at LIMIT $2`, [sentBefore, limit]);
  return rows.map(messageOf);
}
