// Where intake's time goes under load: `npm run bench:intake -- [--rate=1] [--seconds=120] [--setting=raised]`.
//
// `npm run bench` finds intake's p99 far above a bare workflow start at half the saturated rate
// (docs/benchmarks.md). This says which of intake's waits collects it. It runs the benchmark's
// stack (a dev server with the setting's dynamic config, PostgreSQL, the simulator, tongban's api
// and worker as processes, the benchmark's pacing) with the api traced (OTEL_EXPORTER_OTLP_ENDPOINT
// on the api only, to a receiver in this process, harness/otlpReceiver.ts), offers POST /v1/cases
// open loop at `rate` per second for `seconds` (each case then runs to completion, as in the
// benchmark's intake phase: the worker's load is what intake shares the machine with), and splits
// every request's server span into intake's steps (api/intake.ts): the three reads at once, the
// key's claim, the workflow start, the case row's transaction, and the rest (the api's own work:
// authentication, validation, hashing, sealing the input, and waiting for the event loop).
// It prints, per step, p50 and p99, and the mean split of the slowest 5 % of requests against the
// middle half's. Nothing here is a test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrate } from '../db/migrate.js';
import { startTemporalDevServer } from '../dev/temporal-server.js';
import { createDatabase } from '../harness/database.js';
import { startOtlpReceiver, type ReceivedSpan } from '../harness/otlpReceiver.js';
import { startProcessStack } from '../harness/processes.js';
import { SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { benchCases } from './lib/cases.js';
import { progressBar } from './lib/progress.js';
import { benchOptions, SETTINGS, SIMULATOR_ENV, STACK_ENV } from './lib/settings.js';
import { distribution, markdownTable, ms } from './lib/stats.js';

const args = benchOptions('--rate=N, --seconds=N, --setting=raised|paced');
const RATE = Number(args.rate ?? 1);
const SECONDS = Number(args.seconds ?? 120);
const SETTING = args.setting ?? 'raised';
if (!(SETTING in SETTINGS) || SETTING === 'cluster') throw new Error(`--setting: "${SETTING}" is not a dev-server setting (raised, paced)`);
const WARM_UP = 10;

/** Intake's steps as api/intake.ts and the Temporal client interceptor name their spans, in order. */
const STEPS = ['intake read', 'intake claim', 'StartWorkflow:caseWorkflow', 'intake case row'] as const;
const REST = 'the rest (the api’s own work and its event loop)';

interface Split {
  total: number;
  parts: Record<string, number>;
}

/** Each intake request's server span, split into its steps' spans and the rest. */
function splits(spans: ReceivedSpan[], from: number): Split[] {
  const byTrace = new Map<string, ReceivedSpan[]>();
  for (const s of spans) byTrace.set(s.traceId, [...(byTrace.get(s.traceId) ?? []), s]);
  const out: Split[] = [];
  for (const s of spans) {
    if (s.name !== 'POST /v1/cases' || s.startMs < from || s.attributes['http.response.status_code'] !== 201) continue;
    const inTrace = byTrace.get(s.traceId) ?? [];
    const parts: Record<string, number> = {};
    for (const step of STEPS) {
      const mine = inTrace.filter((x) => x.name === step && x.service === s.service && x.startMs >= s.startMs && x.endMs <= s.endMs + 1);
      parts[step] = mine.reduce((sum, x) => sum + (x.endMs - x.startMs), 0);
    }
    const total = s.endMs - s.startMs;
    parts[REST] = Math.max(0, total - STEPS.reduce((sum, step) => sum + parts[step]!, 0));
    out.push({ total, parts });
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-bench-intake-'));
  const receiver = await startOtlpReceiver();
  const temporal = await startTemporalDevServer({ headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, dynamicConfig: SETTINGS[SETTING], log: () => {} });
  const db = await createDatabase('tongban_intake');
  let stack: Awaited<ReturnType<typeof startProcessStack>> | undefined;
  try {
    await migrate(db.url);
    stack = await startProcessStack({
      temporalAddress: temporal.address,
      databaseUrl: db.url,
      dataDir: path.join(runDir, 'stack'),
      env: STACK_ENV,
      apiEnv: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url },
      simulatorEnv: SIMULATOR_ENV,
    });
    const cases = await benchCases(stack, temporal.address);
    for (let i = 0; i < WARM_UP; i++) await cases.run();

    const from = Date.now();
    const total = Math.max(1, Math.round(RATE * SECONDS));
    const bar = progressBar(`intake at ${RATE}/s, open loop`, total);
    const answered: number[] = [];
    const pending: Promise<void>[] = [];
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      const wait = started + (i * 1000) / RATE - performance.now();
      if (wait > 0) await sleep(wait);
      pending.push(
        cases.submit().then(({ answered: t, done }) => {
          answered.push(t);
          bar.tick(answered.length);
          return done;
        }),
      );
    }
    await Promise.all(pending);
    bar.finish('every case completed');
    // The api exports its spans in batches (every 5 s): stop it to flush the last one.
    await stack.stop();
    stack = undefined;

    const requests = splits(receiver.spans(), from);
    if (requests.length !== total) throw new Error(`expected ${total} traced intake requests, received ${requests.length}`);
    const clientWait = distribution(answered);
    const server = distribution(requests.map((r) => r.total));
    const rows = [...STEPS, REST].map((step) => {
      const d = distribution(requests.map((r) => r.parts[step]!));
      return [step, ms(d.p50), ms(d.p99), ms(d.max)];
    });
    process.stdout.write(`\n${total} intakes at ${RATE}/s for ${SECONDS} s on \`${SETTING}\`, every case run to completion\n\n`);
    process.stdout.write(
      `${markdownTable(
        ['intake', 'p50', 'p99', 'max'],
        [['the client’s wait (POST /v1/cases)', ms(clientWait.p50), ms(clientWait.p99), ms(clientWait.max)], ['the api’s server span', ms(server.p50), ms(server.p99), ms(server.max)], ...rows],
      )}\n\n`,
    );
    // Which part grows: the slowest 5 % against the middle half, each step's mean.
    const sorted = [...requests].sort((a, b) => a.total - b.total);
    const slow = sorted.slice(Math.floor(sorted.length * 0.95));
    const middle = sorted.slice(Math.floor(sorted.length * 0.25), Math.ceil(sorted.length * 0.75));
    const mean = (xs: Split[], key: string) => xs.reduce((sum, x) => sum + x.parts[key]!, 0) / xs.length;
    const meanTotal = (xs: Split[]) => xs.reduce((sum, x) => sum + x.total, 0) / xs.length;
    process.stdout.write(
      `${markdownTable(
        ['mean per request', `middle half (${middle.length})`, `slowest 5 % (${slow.length})`, 'grows by'],
        [
          ['the server span', ms(meanTotal(middle)), ms(meanTotal(slow)), ms(meanTotal(slow) - meanTotal(middle))],
          ...[...STEPS, REST].map((step) => [step, ms(mean(middle, step)), ms(mean(slow, step)), ms(mean(slow, step) - mean(middle, step))]),
        ],
      )}\n`,
    );
  } finally {
    await stack?.stop();
    await db.drop();
    await temporal.stop();
    await receiver.close();
    fs.rmSync(runDir, { recursive: true, force: true });
  }
}

await main();
