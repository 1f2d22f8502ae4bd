// The remote payload codec: authorised staff can decrypt Temporal payloads; everyone else cannot,
// and every use is audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../../crypto/payloadCodec.js';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

const ID = '11010519491231002X';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

async function encryptedPayload() {
  const [p] = await new EncryptionCodec(h.secrets.payloadKeys).encode([defaultPayloadConverter.toPayload({ applicant: { idNumber: ID } })]);
  return { metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(p!.data!) };
}

describe('payload codec endpoint', () => {
  it('When a supervisor decodes a payload from a history, then the clear payload comes back and the decode is audited', async () => {
    const auth = await h.auth('supervisor', '440000', 'codec-supervisor');
    const res = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', headers: { ...auth, 'x-namespace': 'default' }, payload: { payloads: [await encryptedPayload()] } });
    expect(res.statusCode).toBe(200);
    const [clear] = res.json<{ payloads: { metadata: Record<string, string>; data: string }[] }>().payloads;
    expect(Buffer.from(clear!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(clear!.data, 'base64').toString())).toEqual({ applicant: { idNumber: ID } });
    const audit = await h.pool.query(`SELECT action, detail FROM audit_log WHERE actor = 'codec-supervisor' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows[0]).toMatchObject({ action: 'payload.decode', detail: { namespace: 'default', payloads: 1 } });
  });

  it('When a payload is encoded and decoded again, then it round-trips and the encoded form hides the data', async () => {
    const auth = await h.auth('approver', '510000');
    const clear = { metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from(JSON.stringify({ idNumber: ID }))) };
    const enc = await h.app.inject({ method: 'POST', url: '/v1/codec/encode', headers: auth, payload: { payloads: [clear] } });
    expect(enc.statusCode).toBe(200);
    const encoded = enc.json<{ payloads: { data: string }[] }>().payloads;
    expect(Buffer.from(encoded[0]!.data, 'base64').toString('latin1')).not.toContain(ID);
    const dec = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', headers: auth, payload: { payloads: encoded } });
    expect(dec.json<{ payloads: unknown[] }>().payloads).toEqual([clear]);
  });

  it('When there is no token or the role is a clerk, then nothing is decoded', async () => {
    const payload = { payloads: [await encryptedPayload()] };
    const anonymous = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', payload });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM_JSON);
    const clerk = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', headers: await h.auth('clerk', '440100'), payload });
    expect(clerk.statusCode).toBe(403);
  });

  it('When the ciphertext was tampered with, then it answers 422 instead of returning data', async () => {
    const p = await encryptedPayload();
    const data = Buffer.from(p.data, 'base64');
    data[15] = data[15]! ^ 0xff;
    const res = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', headers: await h.auth('supervisor', '440000'), payload: { payloads: [{ ...p, data: b64(data) }] } });
    expect(res.statusCode).toBe(422);
  });

  it('When the Temporal Web UI sends a preflight, then its origin is allowed and others are not', async () => {
    const ui = await h.app.inject({ method: 'OPTIONS', url: '/v1/codec/decode', headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' } });
    expect(ui.statusCode).toBe(204);
    expect(ui.headers['access-control-allow-origin']).toBe('http://localhost:8233');
    expect(ui.headers['access-control-allow-headers']).toContain('authorization');
    const other = await h.app.inject({ method: 'OPTIONS', url: '/v1/codec/decode', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
