// The remote payload codec: staff who may see a case can decrypt its Temporal payloads; nobody
// else can (other regions, other roles, payloads of other cases), and every use is audited with
// the workflow ids it decoded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPayloadConverter } from '@temporalio/common';
import { EncryptionCodec } from '../../crypto/payloadCodec.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
let caseId: string;
beforeAll(async () => {
  h = await createApiHarness();
  // Guangzhou took the case in for Sichuan.
  caseId = await insertProjectedCase(h, { item: testItem('codec-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date() });
});
afterAll(async () => {
  await h?.close();
});

const ID = '11010519491231002X';
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
type WirePayload = { metadata: Record<string, string>; data: string };

async function payloadOf(workflowId: string | null, value: unknown = { applicant: { idNumber: ID } }): Promise<WirePayload> {
  const context = workflowId ? { type: 'workflow' as const, namespace: 'default', workflowId } : undefined;
  const [p] = await new EncryptionCodec(h.secrets.payloadKeys).encode([defaultPayloadConverter.toPayload(value)], context);
  return { metadata: Object.fromEntries(Object.entries(p!.metadata!).map(([k, v]) => [k, b64(v)])), data: b64(p!.data!) };
}

const decode = async (auth: Record<string, string>, payloads: WirePayload[]) =>
  h.app.inject({ method: 'POST', url: '/v1/codec/decode', headers: { ...auth, 'x-namespace': 'default' }, payload: { payloads } });
const clearValue = (p: WirePayload) => JSON.parse(Buffer.from(p.data, 'base64').toString());

describe('payload codec endpoint', () => {
  it('When a supervisor of the receiving province decodes a payload of the case, then the clear payload comes back and the decode is audited with the workflow id', async () => {
    const auth = await h.auth('supervisor', '440000', 'codec-supervisor');
    const res = await decode(auth, [await payloadOf(caseWorkflowId(caseId))]);
    expect(res.statusCode).toBe(200);
    const [clear] = res.json<{ payloads: WirePayload[] }>().payloads;
    expect(Buffer.from(clear!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    expect(clearValue(clear!)).toEqual({ applicant: { idNumber: ID } });
    const audit = await h.pool.query(`SELECT action, case_id, detail FROM audit_log WHERE actor = 'codec-supervisor' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows[0]).toMatchObject({ action: 'payload.decode', case_id: caseId, detail: { namespace: 'default', payloads: 1, workflowIds: [caseWorkflowId(caseId)], refusedWorkflowIds: [] } });
  });

  it('When an approver of the handling province decodes, then it may (either side)', async () => {
    const res = await decode(await h.auth('approver', '510000'), [await payloadOf(caseWorkflowId(caseId))]);
    expect(clearValue(res.json<{ payloads: WirePayload[] }>().payloads[0]!)).toEqual({ applicant: { idNumber: ID } });
  });

  it('When a supervisor of an unrelated region decodes the case’s payloads, then they come back still encrypted and the refusal is audited', async () => {
    const payload = await payloadOf(caseWorkflowId(caseId));
    const res = await decode(await h.auth('supervisor', '330000', 'codec-outsider'), [payload]);
    expect(res.statusCode).toBe(200);
    const [back] = res.json<{ payloads: WirePayload[] }>().payloads;
    expect(back).toEqual(payload);
    expect(Buffer.from(back!.data, 'base64').toString('latin1')).not.toContain(ID);
    const audit = await h.pool.query(`SELECT detail FROM audit_log WHERE actor = 'codec-outsider' ORDER BY id DESC LIMIT 1`);
    expect(audit.rows[0].detail).toMatchObject({ workflowIds: [], refusedWorkflowIds: [caseWorkflowId(caseId)] });
  });

  it('When a payload is relabelled with a workflow the caller may see, then it does not open (the workflow id is authenticated)', async () => {
    const other = await insertProjectedCase(h, { item: testItem('codec-item'), receivingRegion: '330100', handlingRegion: '430000', submittedAt: new Date() });
    const foreign = await payloadOf(caseWorkflowId(other));
    const relabelled = { ...foreign, metadata: { ...foreign.metadata, 'encryption-workflow-id': b64(Buffer.from(caseWorkflowId(caseId))) } };
    const res = await decode(await h.auth('supervisor', '440000'), [relabelled]);
    expect(res.statusCode).toBe(422);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
  });

  it('When a payload is not bound to any case, then nobody decodes it through the endpoint', async () => {
    const unbound = await payloadOf(null);
    const res = await decode(await h.auth('supervisor', '440000'), [unbound]);
    expect(res.json<{ payloads: WirePayload[] }>().payloads[0]).toEqual(unbound);
  });

  it('When staff ask the endpoint to encrypt payloads, then it refuses: data enters a case only through the API', async () => {
    const auth = await h.auth('approver', '510000');
    const clear = { metadata: { encoding: b64(Buffer.from('json/plain')) }, data: b64(Buffer.from(JSON.stringify({ eventId: 'x', type: 'case.approved' }))) };
    const enc = await h.app.inject({ method: 'POST', url: '/v1/codec/encode', headers: auth, payload: { payloads: [clear] } });
    expect(enc.statusCode).toBe(403);
    expect(enc.headers['content-type']).toMatch(PROBLEM_JSON);
    const empty = await h.app.inject({ method: 'POST', url: '/v1/codec/encode', headers: auth, payload: { payloads: [] } });
    expect(empty.json()).toEqual({ payloads: [] });
  });

  it('When there is no token or the role is a clerk, then nothing is decoded', async () => {
    const payloads = [await payloadOf(caseWorkflowId(caseId))];
    const anonymous = await h.app.inject({ method: 'POST', url: '/v1/codec/decode', payload: { payloads } });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['content-type']).toMatch(PROBLEM_JSON);
    const clerk = await decode(await h.auth('clerk', '440100'), payloads);
    expect(clerk.statusCode).toBe(403);
  });

  it('When the ciphertext was tampered with, then it answers 422 instead of returning data', async () => {
    const p = await payloadOf(caseWorkflowId(caseId));
    const data = Buffer.from(p.data, 'base64');
    data[15] = data[15]! ^ 0xff;
    const res = await decode(await h.auth('supervisor', '440000'), [{ ...p, data: b64(data) }]);
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
