// The national commercial cryptography that government e-seals and electronic licences use:
// SM3 digests (GB/T 32905-2016) and SM2 signatures (GB/T 32918.2-2016) on the recommended curve
// (GB/T 32918.5-2017), so an issuing authority can sign a licence's document hash and anyone
// holding its public key can check it.
//
// Why not only node:crypto: SM3 comes from the platform (OpenSSL 3.0 has it), but Node 20 cannot
// make GB/T 32918 signatures. A key from generateKeyPairSync('ec', { namedCurve: 'SM2' }) is a
// plain EC key, so crypto.sign does ECDSA over the SM2 curve; the same key re-imported from PEM
// becomes OpenSSL's SM2 type, and crypto.sign then hashes ZA with an empty identifier, because
// Node has no way to pass the distinguishing identifier (the default, per GM/T 0009-2012, is
// "1234567812345678"); exporting such a key as SEC1 even aborts the process. So the signature
// arithmetic comes from sm-crypto-v2 (MIT, pinned; built on the audited @noble/curves), and this
// module adds what it leaves out: strict DER, range checks on r and s, key validation.
//
// Keys are hex, as the standards print them: the private key d as 64 hex digits in [1, n-2]; the
// public key as the uncompressed point 04 ‖ x ‖ y (130 hex digits). Hex rather than PEM so that no
// KeyObject with the platform's half-right SM2 behaviour is ever handed around.
// Signatures are the DER encoding of SM2Signature ::= SEQUENCE { r INTEGER, s INTEGER }
// (GM/T 0009-2012), as lowercase hex: the form OpenSSL, GmSSL, X.509/CMS and the e-seal formats
// (GM/T 0031) carry, so a signature made here can be checked by any of them. Verification accepts
// only canonical DER and 1 ≤ r, s ≤ n-1.
import { createHash } from 'node:crypto';
import { sm2 } from 'sm-crypto-v2';

/** The default user identifier of GM/T 0009-2012, used for ZA when none is agreed. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

/** The order n of the recommended curve's base point (GB/T 32918.5-2017). */
const N = BigInt('0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123');
/** ENTL is two bytes of bit length, so the identifier is at most 8191 bytes. */
const MAX_USER_ID_BYTES = 0xffff >> 3;

export type Sm2Problem = 'privateKey' | 'publicKey' | 'userId';

/** A key or identifier that is not usable: a configuration error, never an answer about a signature. */
export class Sm2Error extends Error {
  constructor(
    readonly problem: Sm2Problem,
    message: string,
  ) {
    super(message);
    this.name = 'Sm2Error';
  }
}

export interface Sm2KeyPair {
  /** d, 64 lowercase hex digits. */
  privateKey: string;
  /** 04 ‖ x ‖ y, 130 lowercase hex digits. */
  publicKey: string;
}

function bytesOf(data: Uint8Array | string): Uint8Array {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
}

/** SM3 digest (GB/T 32905-2016) as lowercase hex; a string is hashed as its UTF-8 bytes. */
export function sm3Hex(data: Uint8Array | string): string {
  return createHash('sm3').update(bytesOf(data)).digest('hex');
}

function privateScalar(privateKey: string): bigint {
  if (!/^[0-9a-fA-F]{64}$/.test(privateKey)) throw new Sm2Error('privateKey', 'an SM2 private key is 64 hex digits');
  const d = BigInt(`0x${privateKey}`);
  // GB/T 32918.1 §6.1: d ∈ [1, n-2], so that 1 + d has an inverse mod n.
  if (d < 1n || d > N - 2n) throw new Sm2Error('privateKey', 'the SM2 private key is outside [1, n-2]');
  return d;
}

function checkedPublicKey(publicKey: string): string {
  if (!/^04[0-9a-fA-F]{128}$/.test(publicKey)) {
    throw new Sm2Error('publicKey', 'an SM2 public key is the uncompressed point 04 ‖ x ‖ y in 130 hex digits');
  }
  let onCurve: boolean;
  try {
    onCurve = sm2.verifyPublicKey(publicKey);
  } catch {
    onCurve = false;
  }
  if (!onCurve) throw new Sm2Error('publicKey', 'the SM2 public key is not a point of the curve');
  return publicKey.toLowerCase();
}

/**
 * The public key in lower case, after the checks verification makes (shape, point on the curve);
 * Sm2Error otherwise. For configuration: a registered key is checked once, at start.
 */
export function checkSm2PublicKey(publicKey: string): string {
  return checkedPublicKey(publicKey);
}

function checkedUserId(userId: string): string {
  if (Buffer.byteLength(userId, 'utf8') > MAX_USER_ID_BYTES) {
    throw new Sm2Error('userId', `the SM2 user identifier is longer than ${MAX_USER_ID_BYTES} bytes`);
  }
  return userId;
}

/** A new key pair from the platform's CSPRNG (WebCrypto getRandomValues). */
export function generateSm2KeyPair(): Sm2KeyPair {
  for (;;) {
    const { privateKey, publicKey } = sm2.generateKeyPairHex();
    // The generator draws d from [1, n-1]; n-1 is not a valid SM2 key (about 2^-256 likely).
    if (BigInt(`0x${privateKey}`) <= N - 2n) return { privateKey: privateKey.toLowerCase(), publicKey: publicKey.toLowerCase() };
  }
}

/** P = [d]G for a private key, as 04 ‖ x ‖ y. */
export function sm2PublicKeyFromPrivate(privateKey: string): string {
  privateScalar(privateKey);
  return sm2.getPublicKeyFromPrivateKey(privateKey.toLowerCase()).toLowerCase();
}

/** ZA = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2-2016 §5.5), lowercase hex. */
export function sm2Za(publicKey: string, userId: string = SM2_DEFAULT_USER_ID): string {
  return Buffer.from(sm2.getZ(checkedPublicKey(publicKey), checkedUserId(userId))).toString('hex');
}

const hex32 = (v: bigint): string => v.toString(16).padStart(64, '0');

function derInteger(v: bigint): Buffer {
  let bytes = Buffer.from(hex32(v), 'hex');
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return Buffer.concat([Buffer.from([0x02, bytes.length]), bytes]);
}

function encodeSignature(r: bigint, s: bigint): string {
  const body = Buffer.concat([derInteger(r), derInteger(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]).toString('hex');
}

/** r and s from canonical DER, or null for anything else (BER variants, trailing bytes, out of range). */
function decodeSignature(signature: string): { r: bigint; s: bigint } | null {
  if (!/^(?:[0-9a-fA-F]{2})+$/.test(signature)) return null;
  const der = Buffer.from(signature, 'hex');
  // At most 2 + 2 × (2 + 33) = 72 bytes, so every length is in DER's short form.
  if (der.length < 8 || der.length > 72 || der[0] !== 0x30 || der[1] !== der.length - 2) return null;
  const ints: bigint[] = [];
  let at = 2;
  for (let k = 0; k < 2; k++) {
    if (der[at] !== 0x02) return null;
    const len = der[at + 1];
    if (len === undefined || len < 1 || len > 33 || at + 2 + len > der.length) return null;
    const v = der.subarray(at + 2, at + 2 + len);
    if (v[0]! & 0x80) return null; // negative
    if (len > 1 && v[0] === 0 && !(v[1]! & 0x80)) return null; // not minimal
    ints.push(BigInt(`0x${v.toString('hex')}`));
    at += 2 + len;
  }
  if (at !== der.length) return null;
  const [r, s] = ints as [bigint, bigint];
  // GB/T 32918.2-2016 §7.1 B1, B2: r', s' ∈ [1, n-1].
  if (r < 1n || r >= N || s < 1n || s >= N) return null;
  return { r, s };
}

/**
 * Signs SM3(ZA ‖ M) with a fresh random k (GB/T 32918.2-2016 §6.1); a string message is signed
 * as its UTF-8 bytes. Returns the DER-encoded signature as hex.
 */
export function sm2Sign(privateKey: string, message: Uint8Array | string, userId: string = SM2_DEFAULT_USER_ID): string {
  privateScalar(privateKey);
  const d = privateKey.toLowerCase();
  const rs = sm2.doSignature(bytesOf(message), d, {
    hash: true,
    publicKey: sm2.getPublicKeyFromPrivateKey(d),
    userId: checkedUserId(userId),
  });
  return encodeSignature(BigInt(`0x${rs.slice(0, 64)}`), BigInt(`0x${rs.slice(64)}`));
}

/**
 * true when `signature` (DER hex) is the signer's SM2 signature of `message` under `userId`.
 * A malformed or wrong signature is false; a malformed public key or identifier throws Sm2Error.
 */
export function sm2Verify(publicKey: string, message: Uint8Array | string, signature: string, userId: string = SM2_DEFAULT_USER_ID): boolean {
  const key = checkedPublicKey(publicKey);
  const id = checkedUserId(userId);
  const rs = decodeSignature(signature);
  if (!rs) return false;
  try {
    return sm2.doVerifySignature(bytesOf(message), hex32(rs.r) + hex32(rs.s), key, { hash: true, userId: id });
  } catch {
    return false;
  }
}
