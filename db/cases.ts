// Writes of the case projection, shared by the api (intake) and the projection activity, so a
// case row looks the same whichever wrote it first. Every write is idempotent.
import type { Pool, PoolClient } from 'pg';
import type { Keyring } from '../config/secrets.js';
import type { CaseInput } from '../domain/case.js';
import { maskIdNumber, maskName, maskPhone } from '../domain/idNumber.js';
import { sealText } from '../crypto/aead.js';
import { lookupHash } from '../crypto/pii.js';

export interface PiiKeys {
  /**
   * The keyring that seals personal-data columns: Secrets.piiSealKeys (PII_SEAL_KEYS), never the
   * Temporal payload keys, so holding one does not open the other.
   */
  keyring: Keyring;
  hashKey: string;
}

export type Queryable = Pool | PoolClient;

/**
 * The case row and its materials, unless they exist: two common table expressions (`case_row`,
 * `material_rows`) over parameters $1-$26 (caseRowParams), for a statement that goes on with its
 * own (intake adds its audit entry, db/intake.ts). Every insert is ON CONFLICT DO NOTHING, so intake
 * and the projection activity can race on a case in either order and need no lock.
 */
export const CASE_ROW_CTES = `case_row AS (
       INSERT INTO cases (case_id, item_code, item_version, item_name, receiving_region, handling_region, channel,
         stage, status, applicant_name_masked, applicant_name_sealed, id_number_hash, id_number_masked, id_number_sealed,
         phone_masked, phone_sealed, delivery_method, delivery_address_sealed, delivery, promised_days, statutory_days,
         submitted_by, submitted_at, updated_at)
       VALUES ($1,$2,$3,$4,$5,$6,$7,'intake','active',$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$21)
       ON CONFLICT (case_id) DO NOTHING
       RETURNING 1
     ), material_rows AS (
       INSERT INTO case_materials (case_id, material_code, file_id, sha256, size, content_type)
       SELECT $1, * FROM unnest($22::text[], $23::uuid[], $24::text[], $25::bigint[], $26::text[])
       ON CONFLICT DO NOTHING
     )`;

/** The parameters of CASE_ROW_CTES: the personal data sealed, hashed and masked here. */
export function caseRowParams(input: CaseInput, keys: PiiKeys): unknown[] {
  const { applicant, item, materials } = input;
  return [
    input.caseId, item.code, item.version, item.name, input.receivingRegion, input.handlingRegion, input.channel,
    maskName(applicant.name), sealText(keys.keyring, applicant.name),
    lookupHash(keys.hashKey, applicant.idNumber), maskIdNumber(applicant.idNumber), sealText(keys.keyring, applicant.idNumber),
    maskPhone(applicant.phone), sealText(keys.keyring, applicant.phone),
    input.delivery.method, input.delivery.address ? sealText(keys.keyring, input.delivery.address) : null,
    JSON.stringify({ method: input.delivery.method, status: 'pending' }),
    item.promisedDays, item.statutoryDays, input.submittedBy.id, input.submittedAt,
    materials.map((m) => m.materialCode), materials.map((m) => m.fileId), materials.map((m) => m.sha256),
    materials.map((m) => m.size), materials.map((m) => m.contentType),
  ];
}

/**
 * Inserts the case row and its materials unless they exist, in one statement (one round trip
 * however many materials); true when this call inserted the case row.
 */
export async function insertCase(db: Queryable, input: CaseInput, keys: PiiKeys): Promise<boolean> {
  const { rows } = await db.query<{ inserted: number }>(`WITH ${CASE_ROW_CTES} SELECT count(*)::int AS inserted FROM case_row`, caseRowParams(input, keys));
  return rows[0]!.inserted === 1;
}
