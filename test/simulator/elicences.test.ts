// The simulated issuing authorities (simulator/elicences.ts): an electronic approval carries a
// licence whose identifier is valid (GB/T 36904), whose issuer is the province's credit code and
// whose SM2 signature of the document's SM3 digest verifies under the province's public key; the
// document is downloadable, rebuilt to the same bytes after a restart from the state file; keys
// given at start must be pairs.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { licenceSchema } from '../../contracts/province.js';
import { sha256Hex, signRequest } from '../../crypto/signing.js';
import { generateSm2KeyPair, sm2Verify, sm3Hex } from '../../crypto/sm.js';
import { formatLicenceId, isUnifiedSocialCreditCode, parseLicenceId } from '../../domain/elicenceId.js';
import { validIdNumber } from '../../harness/cases.js';
import { issuerCreditCode, SIMULATED_LICENCE_TYPE } from '../../simulator/elicences.js';
import { startSimulator, type CaseStatusBody, type Simulator } from '../../simulator/server.js';

const SC = '510000';
const SECRET = 'sichuan-elicence-test-secret';
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function start(stateFile: string, licenceKeys: Record<string, { privateKey: string; publicKey: string }>): Promise<Simulator> {
  // Callbacks go nowhere (port 9): the status poll shows the events.
  return startSimulator({ provinces: [{ code: SC, secret: SECRET }], reviewDelayMs: 20, stateFile, licenceKeys, callbackRetry: { initialBackoffMs: 60_000 } });
}

async function call<T>(sim: Simulator, method: string, p: string, json?: unknown, key?: string): Promise<{ status: number; body: T }> {
  const signedPath = `/provinces/${SC}${p}`;
  const body = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  const headers: Record<string, string> = { ...signRequest(SECRET, method, signedPath, body ?? '') };
  if (body) headers['content-type'] = 'application/json';
  if (key) headers['idempotency-key'] = key;
  const res = await fetch(`${sim.url}${signedPath}`, { method, headers, body });
  return { status: res.status, body: (await res.json()) as T };
}

async function approvedElectronicCase(sim: Simulator): Promise<{ caseId: string; certificate: Record<string, unknown> }> {
  const caseId = randomUUID();
  const created = await call<{ provinceCaseId: string }>(
    sim,
    'POST',
    '/cases',
    {
      caseId,
      itemCode: 'pension-transfer',
      itemVersion: 1,
      receivingRegion: '440100',
      handlingRegion: '510100',
      channel: 'window',
      applicant: { name: '王小明', idNumber: validIdNumber(), phone: '13800138000' },
      materials: [],
      delivery: { method: 'electronic' },
      callbackUrl: 'http://127.0.0.1:9/v1/province-callbacks/510000',
    },
    `${caseId}:create`,
  );
  expect(created.status).toBe(201);
  const { provinceCaseId } = created.body;
  expect((await call(sim, 'POST', `/cases/${provinceCaseId}/submit`, {}, `${caseId}:submit`)).status).toBe(202);
  const deadline = Date.now() + 5000;
  for (;;) {
    const status = await call<CaseStatusBody>(sim, 'GET', `/cases/${provinceCaseId}`);
    const approved = status.body.events.find((e) => e.type === 'case.approved');
    if (approved) return { caseId, certificate: approved.data.certificate as Record<string, unknown> };
    if (Date.now() > deadline) throw new Error('no approval');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const documentOf = (sim: Simulator, licenceId: string) => fetch(`${sim.url}/_admin/provinces/${SC}/elicences/${licenceId}/document`);

describe('simulated electronic licences', () => {
  it('When an electronic case is approved, then its certificate carries a licence signed by the province’s issuing authority, whose document survives a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tongban-sim-elicence-'));
    dirs.push(dir);
    const stateFile = path.join(dir, 'state.json');
    const keys = { [SC]: generateSm2KeyPair() };
    let sim = await start(stateFile, keys);
    try {
      expect(sim.licencePublicKey(SC)).toBe(keys[SC]!.publicKey);
      const { caseId, certificate } = await approvedElectronicCase(sim);
      const licence = licenceSchema.parse(certificate.licence);
      expect(licence.issuerCode).toBe(issuerCreditCode(SC));
      expect(isUnifiedSocialCreditCode(licence.issuerCode)).toBe(true);
      expect(licence.licenceType).toBe(SIMULATED_LICENCE_TYPE);
      expect(parseLicenceId(licence.licenceId)).toMatchObject({ ok: true, id: { licenceType: SIMULATED_LICENCE_TYPE, issuer: licence.issuerCode, version: '001' } });
      expect(sm2Verify(keys[SC]!.publicKey, Buffer.from(licence.documentSm3, 'hex'), licence.signature)).toBe(true);
      expect(sm2Verify(generateSm2KeyPair().publicKey, Buffer.from(licence.documentSm3, 'hex'), licence.signature)).toBe(false);

      const res = await documentOf(sim, licence.licenceId);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-document-sm3')).toBe(licence.documentSm3);
      const document = Buffer.from(await res.arrayBuffer());
      expect(sm3Hex(document)).toBe(licence.documentSm3);
      // Both hashes of the certificate name the same bytes.
      expect(certificate.sha256).toBe(sha256Hex(document));
      const parsed = JSON.parse(document.toString('utf8')) as Record<string, unknown>;
      expect(parsed).toMatchObject({ licenceId: licence.licenceId, caseId, itemCode: 'pension-transfer', holder: { name: '王**' }, issuer: { code: licence.issuerCode } });
      expect(document.toString('utf8')).not.toContain(validIdNumber().slice(6, 14));

      // Unknown: a well-formed identifier this province never issued, and one whose check character
      // is wrong (always another character than the real one: the check character is 0 one time in 36).
      const parts = parseLicenceId(licence.licenceId);
      if (!parts.ok) throw new Error('unreachable: parsed above');
      const neverIssued = formatLicenceId({ ...parts.id, serial: `${parts.id.serial}9` });
      const lastChar = licence.licenceId.slice(-1);
      const badCheck = `${licence.licenceId.slice(0, -1)}${lastChar === '0' ? '1' : '0'}`;
      for (const unknownId of [neverIssued, badCheck]) {
        expect(unknownId).not.toBe(licence.licenceId);
        expect((await documentOf(sim, unknownId)).status).toBe(404);
      }

      // Restarted on the same state file and keys: the same bytes.
      await sim.close();
      sim = await start(stateFile, keys);
      const again = await documentOf(sim, licence.licenceId);
      expect(again.status).toBe(200);
      expect(Buffer.from(await again.arrayBuffer()).equals(document)).toBe(true);
    } finally {
      await sim.close();
    }
  });

  it('When the keys given at start are not a pair, or name a province it does not play, then the simulator refuses to start', async () => {
    const a = generateSm2KeyPair();
    const b = generateSm2KeyPair();
    await expect(startSimulator({ provinces: [{ code: SC, secret: SECRET }], licenceKeys: { [SC]: { privateKey: a.privateKey, publicKey: b.publicKey } } })).rejects.toThrow(
      /licenceKeys\.510000/,
    );
    await expect(startSimulator({ provinces: [{ code: SC, secret: SECRET }], licenceKeys: { '440000': a } })).rejects.toThrow(/does not play province 440000/);
  });
});
