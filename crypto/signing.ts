// Request signatures of the province gateway protocol (docs/province-protocol.md), both
// directions: HMAC-SHA256 over the canonical string that contracts/province.ts builds
// (`signedString`), so the gateway, the simulator and the callback route sign the same bytes.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { MAX_CLOCK_SKEW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER, signedString } from '../contracts/province.js';

export { MAX_CLOCK_SKEW_SECONDS, SIGNATURE_HEADER, TIMESTAMP_HEADER };

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function signatureOf(secret: string, timestamp: string, method: string, path: string, body: string | Uint8Array): string {
  return `v1=${createHmac('sha256', secret).update(signedString(timestamp, method, path, sha256Hex(body))).digest('hex')}`;
}

/** Headers to add to a request: `path` includes the query string; `body` is the exact bytes sent. */
export function signRequest(secret: string, method: string, path: string, body: string | Uint8Array = '', now = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(now / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signatureOf(secret, timestamp, method, path, body) };
}

export type SignatureProblem = 'missing' | 'stale' | 'mismatch';

/** null when the request is authentic and fresh. */
export function verifyRequest(
  secret: string,
  req: { method: string; path: string; body: string | Uint8Array; timestamp: string | undefined; signature: string | undefined },
  now = Date.now(),
): SignatureProblem | null {
  if (!req.timestamp || !req.signature) return 'missing';
  const ts = Number(req.timestamp);
  if (!Number.isInteger(ts) || Math.abs(now / 1000 - ts) > MAX_CLOCK_SKEW_SECONDS) return 'stale';
  const expected = Buffer.from(signatureOf(secret, req.timestamp, req.method, req.path, req.body));
  const given = Buffer.from(req.signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? null : 'mismatch';
}
