// What the hostile-input tests share (issue 10, "Hostile input"): the invariant every answer
// keeps, and fast-check generators of hostile values, bodies and path segments.
import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { PROBLEM_JSON } from '../../api/helpers.js';

// ---- the invariant every answer keeps ----------------------------------------------------------

export function expectWellFormed(res: LightMyRequestResponse, what: string): void {
  const where = `${what} → ${res.statusCode} ${res.body.slice(0, 500)}`;
  expect(res.statusCode, where).toBeLessThan(500);
  if (res.statusCode < 400) return;
  expect(res.headers['content-type'], where).toMatch(PROBLEM_JSON);
  const body = res.json<{ status?: unknown; title?: unknown; errors?: unknown }>();
  expect(body.status, where).toBe(res.statusCode);
  expect(typeof body.title === 'string' && body.title.length > 0, where).toBe(true);
  if (res.statusCode === 400) {
    expect(Array.isArray(body.errors), where).toBe(true);
    const errors = body.errors as unknown[];
    expect(errors.length, where).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e, where).toEqual(expect.objectContaining({ path: expect.any(String), message: expect.any(String) }));
    }
  }
}

// ---- generators --------------------------------------------------------------------------------

const CONTROL = ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff', '\ud800'];
export const controlString = fc.string({ unit: fc.oneof(fc.constantFrom(...CONTROL), fc.constantFrom('a', '张', '0', ' ', '-', '%', '/', '?', '#', '.', '\\')), maxLength: 40 });
const longString = fc.integer({ min: 1_000, max: 200_000 }).map((n) => 'x'.repeat(n));
export const nastyString = fc.oneof(fc.string({ unit: 'binary', maxLength: 60 }), controlString, longString, fc.constantFrom('', ' ', 'null', 'undefined', '__proto__', 'constructor', '0', '-1', '1e999', 'NaN'));
export const malformedUuid = fc.oneof(
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid().map((u) => u.replace(/-/g, '')),
  fc.uuid().map((u) => `${u}x`),
  fc.uuid().map((u) => u.slice(0, 35)),
  fc.uuid().map((u) => `{${u}}`),
  nastyString,
);
/** Any JSON value, with hostile strings and unknown keys mixed in. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  fc.dictionary(fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'reason', 'licenceId', 'document', 'type', 'eventId', 'caseId')), fc.oneof(fc.jsonValue(), nastyString), { maxKeys: 6 }),
  nastyString,
  fc.array(fc.jsonValue(), { maxLength: 5 }),
);
export const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/octet-stream', 'application/problem+json', 'application/json; charset=latin1', '*/*', ';;;'];
/** A request body as raw bytes with a content type (or none). */
export const rawBody = fc.record({
  payload: fc.oneof(anyJson.map((v) => JSON.stringify(v) ?? ''), nastyString, fc.constantFrom('{', '[1,', '{"a":}', '\u0000', '{"reason": "ok"', '"', 'true false')),
  contentType: fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined }),
});
/** Percent-encodes every byte but the unreserved ones (a lone surrogate goes as U+FFFD's bytes). */
export function encodeSegment(s: string): string {
  return [...Buffer.from(s, 'utf8')].map((b) => (/[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
}

/** A path segment with odd characters: URL-encoded, or raw percent sequences that do not decode. */
export const oddSegment = fc.oneof(
  nastyString.filter((s) => s.length < 2_000).map(encodeSegment),
  fc.constantFrom('%', '%zz', '%E0%A4%A', '%00', '%2F', '..', '%2e%2e', '%C0%AF', '%FF%FE', 'a%0Ab', '%uD800', ';x=1', '%20', '~'),
);
