// Personal data at rest: a keyed hash for lookup (HMAC-SHA256, so a leaked table cannot be
// reversed by hashing every possible identity number) and AES-GCM ciphertext for display to
// authorised staff. Masked forms are what responses show.
import { createHmac } from 'node:crypto';

export function lookupHash(hashKey: string, value: string): string {
  return createHmac('sha256', hashKey).update(value.trim().toUpperCase()).digest('hex');
}

const ID_NUMBER_PATTERN = /\b(\d{6})(\d{8})(\d{3}[\dXx])\b/g;

/** Redacts anything shaped like an identity number from free text (log lines, error messages). */
export function redactIdNumbers(text: string): string {
  return text.replace(ID_NUMBER_PATTERN, (_m, a: string) => `${a.slice(0, 3)}[REDACTED]`);
}
