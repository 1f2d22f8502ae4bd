// An electronic result end to end on the real stack: the simulated handling province approves an
// electronic case and issues a licence signed by its issuing authority; the workflow passes it
// into `delivery.issued`; the projection records it; the public POST /v1/verify finds it genuine by
// identifier and by the document downloaded from the province, and refuses the document with one
// byte changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { licenceSchema } from '../../contracts/province.js';
import { sm2Verify, sm3Hex } from '../../crypto/sm.js';
import { parseLicenceId } from '../../domain/elicenceId.js';
import { submitCase } from '../../harness/cases.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.stop();
});

const verify = async (body: unknown) => {
  const res = await fetch(`${stack.apiUrl}/v1/verify`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

describe('an electronic licence, issued and verified', () => {
  it('When the province approves an electronic case, then its licence verifies by identifier and by document, and a document with one byte changed does not', async () => {
    const clerk = await stack.token('clerk', '440100');
    const submitted = await submitCase(stack.apiUrl, clerk, { applicantName: '电子证照', delivery: { method: 'electronic' } });
    expect(submitted.status).toBe(201);
    const { caseId } = submitted.body;
    const handle = stack.client.workflow.getHandle(caseWorkflowId(caseId));
    const final = await eventually(() => handle.query(getStateQuery), (s) => s.status === 'completed', 30_000, 'the case to complete');

    // The certificate the workflow passed into the case and its delivery.issued event carries a valid licence.
    const certificate = final.delivery.certificate!;
    const licence = licenceSchema.parse(certificate.licence);
    expect(parseLicenceId(licence.licenceId)).toMatchObject({ ok: true, id: { issuer: licence.issuerCode, version: '001' } });
    const { rows } = await stack.pool.query<{ data: { certificate: typeof certificate } }>(`SELECT data FROM case_events WHERE case_id = $1 AND type = 'delivery.issued'`, [caseId]);
    expect(rows[0]!.data.certificate.licence).toEqual(certificate.licence);
    const publicKey = stack.simulator.licencePublicKey('510000');
    expect(stack.secrets.provinces.find((p) => p.code === '510000')!.licencePublicKey).toBe(publicKey);
    expect(sm2Verify(publicKey, Buffer.from(licence.documentSm3, 'hex'), licence.signature)).toBe(true);

    // By identifier: genuine, with the issuer and the dates.
    const byId = await eventually(() => verify({ licenceId: licence.licenceId }), (r) => r.body.genuine === true, 10_000, 'the licence to be recorded');
    expect(byId.status).toBe(200);
    expect(byId.body).toEqual({
      genuine: true,
      licenceId: licence.licenceId,
      licenceType: licence.licenceType,
      issuer: { name: certificate.issuer, code: licence.issuerCode, province: '510000' },
      issuedAt: new Date(certificate.issuedAt).toISOString(),
      signedAt: new Date(licence.signedAt).toISOString(),
    });

    // The document as the applicant would get it from the province.
    const download = await fetch(`${stack.simulator.url}/_admin/provinces/510000/elicences/${licence.licenceId}/document`);
    expect(download.status).toBe(200);
    const document = Buffer.from(await download.arrayBuffer());
    expect(sm3Hex(document)).toBe(licence.documentSm3);
    expect(JSON.parse(document.toString('utf8'))).toMatchObject({ licenceId: licence.licenceId, caseId, holder: { name: '电***' } });
    const byDocument = await verify({ document: document.toString('base64') });
    expect(byDocument).toEqual({ status: 200, body: byId.body });

    // One byte changed: not genuine.
    const tampered = Buffer.from(document);
    const at = tampered.indexOf('"issuedAt"') + 14;
    tampered.writeUInt8(tampered.readUInt8(at) ^ 0x01, at);
    const refused = await verify({ document: tampered.toString('base64') });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ genuine: false, code: 'unknown-document', reason: expect.any(String) });
  });
});
