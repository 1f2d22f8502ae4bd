// Material uploads: the bytes go to the content-addressed store, a `files` row records who
// uploaded what. The declared type must be an allowed material type and must match the file's
// magic bytes, checked before a single byte is written. An OFD must also be an OFD package (a ZIP
// whose central directory has OFD.xml at its root, GB/T 33190), checked from the stream's tail
// before the store keeps the file.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { insertFile } from '../db/files.js';
import { MATERIAL_CONTENT_TYPES } from '../domain/items.js';
import { MaterialTooLargeError, type MaterialsStore } from '../materials/store.js';
import type { StaffClaims } from './auth.js';
import { AppError, problem } from './problem.js';

export type MaterialContentType = (typeof MATERIAL_CONTENT_TYPES)[number];

const SIGNATURES: Record<MaterialContentType, Buffer> = {
  'application/pdf': Buffer.from('%PDF-', 'latin1'),
  'image/png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  'image/jpeg': Buffer.from([0xff, 0xd8, 0xff]),
  // OFD (GB/T 33190) is a zip container.
  'application/ofd': Buffer.from([0x50, 0x4b, 0x03, 0x04]),
};
const SNIFF_BYTES = Math.max(...Object.values(SIGNATURES).map((s) => s.length));

export function isMaterialContentType(value: string): value is MaterialContentType {
  return (MATERIAL_CONTENT_TYPES as readonly string[]).includes(value);
}

export function matchesSignature(contentType: MaterialContentType, head: Buffer): boolean {
  const signature = SIGNATURES[contentType];
  return head.length >= signature.length && head.subarray(0, signature.length).equals(signature);
}

/** The material type whose magic bytes start `head`, if any. */
export function detectContentType(head: Buffer): MaterialContentType | null {
  return MATERIAL_CONTENT_TYPES.find((t) => matchesSignature(t, head)) ?? null;
}

/** How much of an OFD's end is kept to find its central directory (a package's is a few KB). */
export const OFD_TAIL_BYTES = 1024 * 1024;
const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_ENTRY_SIGNATURE = 0x02014b50;
const EOCD_MIN = 22;

/**
 * Whether a ZIP's central directory names OFD.xml at the root. `tail` is the last bytes of the
 * file and `fileSize` its whole size; the end-of-central-directory record (and the directory it
 * points to) must lie within the tail. Returns a reason when it is not an OFD package.
 */
export function ofdPackageProblem(tail: Buffer, fileSize: number): string | null {
  const tailStart = fileSize - tail.length;
  let eocd = -1;
  for (let i = tail.length - EOCD_MIN; i >= Math.max(0, tail.length - EOCD_MIN - 0xffff); i--) {
    if (tail.readUInt32LE(i) === EOCD_SIGNATURE && i + EOCD_MIN + tail.readUInt16LE(i + 20) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return 'is not a ZIP package (no end of central directory)';
  const entries = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || entries === 0xffff) return 'is a ZIP64 package, which OFD does not use';
  if (cdOffset + cdSize > tailStart + eocd || cdOffset < tailStart) return 'has a central directory that is not where its end record says';
  let p = cdOffset - tailStart;
  const end = p + cdSize;
  for (let n = 0; n < entries; n++) {
    if (p + 46 > end || tail.readUInt32LE(p) !== CENTRAL_ENTRY_SIGNATURE) return 'has a damaged central directory';
    const nameLength = tail.readUInt16LE(p + 28);
    const extraLength = tail.readUInt16LE(p + 30);
    const commentLength = tail.readUInt16LE(p + 32);
    if (p + 46 + nameLength > end) return 'has a damaged central directory';
    if (tail.toString('utf8', p + 46, p + 46 + nameLength) === 'OFD.xml') return null;
    p += 46 + nameLength + extraLength + commentLength;
  }
  return 'is a ZIP package without OFD.xml at its root, not an OFD document';
}

/**
 * Passes the bytes through once the head matches the declared type (or, when the client sent
 * none, once it shows one of the accepted types); throws 400/415 before anything is stored. For
 * OFD it keeps the last OFD_TAIL_BYTES and checks the package at the end of the stream, so the
 * store discards a refused file instead of keeping it.
 */
async function* sniffed(source: AsyncIterable<Buffer>, declared: MaterialContentType | null, detected: (t: MaterialContentType) => void): AsyncGenerator<Buffer> {
  let type: MaterialContentType | null = null;
  let size = 0;
  let tail: Buffer[] = [];
  let tailLength = 0;
  const keepTail = (chunk: Buffer) => {
    size += chunk.length;
    if (type !== 'application/ofd') return;
    tail.push(chunk);
    tailLength += chunk.length;
    if (tailLength > 2 * OFD_TAIL_BYTES) {
      const joined = Buffer.concat(tail);
      tail = [joined.subarray(joined.length - OFD_TAIL_BYTES)];
      tailLength = OFD_TAIL_BYTES;
    }
  };
  const checkPackage = () => {
    if (type !== 'application/ofd') return;
    const joined = Buffer.concat(tail);
    const problemText = ofdPackageProblem(joined.subarray(Math.max(0, joined.length - OFD_TAIL_BYTES)), size);
    if (problemText) throw problem(415, `the file ${problemText}`, { errors: [{ path: 'file', message: problemText }] });
  };
  for await (const chunk of sniffedHead(source, declared, (t) => {
    type = t;
    detected(t);
  })) {
    keepTail(chunk);
    yield chunk;
  }
  checkPackage();
}

async function* sniffedHead(source: AsyncIterable<Buffer>, declared: MaterialContentType | null, detected: (t: MaterialContentType) => void): AsyncGenerator<Buffer> {
  const check = (head: Buffer) => {
    const type = declared ? (matchesSignature(declared, head) ? declared : null) : detectContentType(head);
    if (!type) throw mismatch(declared);
    detected(type);
  };
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let checked = false;
  for await (const chunk of source) {
    if (checked) {
      yield chunk;
      continue;
    }
    pending.push(chunk);
    pendingLength += chunk.length;
    if (pendingLength < SNIFF_BYTES) continue;
    const head = Buffer.concat(pending);
    check(head);
    checked = true;
    pending = [];
    yield head;
  }
  if (checked) return;
  if (pendingLength === 0) throw problem(400, 'the file is empty', { errors: [{ path: 'file', message: 'is empty' }] });
  const head = Buffer.concat(pending);
  check(head);
  yield head;
}

function mismatch(declared: string | null) {
  return declared
    ? problem(415, `the file's content is not ${declared}`, { errors: [{ path: 'file', message: `content does not match ${declared}` }] })
    : problem(415, `the file is none of the accepted material types: ${MATERIAL_CONTENT_TYPES.join(', ')}`, {
        errors: [{ path: 'file', message: 'content is not an accepted material type' }],
      });
}

/** Clients that do not know the type (curl without `;type=`, some scanners) send one of these. */
const UNDECLARED_TYPES = new Set(['application/octet-stream', 'binary/octet-stream', '']);

export interface UploadPart {
  mimetype: string;
  filename: string;
  file: Readable & { truncated?: boolean };
}

export interface UploadedFile {
  fileId: string;
  sha256: string;
  size: number;
  contentType: MaterialContentType;
}

export async function uploadFile(
  deps: { pool: pg.Pool; store: MaterialsStore; maxBytes: number },
  part: UploadPart,
  uploader: StaffClaims,
): Promise<UploadedFile> {
  const declaredType = part.mimetype.toLowerCase();
  const declared = isMaterialContentType(declaredType) ? declaredType : null;
  if (!declared && !UNDECLARED_TYPES.has(declaredType)) {
    const contentType = declaredType;
    part.file.resume();
    throw problem(415, `${contentType} is not an accepted material type; accepted: ${MATERIAL_CONTENT_TYPES.join(', ')}`, {
      errors: [{ path: 'file', message: `content type ${contentType} is not accepted` }],
    });
  }
  let contentType: MaterialContentType = declared ?? 'application/pdf';
  const stored = await deps.store.put(sniffed(part.file, declared, (t) => (contentType = t)), { maxBytes: deps.maxBytes }).catch((e: unknown) => {
    part.file.resume();
    if (e instanceof MaterialTooLargeError) throw tooLarge(deps.maxBytes);
    // Our own refusals (the content is not the declared type) end the part's stream too: they stand.
    if (e instanceof AppError) throw e;
    // A body that ends inside the file part (no closing boundary) fails the part's own stream with
    // the parser's error, which has no system error code (a full disk or a missing folder does).
    if (part.file.errored && !(e as NodeJS.ErrnoException).code) throw malformedMultipart(part.file.errored);
    throw e;
  });
  if (part.file.truncated) throw tooLarge(deps.maxBytes);

  const fileId = randomUUID();
  await insertFile(deps.pool, {
    fileId, sha256: stored.sha256, size: stored.size, contentType, fileName: part.filename || null, uploadedBy: uploader.sub, uploadedRegion: uploader.region,
  });
  return { fileId, sha256: stored.sha256, size: stored.size, contentType };
}

/**
 * What the multipart parser threw, as the client's error it is: a 400 naming the body ("Unexpected
 * end of multipart data", a malformed part header). Its own limits and media-type errors already
 * carry their 4xx and pass through.
 */
export function malformedMultipart(e: unknown): unknown {
  if (e instanceof AppError) return e;
  const status = (e as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return e;
  const message = e instanceof Error ? e.message : String(e);
  return problem(400, `the multipart body does not parse: ${message}`, { errors: [{ path: 'body', message }] });
}

function tooLarge(maxBytes: number) {
  return problem(413, `the file exceeds the limit of ${maxBytes} bytes`);
}
