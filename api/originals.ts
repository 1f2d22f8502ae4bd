// Paper originals sent by post (纸质原件寄递): when an item wants the originals after the electronic
// transfer, the receiving window posts them to the handling authority and records the tracking
// number; the authority records their arrival. Each is an entry of the case's hand-off ledger
// (db/handoffs.ts: `original_by_post`, and its `ack`), so the days the post held them are
// attributable and neither side can rewrite when they were sent or received.
import type pg from 'pg';
import { writeAudit } from '../db/audit.js';
import { caseMaterialCodes } from '../db/caseQueries.js';
import { appendHandoff, findHandoffByRef } from '../db/handoffs.js';
import { withTransaction } from '../db/transaction.js';
import type { StaffClaims } from './auth.js';
import { authorizeCaseAction } from './caseReads.js';
import { problem } from './problem.js';

export interface OriginalsSent {
  trackingNumber: string;
  carrier?: string | undefined;
  materialCodes: string[];
}

const refOf = (trackingNumber: string) => `originals:${trackingNumber}`;

/** The window posts the originals: one ledger entry per parcel (idempotent by its tracking number). */
export async function recordOriginalsSent(pool: pg.Pool, staff: StaffClaims, caseId: string, body: OriginalsSent) {
  await authorizeCaseAction(pool, staff, caseId, 'case.sendOriginals');
  const known = await caseMaterialCodes(pool, caseId);
  const unknown = body.materialCodes.map((code, i) => ({ code, i })).filter(({ code }) => !known.has(code));
  if (unknown.length) throw problem(400, 'the parcel names materials the case does not have', { errors: unknown.map(({ code, i }) => ({ path: `materialCodes.${i}`, message: `the case has no material ${code}` })) });
  const sentAt = new Date().toISOString();
  return withTransaction(pool, async (client) => {
    const entry = await appendHandoff(client, caseId, {
      kind: 'original_by_post',
      ref: refOf(body.trackingNumber),
      from: 'receiving',
      to: 'handling',
      what: body.materialCodes.map((materialCode) => ({ materialCode, trackingNumber: body.trackingNumber, carrier: body.carrier ?? null })),
      sentAt,
      acknowledgedAt: null,
    });
    // A repeat of the same parcel returns the entry recorded first and is not audited again.
    if (entry.sentAt === sentAt) {
      await writeAudit(client, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.sendOriginals', caseId, detail: { trackingNumber: body.trackingNumber, materials: body.materialCodes } });
    }
    return entry;
  });
}

/** The authority received the parcel: an acknowledgement entry (the first one stands). */
export async function recordOriginalsReceived(pool: pg.Pool, staff: StaffClaims, caseId: string, trackingNumber: string) {
  await authorizeCaseAction(pool, staff, caseId, 'case.receiveOriginals');
  const sent = await findHandoffByRef(pool, caseId, refOf(trackingNumber));
  if (!sent) throw problem(404, `no parcel ${trackingNumber} was recorded as sent for case ${caseId}`);
  const at = new Date().toISOString();
  return withTransaction(pool, async (client) => {
    const ack = await appendHandoff(client, caseId, {
      kind: 'ack',
      ref: `ack:${refOf(trackingNumber)}`,
      from: 'handling',
      to: 'receiving',
      what: [{ trackingNumber }],
      sentAt: at,
      acknowledgedAt: null,
      acknowledgesRef: refOf(trackingNumber),
    });
    if (ack.sentAt === at) await writeAudit(client, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.receiveOriginals', caseId, detail: { trackingNumber } });
    return ack;
  });
}
