// Ids derived from names: the same name always gives the same UUID (SHA-256 of the name, in the
// layout of a name-based UUID: version 5, RFC 4122 variant), so a retried request derives the id
// its first attempt used. The name says what the id is for and carries a purpose prefix where two
// kinds of id could otherwise meet.
import { createHash } from 'node:crypto';

export function nameBasedUuid(name: string): string {
  const b = createHash('sha256').update(name, 'utf8').digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
