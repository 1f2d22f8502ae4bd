// Material uploads: the bytes go to the content-addressed store, a `files` row records who
// uploaded what. The declared type must be an allowed material type and must match the file's
// magic bytes, checked before a single byte is written.
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import type pg from 'pg';
import { MATERIAL_CONTENT_TYPES } from '../domain/items.js';
import { MaterialTooLargeError, type MaterialsStore } from '../materials/store.js';
import type { StaffClaims } from './auth.js';
import { problem } from './problem.js';

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

/**
 * Passes the bytes through once the head matches the declared type (or, when the client sent
 * none, once it shows one of the accepted types); throws 400/415 before anything is stored.
 */
async function* sniffed(source: AsyncIterable<Buffer>, declared: MaterialContentType | null, detected: (t: MaterialContentType) => void): AsyncGenerator<Buffer> {
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
    throw e instanceof MaterialTooLargeError ? tooLarge(deps.maxBytes) : e;
  });
  if (part.file.truncated) throw tooLarge(deps.maxBytes);

  const fileId = randomUUID();
  await deps.pool.query(
    `INSERT INTO files (file_id, sha256, size, content_type, file_name, uploaded_by, uploaded_region) VALUES ($1,$2,$3,$4,$5,$6,$7)`,
    [fileId, stored.sha256, stored.size, contentType, part.filename || null, uploader.sub, uploader.region],
  );
  return { fileId, sha256: stored.sha256, size: stored.size, contentType };
}

function tooLarge(maxBytes: number) {
  return problem(413, `the file exceeds the limit of ${maxBytes} bytes`);
}
