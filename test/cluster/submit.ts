// Window clerks submitting cases through the load balancer while instances die under them: each
// case uploads its three materials and is submitted with one Idempotency-Key, and a request the
// balancer could not place (502, or the connection itself failing) is sent again — an upload as
// a new upload (an unattached file is swept later), the intake with the same key and body, which
// converges on the same case (rule 4). Nothing here knows which instance is up.
import { randomUUID } from 'node:crypto';
import { FIXTURE_APPLICANT, samplePdf, validIdNumber } from '../../harness/cases.js';

const MATERIALS = ['transfer-application', 'resident-id-card', 'contribution-certificate'];
const MAX_ATTEMPTS = 20;

export interface Accepted {
  caseId: string;
  idempotencyKey: string;
  /** Intake requests sent for this case (1 when the first was answered). */
  intakeAttempts: number;
  uploadRetries: number;
}

export interface SubmitPlan {
  url: string;
  token: string;
  cases: number;
  inFlight: number;
  handlingRegion: string;
  /** Called after each case is accepted, with how many are accepted so far. */
  onAccepted(count: number): void;
}

export async function submitThroughBalancer(plan: SubmitPlan): Promise<Accepted[]> {
  const accepted: Accepted[] = [];
  let next = 0;
  async function clerk(): Promise<void> {
    while (next < plan.cases) {
      next++;
      accepted.push(await submitOne(plan));
      plan.onAccepted(accepted.length);
    }
  }
  await Promise.all(Array.from({ length: plan.inFlight }, clerk));
  return accepted;
}

async function submitOne(plan: SubmitPlan): Promise<Accepted> {
  const auth = { authorization: `Bearer ${plan.token}` };
  let uploadRetries = 0;
  const materials: { materialCode: string; fileId: string }[] = [];
  for (const materialCode of MATERIALS) {
    const { body, attempts } = await untilPlaced<{ fileId: string }>(() => {
      const form = new FormData();
      form.append('file', new Blob([samplePdf(`${materialCode}-${randomUUID()}`)], { type: 'application/pdf' }), 'material.pdf');
      return fetch(`${plan.url}/v1/files`, { method: 'POST', headers: auth, body: form });
    }, 201);
    uploadRetries += attempts - 1;
    materials.push({ materialCode, fileId: body.fileId });
  }
  const idempotencyKey = randomUUID();
  const request = JSON.stringify({
    itemCode: 'pension-transfer',
    applicant: { name: FIXTURE_APPLICANT.name, idNumber: validIdNumber(), phone: FIXTURE_APPLICANT.phone },
    receivingRegion: '440100',
    handlingRegion: plan.handlingRegion,
    channel: 'window',
    materials,
    delivery: { method: 'electronic' },
  });
  const { body, attempts } = await untilPlaced<{ caseId: string }>(
    () => fetch(`${plan.url}/v1/cases`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': idempotencyKey }, body: request }),
    201,
  );
  return { caseId: body.caseId, idempotencyKey, intakeAttempts: attempts, uploadRetries };
}

/** Sends until answered with `expected`; 502/503 and failed connections are sent again, anything else fails the run. */
async function untilPlaced<T>(send: () => Promise<Response>, expected: number): Promise<{ body: T; attempts: number }> {
  let last = '';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    try {
      const res = await send();
      const text = await res.text();
      if (res.status === expected) return { body: JSON.parse(text) as T, attempts: attempt };
      if (res.status !== 502 && res.status !== 503) throw new Error(`answered ${res.status}: ${text}`);
      last = `${res.status}: ${text}`;
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('answered')) throw err;
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 250 * attempt));
  }
  throw new Error(`not placed after ${MAX_ATTEMPTS} attempts; last: ${last}`);
}
