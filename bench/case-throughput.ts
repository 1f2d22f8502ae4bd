// Benchmark: intake latency and end-to-end case throughput on one machine, everything real
// (Temporal dev server, PostgreSQL, simulator over HTTP, worker and api in this process).
//   npx tsx bench/case-throughput.ts [cases=200] [concurrency=10]
// Bounded: a fixed number of cases against loopback only; it stops by itself.
import { randomUUID } from 'node:crypto';
import proto from '@temporalio/proto';
import { migrate } from '../db/migrate.js';
import { caseWorkflowId, SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { startTemporalDevServer } from '../dev/temporal-server.js';
import { createDatabase } from '../harness/database.js';
import { startStack } from '../harness/stack.js';
import { samplePdf, uploadFile, validIdNumber } from '../harness/cases.js';

const { temporal: temporalProto } = proto;
const CASES = Number(process.argv[2] ?? 200);
const CONCURRENCY = Number(process.argv[3] ?? 10);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summary(name: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `${name}: p50 ${percentile(s, 50).toFixed(0)} ms, p95 ${percentile(s, 95).toFixed(0)} ms, p99 ${percentile(s, 99).toFixed(0)} ms, max ${s.at(-1)!.toFixed(0)} ms`;
}

async function main() {
  const temporal = await startTemporalDevServer({ headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: () => {} });
  const db = await createDatabase('tongban_bench');
  await migrate(db.url);
  // A quick province: the review takes 100 ms, callbacks arrive at once.
  const stack = await startStack({
    temporalAddress: temporal.address,
    databaseUrl: db.url,
    simulator: { reviewDelayMs: 100, deliveryDelayMs: 50 },
    env: { PROVINCE_RATE_LIMIT: '1000' },
  });
  try {
    const clerk = await stack.token('clerk', '440100');
    const materials: { materialCode: string; fileId: string }[] = [];
    for (const materialCode of ['transfer-application', 'resident-id-card', 'contribution-certificate']) {
      const up = await uploadFile(stack.apiUrl, clerk, samplePdf(materialCode));
      materials.push({ materialCode, fileId: up.body.fileId });
    }
    const intake: number[] = [];
    const endToEnd: number[] = [];
    let next = 0;
    const started = performance.now();
    async function runner() {
      while (next < CASES) {
        next++;
        const body = {
          itemCode: 'pension-transfer',
          applicant: { name: '压测', idNumber: validIdNumber(), phone: '13800138000' },
          receivingRegion: '440100',
          handlingRegion: '510000',
          channel: 'window',
          materials,
          delivery: { method: 'electronic' },
        };
        const t0 = performance.now();
        const res = await fetch(`${stack.apiUrl}/v1/cases`, {
          method: 'POST',
          headers: { authorization: `Bearer ${clerk}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
          body: JSON.stringify(body),
        });
        const t1 = performance.now();
        if (res.status !== 201) throw new Error(`intake answered ${res.status}: ${await res.text()}`);
        const { caseId } = (await res.json()) as { caseId: string };
        intake.push(t1 - t0);
        const state = (await stack.client.workflow.getHandle(caseWorkflowId(caseId)).result()) as { status: string };
        if (state.status !== 'completed') throw new Error(`case ${caseId} ended ${state.status}`);
        endToEnd.push(performance.now() - t0);
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, runner));
    const seconds = (performance.now() - started) / 1000;
    const events = await stack.pool.query<{ n: string }>('SELECT count(*) AS n FROM case_events');
    // History cost of a sample of the cases: events and encoded bytes per case.
    const sample = await stack.pool.query<{ case_id: string }>('SELECT case_id FROM cases ORDER BY submitted_at DESC LIMIT 10');
    const historyEvents: number[] = [];
    const historyBytes: number[] = [];
    for (const { case_id } of sample.rows) {
      const history = await stack.client.workflow.getHandle(caseWorkflowId(case_id)).fetchHistory();
      historyEvents.push(history.events?.length ?? 0);
      historyBytes.push(temporalProto.api.history.v1.History.encode(history).finish().length);
    }
    console.log(`cases: ${CASES}, concurrency: ${CONCURRENCY}, wall time ${seconds.toFixed(1)} s`);
    console.log(`throughput: ${(CASES / seconds).toFixed(1)} completed cases/s (${events.rows[0]!.n} projection events)`);
    console.log(summary('intake (POST /v1/cases)', intake));
    console.log(summary('end to end (intake → completed, incl. 100 ms simulated review)', endToEnd));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    console.log(`history per case: ${mean(historyEvents).toFixed(0)} events, ${(mean(historyBytes) / 1024).toFixed(1)} KiB (mean of ${historyEvents.length})`);
  } finally {
    await stack.stop();
    await db.drop();
    await temporal.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
