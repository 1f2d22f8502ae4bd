// The query code on an applicant's receipt (回执): what the applicant types, with the case number, to
// look up the case's progress without logging in (GET /v1/progress/:caseId?code=…).
//
// Derived, not stored: HMAC-SHA256 under the deployment's lookup-hash key of a label and the case
// id, cut to 10 characters of Crockford's base32 (no I, L, O, U: nothing to misread on paper). So
// every retry of an intake prints the same code, a reprinted receipt shows it again, and nothing in
// the database or in Temporal holds it. 50 bits: with the public routes' rate limit, guessing one
// case's code is out of reach. Comparison is constant-time.
import { createHmac, timingSafeEqual } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const QUERY_CODE_LENGTH = 10;
const LABEL = 'tongban receipt query code v1';

export function queryCodeFor(hashKey: string, caseId: string): string {
  const mac = createHmac('sha256', hashKey).update(`${LABEL}\n${caseId}`, 'utf8').digest();
  let code = '';
  // 5 bits per character from the leading bytes.
  let bits = 0;
  let value = 0;
  for (const byte of mac) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && code.length < QUERY_CODE_LENGTH) {
      code += ALPHABET[(value >> (bits - 5)) & 31];
      bits -= 5;
    }
    if (code.length === QUERY_CODE_LENGTH) break;
    value &= (1 << bits) - 1;
  }
  return code;
}

/** What an applicant typed, read leniently: case, spaces and hyphens ignored; O read as 0, I and L as 1. */
export function normaliseQueryCode(typed: string): string {
  return typed
    .toUpperCase()
    .replace(/[\s-]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
}

export function queryCodeMatches(hashKey: string, caseId: string, typed: string): boolean {
  const expected = Buffer.from(queryCodeFor(hashKey, caseId));
  const given = Buffer.from(normaliseQueryCode(typed));
  return given.length === expected.length && timingSafeEqual(given, expected);
}
