// AES-256-GCM with a key id, so keys can rotate: new data is sealed with the active key, and
// anything sealed with an older key still opens while that key stays in the keyring.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Keyring } from '../config/secrets.js';

const IV_BYTES = 12;
const TAG_BYTES = 16;

export interface Sealed {
  keyId: string;
  /** iv ‖ ciphertext ‖ tag */
  data: Buffer;
}

/** `aad`: authenticated data the ciphertext is bound to (it must be given again to open it). */
export function seal(keyring: Keyring, plaintext: Uint8Array, aad?: Uint8Array): Sealed {
  const key = keyring.keys.get(keyring.activeKeyId);
  if (!key) throw new Error(`active key ${keyring.activeKeyId} is not in the keyring`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (aad) cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { keyId: keyring.activeKeyId, data: Buffer.concat([iv, body, cipher.getAuthTag()]) };
}

export function open(keyring: Keyring, sealed: Sealed, aad?: Uint8Array): Buffer {
  const key = keyring.keys.get(sealed.keyId);
  if (!key) throw new Error(`unknown encryption key id ${sealed.keyId}`);
  const iv = sealed.data.subarray(0, IV_BYTES);
  const tag = sealed.data.subarray(sealed.data.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(tag);
  if (aad) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(sealed.data.subarray(IV_BYTES, sealed.data.length - TAG_BYTES)), decipher.final()]);
}

/** A sealed string as text, for a database column: `<keyId>:<base64>`. */
export function sealText(keyring: Keyring, text: string): string {
  const s = seal(keyring, Buffer.from(text, 'utf8'));
  return `${s.keyId}:${s.data.toString('base64')}`;
}

export function openText(keyring: Keyring, sealedText: string): string {
  const i = sealedText.indexOf(':');
  if (i < 1) throw new Error('not a sealed value');
  return open(keyring, { keyId: sealedText.slice(0, i), data: Buffer.from(sealedText.slice(i + 1), 'base64') }).toString('utf8');
}
