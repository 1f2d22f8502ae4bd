// The simulated provinces' electronic licences (电子证照). Each simulated province plays an issuing
// authority with an SM2 key pair and a unified social credit code; on an electronic approval it
// issues a licence: a small deterministic document about the result, a GB/T 36904 identifier,
// and the authority's SM2 signature (GB/T 32918.2, default user id) of the 32 bytes of the
// document's SM3 digest (contracts/province.ts `licenceSchema`). tongban registers only the
// public key (PROVINCES[].licencePublicKey) and checks licences with it (POST /v1/verify).
//
// The document is never stored: it is a pure function of the case's creation request and the
// certificate carried by the approval event, both already in the simulator's state (and its state
// file), so it is rebuilt byte for byte when asked for, also after a restart. Tests download it
// from the unsigned admin route `GET /_admin/provinces/{code}/elicences/{licenceId}/document`
// (on loopback like every /_admin control): the genuine bytes an applicant would get from the
// authority's own e-licence service, to present to tongban's verification.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sha256Hex } from '../crypto/signing.js';
import { generateSm2KeyPair, sm2PublicKeyFromPrivate, sm2Sign, sm3Hex, type Sm2KeyPair } from '../crypto/sm.js';
import { formatLicenceId, parseLicenceId, unifiedSocialCreditCheckChar } from '../domain/elicenceId.js';
import { maskIdNumber, maskName } from '../domain/idNumber.js';
import { ProblemError } from './problem.js';
import type { Province, ProvinceSimulation, SimCase } from './province.js';

/** Per province code, the issuing authority's SM2 key pair (hex, crypto/sm.ts). */
export type LicenceKeys = Record<string, Sm2KeyPair>;

/** What a certificate carries before (and besides) its licence. */
export interface CertificateFields {
  certificateId: string;
  issuer: string;
  sha256: string;
  issuedAt: string;
}

interface IssuingAuthority {
  /** 统一社会信用代码, fixed per province. */
  issuerCode: string;
  keys: Sm2KeyPair;
}

/**
 * The issuing authority each simulated province plays, keyed by its Province (so several
 * simulators in one process never share one). A province without an entry issues certificates
 * without a licence.
 */
const authorities = new WeakMap<Province, IssuingAuthority>();

/** GB 11714-1997: the check character of an 8-character organisation code body. */
function organisationCode(body: string): string {
  const weights = [3, 7, 9, 10, 5, 8, 4, 2];
  const value = (ch: string) => (/\d/.test(ch) ? Number(ch) : ch.charCodeAt(0) - 55);
  const sum = [...body].reduce((acc, ch, i) => acc + value(ch) * weights[i]!, 0);
  const c = 11 - (sum % 11);
  return body + (c === 10 ? 'X' : c === 11 ? '0' : String(c));
}

/** A unified social credit code (GB 32100): registration office, organ type, region, organisation code, check. */
function creditCode(office: string, type: string, region: string, organisationBody: string): string {
  const body = `${office}${type}${region}${organisationCode(organisationBody)}`;
  return body + unifiedSocialCreditCheckChar(body);
}

/** The issuing authority's code of a simulated province: a government organ (11) of that province. */
export function issuerCreditCode(provinceCode: string): string {
  return creditCode('1', '1', provinceCode, `MB${provinceCode.slice(0, 2)}0001`);
}

/**
 * The licence type (证照类型代码) of every simulated result: a made-up national defining authority
 * (a government organ, region 100000) and the sequence 001.
 */
export const SIMULATED_LICENCE_TYPE = `${creditCode('1', '1', '100000', 'MB000001')}001`;

/**
 * Gives each of the simulation's provinces its issuing authority, with the key pair given for it
 * or a new one, and mounts the document download. Returns the public keys (what tongban registers).
 */
export function registerElicences(app: FastifyInstance, simulation: ProvinceSimulation, given: LicenceKeys = {}): { publicKey(code: string): string } {
  for (const code of Object.keys(given)) {
    if (!simulation.provinces.has(code)) throw new Error(`licenceKeys: the simulator does not play province ${code}`);
  }
  for (const province of simulation.provinces.values()) {
    const keys = given[province.code] ?? generateSm2KeyPair();
    if (sm2PublicKeyFromPrivate(keys.privateKey) !== keys.publicKey.toLowerCase()) {
      throw new Error(`licenceKeys.${province.code}: the public key is not the private key's`);
    }
    authorities.set(province, { issuerCode: issuerCreditCode(province.code), keys: { privateKey: keys.privateKey.toLowerCase(), publicKey: keys.publicKey.toLowerCase() } });
  }

  app.get<{ Params: { code: string; licenceId: string } }>('/_admin/provinces/:code/elicences/:licenceId/document', async (request, reply) => {
    const province = simulation.province(request.params.code);
    const document = licenceDocumentOf(province, request.params.licenceId);
    return reply.type('application/json; charset=utf-8').header('x-document-sm3', sm3Hex(document)).send(document);
  });

  return {
    publicKey: (code) => {
      const authority = authorities.get(simulation.province(code));
      if (!authority) throw new Error(`province ${code} has no issuing authority`);
      return authority.keys.publicKey;
    },
  };
}

/**
 * The certificate of an electronic approval, with a licence when the province plays an issuing
 * authority: identifier, document digest and signature. The certificate's `sha256` becomes that
 * of the licence document, so both hashes name the same bytes.
 */
export function withLicence(province: Province, simCase: SimCase, certificate: CertificateFields): Record<string, unknown> {
  const authority = authorities.get(province);
  if (!authority) return { ...certificate };
  // Unique for good, like event ids: epoch ms and 32 random bits, 0-9A-F (the check system's alphabet).
  const serial = `${Date.now()}${randomBytes(4).toString('hex').toUpperCase()}`;
  const licenceId = formatLicenceId({ licenceType: SIMULATED_LICENCE_TYPE, issuer: authority.issuerCode, serial, version: '001' });
  const document = licenceDocument(simCase, certificate, licenceId, authority.issuerCode);
  const documentSm3 = sm3Hex(document);
  const licence = {
    licenceId,
    licenceType: SIMULATED_LICENCE_TYPE,
    issuerCode: authority.issuerCode,
    documentSm3,
    signature: sm2Sign(authority.keys.privateKey, Buffer.from(documentSm3, 'hex')),
    signedAt: new Date().toISOString(),
  };
  return { ...certificate, sha256: sha256Hex(document), licence };
}

/**
 * The licence document: UTF-8 JSON with a fixed key order, naming the licence, the case, the
 * item, the holder (masked: the document is served unsigned on loopback) and the issue.
 */
function licenceDocument(simCase: SimCase, certificate: CertificateFields, licenceId: string, issuerCode: string): Buffer {
  const { request } = simCase;
  return Buffer.from(
    JSON.stringify({
      format: 'tongban-simulator-elicence/1',
      licenceId,
      licenceType: SIMULATED_LICENCE_TYPE,
      certificateId: certificate.certificateId,
      caseId: request.caseId,
      provinceCaseId: simCase.provinceCaseId,
      itemCode: request.itemCode,
      itemVersion: request.itemVersion,
      holder: { name: maskName(request.applicant.name), idNumber: maskIdNumber(request.applicant.idNumber) },
      issuer: { name: certificate.issuer, code: issuerCode },
      issuedAt: certificate.issuedAt,
    }),
    'utf8',
  );
}

/** Rebuilds an issued licence's document from the approval that carried it; 404 when none did. */
export function licenceDocumentOf(province: Province, licenceId: string): Buffer {
  const notFound = () => new ProblemError(404, 'unknown-licence', 'Unknown licence', `province ${province.code} issued no licence ${licenceId}`);
  const parsed = parseLicenceId(licenceId);
  if (!parsed.ok) throw notFound();
  for (const simCase of province.state.cases.values()) {
    for (const event of simCase.events) {
      if (event.type !== 'case.approved') continue;
      const certificate = event.data.certificate as (CertificateFields & { licence?: { licenceId: string; issuerCode: string; documentSm3: string } }) | undefined;
      if (certificate?.licence?.licenceId !== licenceId) continue;
      const document = licenceDocument(simCase, certificate, licenceId, certificate.licence.issuerCode);
      // The document is rebuilt, not stored: it must come out as the bytes that were signed.
      if (sm3Hex(document) !== certificate.licence.documentSm3) throw new Error(`licence ${licenceId}: the rebuilt document does not match its digest`);
      return document;
    }
  }
  throw notFound();
}
