// Electronic licence records (db/migrations/008_elicences.sql): written by the projection when a
// `delivery.issued` event carries `certificate.licence`, read by the public verification
// (api/verify.ts). The record keeps what the province sent; whether its signature holds is decided
// at verify time with the issuing authority's registered key, so a key registered or corrected
// later applies to licences recorded before.
import { certificateSchema } from '../contracts/province.js';
import type { CaseEvent } from '../domain/case.js';
import { provinceOf } from '../domain/regions.js';
import type { Queryable } from './cases.js';

export interface LicenceRecord {
  licenceId: string;
  caseId: string;
  /** The handling province, whose issuing authority signed. */
  provinceCode: string;
  issuerCode: string;
  issuerName: string;
  licenceType: string;
  documentSm3: string;
  /** DER hex. */
  signature: string;
  signedAt: string;
  issuedAt: string;
  recordedAt: string;
}

/**
 * Records the licence a `delivery.issued` event carries, once (a repeated write, or the same
 * licence again after a workflow reset, changes nothing). An event without a licence, or with one
 * that is not well-formed (it was validated on arrival, so this is only a guard), records nothing.
 */
export async function recordLicence(db: Queryable, caseId: string, event: CaseEvent): Promise<void> {
  const parsed = certificateSchema.safeParse(event.data.certificate);
  if (!parsed.success || !parsed.data.licence) return;
  const { issuer, issuedAt, licence } = parsed.data;
  const { rows } = await db.query<{ handling_region: string }>(`SELECT handling_region FROM cases WHERE case_id = $1`, [caseId]);
  const row = rows[0];
  if (!row) return;
  await db.query(
    `INSERT INTO elicences (licence_id, case_id, province_code, issuer_code, issuer_name, licence_type, document_sm3, signature, signed_at, issued_at)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (licence_id) DO NOTHING`,
    [licence.licenceId, caseId, provinceOf(row.handling_region), licence.issuerCode, issuer, licence.licenceType, licence.documentSm3, licence.signature, licence.signedAt, issuedAt],
  );
}

interface LicenceRow {
  licence_id: string;
  case_id: string;
  province_code: string;
  issuer_code: string;
  issuer_name: string;
  licence_type: string;
  document_sm3: string;
  signature: string;
  signed_at: Date;
  issued_at: Date;
  recorded_at: Date;
}

const COLUMNS = 'licence_id, case_id, province_code, issuer_code, issuer_name, licence_type, document_sm3, signature, signed_at, issued_at, recorded_at';

function recordOf(r: LicenceRow): LicenceRecord {
  return {
    licenceId: r.licence_id,
    caseId: r.case_id,
    provinceCode: r.province_code,
    issuerCode: r.issuer_code,
    issuerName: r.issuer_name,
    licenceType: r.licence_type,
    documentSm3: r.document_sm3,
    signature: r.signature,
    signedAt: r.signed_at.toISOString(),
    issuedAt: r.issued_at.toISOString(),
    recordedAt: r.recorded_at.toISOString(),
  };
}

export async function findLicenceById(db: Queryable, licenceId: string): Promise<LicenceRecord | null> {
  const { rows } = await db.query<LicenceRow>(`SELECT ${COLUMNS} FROM elicences WHERE licence_id = $1`, [licenceId]);
  return rows[0] ? recordOf(rows[0]) : null;
}

/** Every licence whose document has this SM3 digest (lower-case hex), oldest first; normally one at most. */
export async function findLicencesByDocumentSm3(db: Queryable, documentSm3: string): Promise<LicenceRecord[]> {
  const { rows } = await db.query<LicenceRow>(`SELECT ${COLUMNS} FROM elicences WHERE document_sm3 = $1 ORDER BY recorded_at, licence_id LIMIT 10`, [documentSm3]);
  return rows.map(recordOf);
}
