// POST /v1/verify, the public verification of electronic licences (api/verify.ts): by identifier or
// by document; genuine only when the record exists and its SM2 signature verifies under the key
// registered for the issuing province; a tampered document, an unknown identifier and a forged
// signature answered as not genuine (never an error); malformed requests a 400 naming the field;
// the public rate limit. Records are written through the projection's own recordLicence.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSm2KeyPair, sm2Sign, sm3Hex } from '../../crypto/sm.js';
import { recordLicence } from '../../db/elicences.js';
import type { CaseEvent } from '../../domain/case.js';
import { formatLicenceId } from '../../domain/elicenceId.js';
import { issuerCreditCode, SIMULATED_LICENCE_TYPE } from '../../simulator/elicences.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, PROVINCE_LICENCE_KEYS, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000' } });
});
afterAll(async () => {
  await h?.close();
});

interface Issued {
  caseId: string;
  licenceId: string;
  issuerCode: string;
  document: Buffer;
  issuedAt: string;
  signedAt: string;
}

/**
 * A case handled in `handlingRegion` whose `delivery.issued` event carries a licence over a fresh
 * document, signed with `privateKey`, recorded as the projection records it.
 */
async function issue(opts: { handlingRegion?: string; privateKey?: string } = {}): Promise<Issued> {
  const handlingRegion = opts.handlingRegion ?? '510100';
  const province = `${handlingRegion.slice(0, 2)}0000`;
  const caseId = await insertProjectedCase(h, { item: testItem('verify-item'), receivingRegion: '440100', handlingRegion, submittedAt: new Date() });
  const issuerCode = issuerCreditCode(province);
  const licenceId = formatLicenceId({ licenceType: SIMULATED_LICENCE_TYPE, issuer: issuerCode, serial: randomBytes(8).toString('hex').toUpperCase(), version: 1 });
  const document = Buffer.from(JSON.stringify({ licenceId, caseId, holder: '张*', note: randomBytes(8).toString('hex') }));
  const documentSm3 = sm3Hex(document);
  const privateKey = opts.privateKey ?? PROVINCE_LICENCE_KEYS[province as keyof typeof PROVINCE_LICENCE_KEYS].privateKey;
  const issuedAt = '2026-11-25T08:00:00.000Z';
  const signedAt = '2026-11-25T08:00:01.000Z';
  const certificate = {
    certificateId: `${province}-cert-1`,
    issuer: '四川省政务服务中心',
    sha256: 'a'.repeat(64),
    issuedAt,
    licence: { licenceId, licenceType: SIMULATED_LICENCE_TYPE, issuerCode, documentSm3, signature: sm2Sign(privateKey, Buffer.from(documentSm3, 'hex')), signedAt },
  };
  const event: CaseEvent = { seq: 9, type: 'delivery.issued', stage: 'delivery', status: 'active', at: issuedAt, actor: `province:${province}`, data: { certificate } };
  await recordLicence(h.pool, caseId, event);
  // A repeated projection write records nothing more.
  await recordLicence(h.pool, caseId, event);
  return { caseId, licenceId, issuerCode, document, issuedAt, signedAt };
}

const verify = (payload: unknown) => h.app.inject({ method: 'POST', url: '/v1/verify', payload: payload as object });
const errorPaths = (res: { json: () => unknown }) => (res.json() as { errors: { path: string }[] }).errors.map((e) => e.path);

describe('POST /v1/verify', () => {
  it('When a genuine licence is presented by its identifier, then it is genuine, with its issuer and dates', async () => {
    const licence = await issue();
    const res = await verify({ licenceId: licence.licenceId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      genuine: true,
      licenceId: licence.licenceId,
      licenceType: SIMULATED_LICENCE_TYPE,
      issuer: { name: '四川省政务服务中心', code: licence.issuerCode, province: '510000' },
      issuedAt: licence.issuedAt,
      signedAt: licence.signedAt,
    });
    const rows = await h.pool.query('SELECT count(*)::int AS n FROM elicences WHERE case_id = $1', [licence.caseId]);
    expect(rows.rows[0].n).toBe(1);
  });

  it('When the genuine document is presented, then it is genuine; with one byte changed, it is not', async () => {
    const licence = await issue();
    const res = await verify({ document: licence.document.toString('base64') });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ genuine: true, licenceId: licence.licenceId, issuer: { code: licence.issuerCode, province: '510000' } });

    const tampered = Buffer.from(licence.document);
    const at = tampered.length - 3;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at);
    const refused = await verify({ document: tampered.toString('base64') });
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toEqual({ genuine: false, code: 'unknown-document', reason: expect.stringContaining('被改动') });
  });

  it('When the identifier is well-formed but was never issued, then it is not genuine', async () => {
    const licenceId = formatLicenceId({ licenceType: SIMULATED_LICENCE_TYPE, issuer: issuerCreditCode('510000'), serial: 'NEVERISSUED1', version: '001' });
    const res = await verify({ licenceId });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ genuine: false, code: 'unknown-licence', reason: expect.stringContaining('查无此电子证照') });
  });

  it('When a record carries a signature made with another key than the issuer’s registered one, then it is refused as forged, by identifier and by document', async () => {
    const forged = await issue({ privateKey: generateSm2KeyPair().privateKey });
    for (const payload of [{ licenceId: forged.licenceId }, { document: forged.document.toString('base64') }]) {
      const res = await verify(payload);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ genuine: false, code: 'signature-invalid', reason: expect.stringContaining('伪造') });
    }
  });

  it('When the issuing province has no registered key, then the licence cannot be verified and is not genuine', async () => {
    // 430000 is not among the api harness's provinces, so no key is registered for it.
    const licence = await issue({ handlingRegion: '430100', privateKey: generateSm2KeyPair().privateKey });
    const res = await verify({ licenceId: licence.licenceId });
    expect(res.json()).toMatchObject({ genuine: false, code: 'issuer-key-not-registered' });
  });

  it('When the request gives neither or both, a wrong check character, bad base64 or an unknown field, then 400 names the field', async () => {
    const neither = await verify({});
    expect(neither.statusCode).toBe(400);
    expect(neither.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(errorPaths(neither).sort()).toEqual(['document', 'licenceId']);

    const licence = await issue();
    const both = await verify({ licenceId: licence.licenceId, document: licence.document.toString('base64') });
    expect(both.statusCode).toBe(400);
    expect(both.json<{ errors: { message: string }[] }>().errors[0]!.message).toContain('not both');

    // The housing ministry's published identifier, check character U, with another one.
    const wrongCheck = await verify({ licenceId: '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V' });
    expect(wrongCheck.statusCode).toBe(400);
    expect(wrongCheck.json()).toMatchObject({ errors: [{ path: 'licenceId', message: 'has a wrong check character (ISO 7064 MOD 37,36)' }] });

    const notAnId = await verify({ licenceId: 'DZZZ-510000-0001' });
    expect(errorPaths(notAnId)).toEqual(['licenceId']);
    const badBase64 = await verify({ document: 'not base64!' });
    expect(errorPaths(badBase64)).toEqual(['document']);
    const unknown = await verify({ licenceID: licence.licenceId });
    expect(errorPaths(unknown)).toEqual(expect.arrayContaining(['licenceID']));
  });
});

describe('POST /v1/verify in the OpenAPI document', () => {
  it('When /docs/json is read, then the route is public, with its request and result schemas', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { tags: string[]; requestBody: unknown; responses: Record<string, unknown> }>> }>();
    const op = doc.paths['/v1/verify']!.post!;
    expect(op.tags).toEqual(['public']);
    expect(JSON.stringify(op.requestBody)).toMatch(/licenceId.*document|VerifyRequest/);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '400', '429']));
  });
});

describe('POST /v1/verify: the public rate limit', () => {
  it('When one address asks more often than allowed, then it gets 429 problem+json with Retry-After', async () => {
    const limited = await createApiHarness({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '3' } });
    try {
      const payload = { licenceId: formatLicenceId({ licenceType: SIMULATED_LICENCE_TYPE, issuer: issuerCreditCode('510000'), serial: 'RATELIMIT', version: '001' }) };
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await limited.app.inject({ method: 'POST', url: '/v1/verify', payload })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const res = await limited.app.inject({ method: 'POST', url: '/v1/verify', payload });
      expect(res.statusCode).toBe(429);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });
});
