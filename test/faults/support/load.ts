// The load of a scenario: cases submitted over HTTP as a window's system would, a bounded number
// at a time, each with its own Idempotency-Key. A request that fails on the way (connection
// refused or reset, a 5xx) is sent again with the same key, to the next api instance in turn, the
// way a client behind a load balancer retries; the answer it finally gets names the case.
import { randomUUID } from 'node:crypto';
import { FIXTURE_APPLICANT, samplePdf, validIdNumber } from '../../../harness/cases.js';

export interface Submitted {
  caseId: string;
  idempotencyKey: string;
  /** Attempts the intake took (1 when the first answered). */
  attempts: number;
  /** Requests sent again, uploads and intake together. */
  retries: number;
}

export interface LoadOptions {
  /** The api instances; attempts go round them, starting with `i mod n`. */
  apiUrls: () => string[];
  token: string;
  count: number;
  concurrency: number;
  /** The applicant's name of case `i` (a rule of the simulator can match it). */
  applicantName?: (i: number) => string;
  itemCode?: string;
  materialCodes?: string[];
  handlingRegion?: string;
  /** Give up on one case after this long (default 120 s). */
  retryForMs?: number;
  /** Called once case `i` is in. */
  onSubmitted?: (s: Submitted, i: number) => void;
}

/** Statuses a client retries: a proxy found no instance, or the service says "later" (a 500 is a bug: it fails the run). */
const RETRYABLE = new Set([502, 503, 504]);

export async function submitMany(opts: LoadOptions): Promise<Submitted[]> {
  const results: Submitted[] = new Array(opts.count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= opts.count) return;
      results[i] = await submitOne(opts, i);
      opts.onSubmitted?.(results[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency, opts.count) }, worker));
  return results;
}

async function submitOne(opts: LoadOptions, i: number): Promise<Submitted> {
  const deadline = Date.now() + (opts.retryForMs ?? 120_000);
  const idempotencyKey = `faults-${randomUUID()}`;
  let attempt = 0;
  let calls = 0;
  const nextUrl = () => {
    calls++;
    const urls = opts.apiUrls();
    return urls[(i + attempt++) % urls.length]!;
  };
  // The materials first; an upload that fails is simply uploaded again (an orphan is swept later).
  const materials: { materialCode: string; fileId: string }[] = [];
  for (const materialCode of opts.materialCodes ?? ['transfer-application', 'resident-id-card', 'contribution-certificate']) {
    const fileId = await retrying(deadline, `upload ${materialCode} of case ${i}`, async () => {
      const form = new FormData();
      form.append('file', new Blob([new Uint8Array(samplePdf(`${materialCode}-${i}-${randomUUID()}`))], { type: 'application/pdf' }), 'material.pdf');
      const res = await fetch(`${nextUrl()}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${opts.token}` }, body: form, signal: AbortSignal.timeout(30_000) });
      const body = (await res.json()) as { fileId?: string };
      return { status: res.status, value: body.fileId, body };
    });
    materials.push({ materialCode, fileId });
  }
  const body = JSON.stringify({
    itemCode: opts.itemCode ?? 'pension-transfer',
    applicant: { name: opts.applicantName?.(i) ?? FIXTURE_APPLICANT.name, idNumber: validIdNumber(), phone: FIXTURE_APPLICANT.phone },
    receivingRegion: '440100',
    handlingRegion: opts.handlingRegion ?? '510000',
    channel: 'window',
    materials,
    delivery: { method: 'electronic' },
  });
  attempt = 0;
  const caseId = await retrying(deadline, `intake of case ${i}`, async () => {
    const res = await fetch(`${nextUrl()}/v1/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${opts.token}`, 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
      body,
      signal: AbortSignal.timeout(30_000),
    });
    const answer = (await res.json()) as { caseId?: string };
    return { status: res.status, value: answer.caseId, body: answer };
  });
  return { caseId, idempotencyKey, attempts: attempt, retries: calls - materials.length - 1 };
}

/** Runs `call` until it answers 2xx with a value; retries network errors and RETRYABLE statuses until the deadline. */
async function retrying<T>(deadline: number, what: string, call: () => Promise<{ status: number; value: T | undefined; body: unknown }>): Promise<T> {
  let last = '';
  for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
    try {
      const { status, value, body } = await call();
      if (status >= 200 && status < 300 && value !== undefined) return value;
      last = `${status} ${JSON.stringify(body).slice(0, 300)}`;
      if (!RETRYABLE.has(status)) throw new Error(`${what}: ${last}`);
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(`${what}:`)) throw e;
      last = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    if (Date.now() > deadline) throw new Error(`${what}: still failing when the retries ran out; last: ${last}`);
    await new Promise((r) => setTimeout(r, wait));
  }
}
