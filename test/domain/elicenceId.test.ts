import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../simulator/callbacks.js';
import {
  formatLicenceId,
  isUnifiedSocialCreditCode,
  isValidLicenceId,
  isValidMod37_36,
  LICENCE_ID_MESSAGES,
  LicenceIdError,
  mod37_36CheckChar,
  Mod37_36InputError,
  parseLicenceId,
} from '../../domain/elicenceId.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';


function randomBodies(count: number, seed: number): string[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const length = 1 + Math.floor(next() * 40);
    return Array.from({ length }, () => ALPHABET[Math.floor(next() * 36)]).join('');
  });
}

describe('ISO/IEC 7064 MOD 37,36', () => {
  // Published samples: konfirm/node-iso7064 test/source/Instance/Mod37_36.ts (taken from
  // LiosK/cdigit's tests) and jacoelho/go-iso7064 iso7064/modulo37_36_test.go; the first is the
  // worked example of the hybrid system, A12425GABC1234002 → M.
  it.each([
    ['A12425GABC1234002', 'M'],
    ['RABD', 'A'],
    ['X0H', 'X'],
    ['B7Q3SFTUSH2QN7BIXBPMNZAM', 'I'],
    ['UFSYYJO9FCID766EJYAEINTG43UZDD84MT6ZUDH08OM4N1K', 'N'],
    ['ROYL38YZ9TDGPNB5MT40CEWGURAOKF07XEYTV3M', '6'],
    ['TBR', '1'],
    ['EFWW032G2TI', 'U'],
    ['9', 'J'],
    ['B3739U6CR', 'K'],
    ['H0DJFUS8HHGZNEE9H6ZWW', 'O'],
    ['C8AWF5G0CE8U9VTKSPPS2JAP09ZFEGFEAV', 'L'],
    ['OW', 'N'],
    ['TRO', 'D'],
    ['1M', 'Q'],
    ['FLFOWRIBFCNWNMNFVKAJVS7REUS2L', '2'],
    ['7LI6P5WTF2JHU', 'U'],
    ['KUHNOF8OA1NXCW', 'A'],
    ['KV0MFQXMAL4W5ICNH', 'P'],
    ['MM61BF7H6C2O86NNMW8ZY8V', '8'],
    ['WP8Z0', '9'],
  ])('When the check character of %s is computed, then it is %s, and the whole is valid', (body, check) => {
    expect(mod37_36CheckChar(body)).toBe(check);
    expect(isValidMod37_36(body + check)).toBe(true);
  });

  it('When a string has characters outside 0-9A-Z, then it is not valid and no check character is computed', () => {
    expect(isValidMod37_36('rabda')).toBe(false); // lower case is not the standard's alphabet
    expect(isValidMod37_36('RA-BDA')).toBe(false);
    expect(isValidMod37_36('A')).toBe(false); // a check character alone protects nothing
    expect(() => mod37_36CheckChar('RA.BD')).toThrow(Mod37_36InputError);
    expect(() => mod37_36CheckChar('')).toThrow(Mod37_36InputError);
  });

  const bodies = randomBodies(300, 20261107);

  it('When any one character of the body is replaced by any other, then the check fails (all of them)', () => {
    let tried = 0;
    for (const body of bodies) {
      const full = body + mod37_36CheckChar(body);
      for (let i = 0; i < body.length; i++) {
        for (const ch of ALPHABET) {
          if (ch === body[i]) continue;
          const altered = full.slice(0, i) + ch + full.slice(i + 1);
          if (isValidMod37_36(altered)) throw new Error(`substitution not detected: ${full} → ${altered}`);
          tried++;
        }
      }
    }
    expect(tried).toBeGreaterThan(100_000);
  });

  // A hybrid system cannot catch every adjacent transposition (docs.rs codes-check-digits notes the
  // same of MOD 11,10: "does not catch transposition errors 01 → 10"). What it misses is narrow: two
  // characters next to each other in 0-9A-Z (cyclically, Z next to 0), and then only when the running
  // value before them is one particular value of the 36. These tests pin exactly that.
  const M = 36;
  const step = (p: number, a: number) => ((((p + a) % M) || M) * 2) % (M + 1);
  const neighbours = (a: number, b: number) => (a - b + M) % M === 1 || (b - a + M) % M === 1;

  it('When every running value and ordered pair is tried, then a transposition is missed only for neighbouring characters, once in 36', () => {
    let missed = 0;
    let cases = 0;
    for (let p = 1; p <= M; p++) {
      for (let a = 0; a < M; a++) {
        for (let b = 0; b < M; b++) {
          if (a === b) continue;
          cases++;
          if (step(step(p, a), b) !== step(step(p, b), a)) continue;
          missed++;
          expect(neighbours(a, b)).toBe(true);
        }
      }
    }
    expect(cases).toBe(45_360);
    expect(missed).toBe(72); // 36 neighbouring pairs × 2 orders, one running value each: 0.16 %
  });

  it('When two adjacent different characters of the body are swapped, then the check fails unless they are that rare case', () => {
    let detected = 0;
    let missed = 0;
    for (const body of bodies) {
      const full = body + mod37_36CheckChar(body);
      let p = M;
      for (let i = 0; i + 1 < body.length; i++) {
        const a = ALPHABET.indexOf(body[i]!);
        const b = ALPHABET.indexOf(body[i + 1]!);
        if (a !== b) {
          const altered = full.slice(0, i) + full[i + 1] + full[i] + full.slice(i + 2);
          const sameState = step(step(p, a), b) === step(step(p, b), a);
          expect(isValidMod37_36(altered)).toBe(sameState);
          if (sameState) {
            expect(neighbours(a, b)).toBe(true);
            missed++;
          } else detected++;
        }
        p = step(p, a);
      }
    }
    expect(detected).toBeGreaterThan(4_000);
    expect(missed).toBeLessThan(detected / 100);
    // One such case, found by this test: …QP… and …PQ… check the same.
    expect(isValidMod37_36('5GKUACTV8FQUJ8TRYW4F41X5BK45QCM5QPZ3IOX')).toBe(true);
    expect(isValidMod37_36('5GKUACTV8FQUJ8TRYW4F41X5BK45QCM5PQZ3IOX')).toBe(true);
  });
});

describe('unified social credit code (GB 32100)', () => {
  it('When a published code is checked, then it is valid', () => {
    expect(isUnifiedSocialCreditCode('9135052155323005XL')).toBe(true); // HerbertHe/chinese-unique-identification-code's test
    expect(isUnifiedSocialCreditCode('11100000000013338W')).toBe(true); // the licence-type authority in the identifiers below
    expect(isUnifiedSocialCreditCode('11430000006122244L')).toBe(true);
    expect(isUnifiedSocialCreditCode('11330105002500287C')).toBe(true);
  });

  it('When a character is wrong or outside the code alphabet, then it is not valid', () => {
    expect(isUnifiedSocialCreditCode('9135052155323005XM')).toBe(false);
    expect(isUnifiedSocialCreditCode('9135052155323006XL')).toBe(false);
    expect(isUnifiedSocialCreditCode('913505215532300IXL')).toBe(false); // I is not used
    expect(isUnifiedSocialCreditCode('9135052155323005xl')).toBe(false);
    expect(isUnifiedSocialCreditCode('9135052155323005X')).toBe(false);
  });
});

describe('electronic licence identifier (GB/T 36904)', () => {
  // Published identifiers (see the module header for where they come from).
  const housing = '1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U';
  const zhejiang = '1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0';

  it('When published identifiers are parsed, then their parts come back and the check character holds', () => {
    expect(parseLicenceId(housing)).toEqual({
      ok: true,
      id: { licenceType: '11100000000013338W011', issuer: '11430000006122244L', serial: '20230000403', version: '001', check: 'U' },
    });
    expect(parseLicenceId(zhejiang)).toEqual({
      ok: true,
      id: { licenceType: '11100000000013338W009', issuer: '11330105002500287C', serial: '2025052201', version: '002', check: '0' },
    });
  });

  it('When the check character is computed, then it covers the four parts without the root code and without dots', () => {
    expect(mod37_36CheckChar('11100000000013338W011' + '11430000006122244L' + '20230000403' + '001')).toBe('U');
    // With the root code included, the published identifiers would not check.
    expect(mod37_36CheckChar('1215630052' + '11100000000013338W011' + '11430000006122244L' + '20230000403' + '001')).not.toBe('U');
    expect(() => mod37_36CheckChar('11100000000013338W011.11430000006122244L.20230000403.001')).toThrow(Mod37_36InputError);
  });

  it('When an identifier is formatted from its parts, then it is the published one', () => {
    expect(formatLicenceId({ licenceType: '11100000000013338W011', issuer: '11430000006122244L', serial: '20230000403', version: 1 })).toBe(housing);
    expect(formatLicenceId({ licenceType: '11100000000013338W009', issuer: '11330105002500287C', serial: '2025052201', version: '002' })).toBe(zhejiang);
  });

  it('When a serial is upper-case hex, then the identifier round-trips', () => {
    const id = formatLicenceId({ licenceType: '11100000000013338W011', issuer: '11330105002500287C', serial: '209FA4E88F9E4C878F3E9BED2CE7EA49', version: 3 });
    expect(id).toMatch(/^1\.2\.156\.3005\.2\.11100000000013338W011\.11330105002500287C\.209FA4E88F9E4C878F3E9BED2CE7EA49\.003\.[0-9A-Z]$/);
    expect(isValidLicenceId(id)).toBe(true);
  });

  it.each([
    ['1.2.156.3005.1.11100000000013338W011.11430000006122244L.20230000403.001.U', 'prefix'],
    ['11100000000013338W011.11430000006122244L.20230000403.001.U', 'prefix'],
    ['1.2.156.3005.2', 'shape'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.U', 'shape'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U.X', 'shape'],
    ['1.2.156.3005.2.11100000000013338W01.11430000006122244L.20230000403.001.U', 'licenceType'],
    ['1.2.156.3005.2.11100000000013338WABC.11430000006122244L.20230000403.001.U', 'licenceType'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244M.20230000403.001.U', 'issuer'],
    ['1.2.156.3005.2.11100000000013338W011.1143000000612224.20230000403.001.U', 'issuer'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.2023000040a.001.U', 'serial'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L..001.U', 'serial'],
    [`1.2.156.3005.2.11100000000013338W011.11430000006122244L.${'1'.repeat(65)}.001.U`, 'serial'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.01.U', 'version'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.V', 'checkCharacter'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.u', 'checkCharacter'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.', 'checkCharacter'],
    ['1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000304.001.U', 'checkCharacter'], // transposed serial digits
  ])('When the identifier is %s, then the problem is %s', (value, problem) => {
    expect(parseLicenceId(value)).toEqual({ ok: false, problem });
    expect(isValidLicenceId(value)).toBe(false);
    expect(LICENCE_ID_MESSAGES[problem as keyof typeof LICENCE_ID_MESSAGES]).toBeTruthy();
  });

  it('When parts are wrong, then formatting throws naming the part', () => {
    const good = { licenceType: '11100000000013338W011', issuer: '11430000006122244L', serial: '20230000403', version: 1 };
    const problemOf = (input: Parameters<typeof formatLicenceId>[0]) => {
      try {
        formatLicenceId(input);
        return null;
      } catch (err) {
        expect(err).toBeInstanceOf(LicenceIdError);
        return (err as LicenceIdError).problem;
      }
    };
    expect(problemOf(good)).toBeNull();
    expect(problemOf({ ...good, licenceType: '11100000000013338W' })).toBe('licenceType');
    expect(problemOf({ ...good, issuer: '11430000006122244X' })).toBe('issuer');
    expect(problemOf({ ...good, serial: 'abc' })).toBe('serial');
    expect(problemOf({ ...good, version: 1000 })).toBe('version');
    expect(problemOf({ ...good, version: 1.5 })).toBe('version');
    expect(problemOf({ ...good, version: '1' })).toBe('version');
  });
});
