// The electronic licence an approval's certificate may carry (contracts/province.ts `licenceSchema`):
// a GB/T 36904 identifier with its check character, consistent with the licence type and issuer
// fields, an SM3 digest and a DER hex signature; every bad field named on arrival.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { provinceEventSchema } from '../../contracts/province.js';
import { generateSm2KeyPair, sm2Sign, sm3Hex } from '../../crypto/sm.js';
import { formatLicenceId } from '../../domain/elicenceId.js';

const at = '2026-11-25T08:00:00.000Z';
const licenceType = '11100000000013338W011';
const issuerCode = '11430000006122244L';
const licenceId = formatLicenceId({ licenceType, issuer: issuerCode, serial: '20230000403', version: '001' });
const documentSm3 = sm3Hex('a licence document');
const licence = { licenceId, licenceType, issuerCode, documentSm3, signature: sm2Sign(generateSm2KeyPair().privateKey, Buffer.from(documentSm3, 'hex')), signedAt: at };
const approval = (l: unknown) => ({
  eventId: 'e-1',
  caseId: randomUUID(),
  type: 'case.approved',
  at,
  data: { certificate: { certificateId: 'c-1', issuer: '湖南省政务服务中心', sha256: 'a'.repeat(64), issuedAt: at, licence: l } },
});
const issues = (value: unknown) => {
  const result = provinceEventSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort();
};

describe('a certificate’s electronic licence', () => {
  it('When the licence is well-formed, then it is kept, hex normalised to lower case', () => {
    expect(licenceId).toBe('1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U');
    const parsed = provinceEventSchema.parse(approval({ ...licence, documentSm3: documentSm3.toUpperCase(), signature: licence.signature.toUpperCase(), extra: 1 }));
    expect((parsed.data as { certificate: { licence: unknown } }).certificate.licence).toEqual(licence);
  });

  it('When the identifier’s check character is wrong or it disagrees with the fields, then each bad field is named', () => {
    expect(issues(approval({ ...licence, licenceId: `${licenceId.slice(0, -1)}V` }))).toEqual(['data.certificate.licence.licenceId: has a wrong check character (ISO 7064 MOD 37,36)']);
    expect(issues(approval({ ...licence, issuerCode: '11430000006122245L', licenceType: '11100000000013338W012' }))).toEqual([
      'data.certificate.licence.issuerCode: must be the issuing authority’s 18-character unified social credit code (GB 32100)',
      'data.certificate.licence.licenceType: does not match the licence type in licenceId',
    ]);
    expect(issues(approval({ ...licence, documentSm3: 'x', signature: 'zz', signedAt: 'yesterday' })).map((i) => i.split(':')[0])).toEqual([
      'data.certificate.licence.documentSm3',
      'data.certificate.licence.signature',
      'data.certificate.licence.signedAt',
    ]);
  });
});
