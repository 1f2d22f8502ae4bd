// POST /v1/files: accepted material types only, content sniffed, size limited, recorded with uploader.
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, minimalOfd, multipartBody, PROBLEM_JSON, SAMPLE_BYTES, upload, zipOf, type ApiHarness } from './helpers.js';

const MAX_BYTES = 4096;

let h: ApiHarness;
let clerk: { authorization: string };
beforeAll(async () => {
  h = await createApiHarness({ env: { UPLOAD_MAX_BYTES: String(MAX_BYTES) } });
  clerk = await h.auth('clerk', '440106', 'clerk-files');
});
afterAll(async () => {
  await h?.close();
});

describe('POST /v1/files', () => {
  it.each(Object.entries(SAMPLE_BYTES))('When a %s file is uploaded, then it answers 201 with its sha256 and size and records the uploader', async (contentType, bytes) => {
    const res = await upload(h, clerk, { bytes, contentType, filename: 'scan' });
    expect(res.statusCode).toBe(201);
    const body = res.json<{ fileId: string; sha256: string; size: number; contentType: string }>();
    expect(body).toEqual({ fileId: expect.any(String), sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length, contentType });
    const { rows } = await h.pool.query(`SELECT sha256, size, content_type, uploaded_by, uploaded_region FROM files WHERE file_id = $1`, [body.fileId]);
    expect(rows[0]).toEqual({ sha256: body.sha256, size: String(bytes.length), content_type: contentType, uploaded_by: 'clerk-files', uploaded_region: '440106' });
  });

  it('When a file of exactly the limit is uploaded, then it is accepted', async () => {
    const bytes = Buffer.concat([SAMPLE_BYTES['application/pdf'], randomBytes(MAX_BYTES - SAMPLE_BYTES['application/pdf'].length)]);
    const res = await upload(h, clerk, { bytes, contentType: 'application/pdf' });
    expect(res.statusCode).toBe(201);
    expect(res.json<{ size: number }>().size).toBe(MAX_BYTES);
  });

  it('When the file is empty, then it answers 400', async () => {
    const res = await upload(h, clerk, { bytes: Buffer.alloc(0), contentType: 'application/pdf' });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<{ errors: unknown[] }>().errors).toEqual([{ path: 'file', message: 'is empty' }]);
  });

  it('When the declared type is not a material type, then it answers 415', async () => {
    const res = await upload(h, clerk, { bytes: Buffer.from('hello'), contentType: 'text/plain' });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When the client declares no type (application/octet-stream), then the type is taken from the content', async () => {
    const res = await upload(h, clerk, { bytes: SAMPLE_BYTES['image/png'], contentType: 'application/octet-stream' });
    expect(res.statusCode).toBe(201);
    expect(res.json<{ contentType: string }>().contentType).toBe('image/png');
    const unknown = await upload(h, clerk, { bytes: Buffer.from('just some text, not a scan'), contentType: 'application/octet-stream' });
    expect(unknown.statusCode).toBe(415);
    expect(unknown.json<{ detail: string }>().detail).toContain('none of the accepted material types');
  });

  it('When the content does not match the declared type, then it answers 415', async () => {
    const res = await upload(h, clerk, { bytes: SAMPLE_BYTES['image/png'], contentType: 'application/pdf' });
    expect(res.statusCode).toBe(415);
    expect(res.json<{ detail: string }>().detail).toContain('application/pdf');
  });

  it('When a tiny file is shorter than its type’s signature, then it answers 415', async () => {
    const res = await upload(h, clerk, { bytes: Buffer.from('%P'), contentType: 'application/pdf' });
    expect(res.statusCode).toBe(415);
  });

  it('When the file exceeds UPLOAD_MAX_BYTES, then it answers 413 and nothing is recorded', async () => {
    const before = await h.pool.query(`SELECT count(*)::int AS n FROM files`);
    const bytes = Buffer.concat([SAMPLE_BYTES['application/pdf'], randomBytes(MAX_BYTES)]);
    const res = await upload(h, clerk, { bytes, contentType: 'application/pdf' });
    expect(res.statusCode).toBe(413);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    const after = await h.pool.query(`SELECT count(*)::int AS n FROM files`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('When a plain ZIP (no OFD.xml at its root) is uploaded as OFD, then it answers 415 on file and nothing is recorded', async () => {
    const before = await h.pool.query(`SELECT count(*)::int AS n FROM files`);
    for (const bytes of [zipOf({ 'readme.txt': 'not a document' }), zipOf({ 'Doc_0/OFD.xml': '<x/>' })]) {
      const res = await upload(h, clerk, { bytes, contentType: 'application/ofd', filename: 'fake.ofd' });
      expect(res.statusCode).toBe(415);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(res.json<{ errors: { path: string; message: string }[] }>().errors).toEqual([{ path: 'file', message: 'is a ZIP package without OFD.xml at its root, not an OFD document' }]);
    }
    const after = await h.pool.query(`SELECT count(*)::int AS n FROM files`);
    expect(after.rows[0].n).toBe(before.rows[0].n);
  });

  it('When ZIP magic bytes are followed by junk, then the OFD upload answers 415 on file', async () => {
    const res = await upload(h, clerk, { bytes: Buffer.concat([Buffer.from([0x50, 0x4b, 0x03, 0x04]), randomBytes(64)]), contentType: 'application/ofd' });
    expect(res.statusCode).toBe(415);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['file']);
  });

  it('When a minimal OFD package is uploaded undeclared, then it is recognised and accepted', async () => {
    const res = await upload(h, clerk, { bytes: minimalOfd(), contentType: 'application/octet-stream' });
    expect(res.statusCode).toBe(201);
    expect(res.json<{ contentType: string }>().contentType).toBe('application/ofd');
  });

  it('When the request is not multipart, then it answers 415', async () => {
    const res = await h.app.inject({ method: 'POST', url: '/v1/files', headers: clerk, payload: { file: 'x' } });
    expect(res.statusCode).toBe(415);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a multipart request has no file part, then it answers 400', async () => {
    const boundary = 'tongbanboundary';
    const payload = `--${boundary}\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--${boundary}--\r\n`;
    const res = await h.app.inject({ method: 'POST', url: '/v1/files', headers: { ...clerk, 'content-type': `multipart/form-data; boundary=${boundary}` }, payload });
    expect(res.statusCode).toBe(400);
  });

  it('When the same bytes are uploaded twice, then both uploads get their own file id and the same hash', async () => {
    const { payload, headers } = multipartBody({ bytes: SAMPLE_BYTES['image/jpeg'], contentType: 'image/jpeg' });
    const a = await h.app.inject({ method: 'POST', url: '/v1/files', headers: { ...headers, ...clerk }, payload });
    const b = await h.app.inject({ method: 'POST', url: '/v1/files', headers: { ...headers, ...clerk }, payload });
    expect(a.json<{ fileId: string }>().fileId).not.toBe(b.json<{ fileId: string }>().fileId);
    expect(a.json<{ sha256: string }>().sha256).toBe(b.json<{ sha256: string }>().sha256);
  });
});
