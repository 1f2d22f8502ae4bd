// The public verification of an electronic licence (电子证照核验, POST /v1/verify): anyone holding a
// licence identifier or the licence document asks whether it is genuine, who issued it and when.
//
// Genuine means three things, all checked now, at verify time: tongban recorded a licence with
// that identifier (or whose document has the presented document's SM3 digest, so a changed byte
// finds nothing); and the issuing authority's SM2 signature in that record verifies, over the
// record's document digest, under the public key tongban has registered for the handling province
// (PROVINCES[].licencePublicKey), so a record carrying a signature made with any other key is
// refused as forged. Every "no" is an answer (200, genuine: false, with a reason a person
// understands), never an error: the route is for the public, who cannot act on a 500.
import { findLicenceById, findLicencesByDocumentSm3, type LicenceRecord } from '../db/elicences.js';
import type { Queryable } from '../db/cases.js';
import type { ProvinceEndpoint } from '../config/index.js';
import { sm2Verify, sm3Hex } from '../crypto/sm.js';
import { parseLicenceId } from '../domain/elicenceId.js';

export type VerifyRequest = { licenceId: string } | { document: Buffer };

/** Why a licence or document is not genuine, for machines; `reason` says it for people. */
export type NotGenuineCode = 'unknown-licence' | 'unknown-document' | 'issuer-key-not-registered' | 'signature-invalid' | 'record-inconsistent';

export type VerifyResult =
  | {
      genuine: true;
      licenceId: string;
      licenceType: string;
      issuer: { name: string; code: string; province: string };
      issuedAt: string;
      signedAt: string;
    }
  | { genuine: false; code: NotGenuineCode; reason: string };

/** The reasons, in the words of the public this route serves (the applicant's language, as GET /v1/progress). */
export const NOT_GENUINE_REASONS: Record<NotGenuineCode, string> = {
  'unknown-licence': '查无此电子证照：没有以该标识签发的证照',
  'unknown-document': '该文件与已签发的电子证照均不一致：它不是签发的证照，或签发后已被改动',
  'issuer-key-not-registered': '发证机关的签名公钥未在本系统登记，无法核验该证照',
  'signature-invalid': '发证机关的签名核验不通过：该证照记录是伪造的或已损坏',
  'record-inconsistent': '证照记录与其标识不一致',
};

const notGenuine = (code: NotGenuineCode): VerifyResult => ({ genuine: false, code, reason: NOT_GENUINE_REASONS[code] });

/**
 * The record's own consistency and the issuer's signature: the identifier names the record's
 * issuer and type, and the signature verifies over the document digest under the registered key.
 * null when genuine.
 */
function problemOf(record: LicenceRecord, provinces: readonly ProvinceEndpoint[]): NotGenuineCode | null {
  const parsed = parseLicenceId(record.licenceId);
  if (!parsed.ok || parsed.id.issuer !== record.issuerCode || parsed.id.licenceType !== record.licenceType) return 'record-inconsistent';
  const key = provinces.find((p) => p.code === record.provinceCode)?.licencePublicKey;
  if (!key) return 'issuer-key-not-registered';
  // A registered key was checked at start (config/index.ts), so sm2Verify does not throw on it;
  // a malformed signature is simply false.
  return sm2Verify(key, Buffer.from(record.documentSm3, 'hex'), record.signature) ? null : 'signature-invalid';
}

function genuine(record: LicenceRecord): VerifyResult {
  return {
    genuine: true,
    licenceId: record.licenceId,
    licenceType: record.licenceType,
    issuer: { name: record.issuerName, code: record.issuerCode, province: record.provinceCode },
    issuedAt: record.issuedAt,
    signedAt: record.signedAt,
  };
}

export async function verifyLicence(db: Queryable, provinces: readonly ProvinceEndpoint[], request: VerifyRequest): Promise<VerifyResult> {
  if ('licenceId' in request) {
    const record = await findLicenceById(db, request.licenceId);
    if (!record) return notGenuine('unknown-licence');
    const problem = problemOf(record, provinces);
    return problem ? notGenuine(problem) : genuine(record);
  }
  // A document is genuine when it hashes to a recorded digest whose signature holds; a changed
  // byte changes the digest, and then no record matches.
  const records = await findLicencesByDocumentSm3(db, sm3Hex(request.document));
  const problems: NotGenuineCode[] = [];
  for (const record of records) {
    const problem = problemOf(record, provinces);
    if (!problem) return genuine(record);
    problems.push(problem);
  }
  return notGenuine(problems[0] ?? 'unknown-document');
}
