// `npm run bench`: tongban against its bare twin (bench/bare/), side by side on one machine in
// one run, interleaved (tongban, bare, tongban, bare). Everything is a real process: the
// Temporal dev server, PostgreSQL, the province simulator, tongban's api and worker
// (harness/processes.ts), the twin's worker; this process is only the load generator.
//
//   npm run bench -- [--cases=200] [--concurrency=40] [--latency-cases=20] [--rounds=2]
//                    [--intake-seconds=30] [--hold=500] [--settings=raised,paced,cluster] [--out=.data/bench] [--profile]
//
// Measured, per dev-server setting (docs/benchmarks.md says why there are two):
//  - latency with one case in flight: first response (POST /v1/cases; the twin's workflow start)
//    and completion;
//  - throughput at saturation: completed cases per second with `concurrency` in flight;
//  - intake at half the saturated rate (open loop): POST /v1/cases against workflow.start;
//  - cost per case: history events and bytes, PostgreSQL commits, CPU seconds per process,
//    worker memory per case in flight;
//  - worker memory per cached case: `hold` cases of each side held open at once (their decision
//    callback lost, the status poll ten minutes away), the worker's resident memory before and after.
// It prints a progress bar on every long run, a summary table at the end, and writes the raw
// results as JSON into the output folder. With --profile, tongban's api and worker and the twin's
// worker run under `node --cpu-prof`; the summary adds where their CPU went (bench/lib/cpuprofile.ts).
// Loopback only; it stops by itself.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import { migrate } from '../db/migrate.js';
import { connectTemporalClient, temporalConnectionOptions } from '../clients/temporal.js';
import { caseWorkflowId, SEARCH_ATTRIBUTES } from '../workflows/messages.js';
import { findFreePort, startTemporalDevServer } from '../dev/temporal-server.js';
import { CLUSTER_SERVICES, startTemporalCluster, type ClusterTls } from '../dev/temporal-cluster.js';
import { createDatabase } from '../harness/database.js';
import { ManagedProcess, startProcessStack, type ProcessStack } from '../harness/processes.js';
import { samplePdf, uploadFile, validIdNumber } from '../harness/cases.js';
import { WORKFLOWS_PATH } from '../worker/workers.js';
import { sha256Hex } from '../crypto/signing.js';
import { BARE_CASE_QUEUE, bareWorkflowId } from './bare/worker.js';
import type { BareCaseInput } from './bare/workflows.js';
import { distribution, markdownTable, ms, type Distribution } from './lib/stats.js';
import { progressBar } from './lib/progress.js';
import { benchOptions, SETTINGS, SIMULATOR_ENV, STACK_ENV } from './lib/settings.js';
import { cpuSeconds, findPids, postgresCpuSeconds, rssBytes } from './lib/procfs.js';
import { summariseProfile, type ProfileSummary } from './lib/cpuprofile.js';

const { temporal: temporalProto } = proto;

// ---- settings -------------------------------------------------------------------------------

const args = benchOptions('--name=value or --flag');
const CASES = Number(args.cases ?? 200);
const CONCURRENCY = Number(args.concurrency ?? 40);
const LATENCY_CASES = Number(args['latency-cases'] ?? 20);
const ROUNDS = Number(args.rounds ?? 2);
const INTAKE_SECONDS = Number(args['intake-seconds'] ?? 30);
/** Cases of each side held open at once for the worker's memory per cached case (0: skip). */
const HOLD = Number(args.hold ?? 500);
const OUT_DIR = path.resolve(args.out ?? '.data/bench');
const PROVINCE = '510000';
const PROFILE = args.profile === 'true';
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

const settingsList = (args.settings ?? 'raised,paced,cluster').split(',').map((s) => {
  if (!(s in SETTINGS)) throw new Error(`--settings: unknown "${s}" (known: ${Object.keys(SETTINGS).join(', ')})`);
  return s;
});

// ---- the two subjects -----------------------------------------------------------------------

type Side = 'tongban' | 'bare';

/** One case: its first response (the api's answer, or the start call's) and its completion, in ms. */
interface CaseTiming {
  firstResponse: number;
  completion: number;
}

interface Subject {
  side: Side;
  /**
   * Starts one case; resolves with the first response's time and a promise of completion. A held
   * case is applied for by HELD_APPLICANT, whose decision callback the simulator loses.
   */
  start(opts?: { held?: boolean }): Promise<{ firstResponse: number; done: Promise<void>; workflowId: string }>;
  /** The pids whose CPU counts as this subject's (besides Temporal and PostgreSQL). */
  pids(): Record<string, number>;
  workerPid(): number;
}

function tongbanSubject(stack: ProcessStack, client: Client, token: string, materials: { materialCode: string; fileId: string }[]): Subject {
  const api = stack.apis[0]!;
  return {
    side: 'tongban',
    async start(opts) {
      const body = {
        itemCode: 'pension-transfer',
        applicant: { name: opts?.held ? HELD_APPLICANT : '压测', idNumber: validIdNumber(), phone: '13800138000' },
        receivingRegion: '440100',
        handlingRegion: PROVINCE,
        channel: 'window',
        materials,
        delivery: { method: 'electronic' },
      };
      const t0 = performance.now();
      const res = await fetch(`${api.url}/v1/cases`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      const firstResponse = performance.now() - t0;
      if (res.status !== 201) throw new Error(`intake answered ${res.status}: ${text}`);
      const { caseId } = JSON.parse(text) as { caseId: string };
      const workflowId = caseWorkflowId(caseId);
      // A held case is not waited for: it is terminated, and a result long poll would outlive the client.
      if (opts?.held) return { firstResponse, done: Promise.resolve(), workflowId };
      const done = (client.workflow.getHandle(workflowId).result() as Promise<{ status: string }>).then((state) => {
        if (state.status !== 'completed') throw new Error(`case ${caseId} ended ${state.status}`);
      });
      return { firstResponse, done, workflowId };
    },
    pids: () => ({ api: api.pid!, worker: stack.workers[0]!.pid! }),
    workerPid: () => stack.workers[0]!.pid!,
  };
}

function bareSubject(worker: ManagedProcess, client: Client, callbackUrl: string, materials: BareCaseInput['materials']): Subject {
  return {
    side: 'bare',
    async start(opts) {
      const caseId = randomUUID();
      const input: BareCaseInput = {
        caseId,
        provinceCode: PROVINCE,
        callbackUrl,
        applicant: { name: opts?.held ? HELD_APPLICANT : '压测', idNumber: validIdNumber(), phone: '13800138000' },
        materials,
      };
      const t0 = performance.now();
      const handle: WorkflowHandle = await client.workflow.start('bareCase', { taskQueue: BARE_CASE_QUEUE, workflowId: bareWorkflowId(caseId), args: [input] });
      const firstResponse = performance.now() - t0;
      if (opts?.held) return { firstResponse, done: Promise.resolve(), workflowId: handle.workflowId };
      const done = (handle.result() as Promise<{ status: string }>).then((r) => {
        if (r.status !== 'completed') throw new Error(`bare case ${caseId} ended ${r.status}`);
      });
      return { firstResponse, done, workflowId: handle.workflowId };
    },
    pids: () => ({ worker: worker.pid! }),
    workerPid: () => worker.pid!,
  };
}

// ---- measurements ---------------------------------------------------------------------------

interface Resources {
  cpu: Record<string, number>;
  postgresCommits: number;
}

interface ThroughputRun {
  side: Side;
  round: number;
  cases: number;
  concurrency: number;
  seconds: number;
  casesPerSecond: number;
  firstResponse: Distribution;
  completion: Distribution;
  /** CPU seconds per case, per process (temporal, postgres, api, worker) and in total. */
  cpuPerCase: Record<string, number>;
  postgresCommitsPerCase: number;
  workerRssIdleMiB: number;
  workerRssPeakMiB: number;
  /** (peak − idle) worker memory over the cases in flight, KiB. */
  workerKiBPerCaseInFlight: number;
  history: { events: number; bytes: number };
}

interface LatencyRun {
  side: Side;
  round: number;
  firstResponse: Distribution;
  completion: Distribution;
}

interface HeldRun {
  side: Side;
  cases: number;
  seconds: number;
  workerRssBeforeMiB: number;
  workerRssHeldMiB: number;
  /** (held − before) worker memory over the cases held, KiB. */
  workerKiBPerHeldCase: number;
}

interface IntakeRun {
  side: Side;
  round: number;
  ratePerSecond: number;
  requests: number;
  firstResponse: Distribution;
}

async function runCases(subject: Subject, total: number, concurrency: number, label: string, onSample?: () => void): Promise<{ timings: CaseTiming[]; seconds: number; workflowIds: string[] }> {
  const bar = progressBar(label, total);
  const timings: CaseTiming[] = [];
  const workflowIds: string[] = [];
  let next = 0;
  let finished = 0;
  const sampler = onSample ? setInterval(onSample, 250) : null;
  const started = performance.now();
  async function runner() {
    while (next < total) {
      next++;
      const t0 = performance.now();
      const { firstResponse, done, workflowId } = await subject.start();
      workflowIds.push(workflowId);
      await done;
      timings.push({ firstResponse, completion: performance.now() - t0 });
      finished++;
      bar.tick(finished, `${(finished / ((performance.now() - started) / 1000)).toFixed(1)}/s`);
    }
  }
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, total) }, runner));
  } finally {
    if (sampler) clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  bar.finish(`${(total / seconds).toFixed(2)} cases/s`);
  return { timings, seconds, workflowIds };
}

/** Open loop: starts at a fixed rate for `seconds`, whatever the answers take; then waits for all to complete. */
async function runIntake(subject: Subject, ratePerSecond: number, seconds: number, label: string): Promise<number[]> {
  const total = Math.max(1, Math.round(ratePerSecond * seconds));
  const bar = progressBar(label, total);
  const latencies: number[] = [];
  const pending: Promise<void>[] = [];
  const started = performance.now();
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(
      subject.start().then(({ firstResponse, done }) => {
        latencies.push(firstResponse);
        bar.tick(latencies.length);
        return done;
      }),
    );
  }
  await Promise.all(pending);
  bar.finish(`${ratePerSecond.toFixed(1)}/s offered`);
  return latencies;
}

async function historyCost(client: Client, workflowIds: string[]): Promise<{ events: number; bytes: number }> {
  const sample = workflowIds.slice(-10);
  let events = 0;
  let bytes = 0;
  for (const workflowId of sample) {
    const res = await client.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId } });
    const history = temporalProto.api.history.v1.History.create({ events: res.history?.events ?? [] });
    events += history.events.length;
    bytes += temporalProto.api.history.v1.History.encode(history).finish().length;
  }
  return { events: events / sample.length, bytes: bytes / sample.length };
}

/** The applicant of held cases: a simulator rule loses their decision callbacks. */
const HELD_APPLICANT = '压测挂起';

async function addSimulatorRule(simulatorUrl: string, rule: { match: Record<string, string>; scenario: string }): Promise<void> {
  const res = await fetch(`${simulatorUrl}/_admin/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rule) });
  if (res.status !== 201) throw new Error(`the simulator answered ${res.status} to a rule: ${await res.text()}`);
}

/** Successful submissions the simulator has seen: a held case has reached its wait for the decision. */
async function submissions(simulatorUrl: string): Promise<number> {
  const res = await fetch(`${simulatorUrl}/_admin/provinces/${PROVINCE}/requests`);
  const requests = (await res.json()) as { method: string; path: string; status: number }[];
  return requests.filter((r) => r.method === 'POST' && r.path.endsWith('/submit') && r.status < 300).length;
}

/** The median of a few readings a quarter-second apart (one reading may catch a collection). */
async function settledRss(pid: number): Promise<number> {
  const readings: number[] = [];
  for (let i = 0; i < 9; i++) {
    readings.push(rssBytes(pid));
    await sleep(250);
  }
  return readings.sort((a, b) => a - b)[4]!;
}

/**
 * Holds `count` cases open at once, each waiting for a decision that does not come, and reads the
 * worker's memory before and once all wait; then terminates them. `count` stays under the
 * worker's workflow cache (the SDK's default is about 900 on this machine's heap limit), so
 * every held case is cached.
 */
async function holdCases(subject: Subject, client: Client, simulatorUrl: string, count: number, label: string): Promise<HeldRun> {
  await sleep(3000);
  const pid = subject.workerPid();
  const before = await settledRss(pid);
  const submittedBefore = await submissions(simulatorUrl);
  const bar = progressBar(label, count);
  const started = performance.now();
  const workflowIds: string[] = [];
  let next = 0;
  const starter = async () => {
    while (next < count) {
      next++;
      const { workflowId } = await subject.start({ held: true });
      workflowIds.push(workflowId);
    }
  };
  await Promise.all(Array.from({ length: 10 }, starter));
  for (;;) {
    const waiting = (await submissions(simulatorUrl)) - submittedBefore;
    bar.tick(Math.min(waiting, count), 'waiting for the decision');
    if (waiting >= count) break;
    // A slow setting (the cluster on this machine) gets a second and a half per case, at least eight minutes.
    const limitMs = Math.max(8 * 60_000, count * 1500);
    if (performance.now() - started > limitMs) throw new Error(`${label}: only ${waiting} of ${count} cases reached the wait for the decision in ${Math.round(limitMs / 60_000)} minutes`);
    await sleep(1000);
  }
  await sleep(3000); // the steps after the submission (projection writes, the SLA clock) settle
  const held = await settledRss(pid);
  const seconds = (performance.now() - started) / 1000;
  bar.finish(`${count} held`);
  for (let i = 0; i < workflowIds.length; i += 50) {
    await Promise.all(workflowIds.slice(i, i + 50).map((id) => client.workflow.getHandle(id).terminate('benchmark: held case released')));
  }
  return {
    side: subject.side,
    cases: count,
    seconds,
    workerRssBeforeMiB: before / 2 ** 20,
    workerRssHeldMiB: held / 2 ** 20,
    workerKiBPerHeldCase: (held - before) / 1024 / count,
  };
}

async function postgresCommits(admin: pg.Pool, database: string): Promise<number> {
  // Statistics reach pg_stat_database when a backend goes idle; wait out the flush interval.
  await sleep(1200);
  const r = await admin.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [database]);
  return Number(r.rows[0]?.n ?? 0);
}

// ---- one setting ----------------------------------------------------------------------------

interface SettingResult {
  setting: string;
  dynamicConfig: Record<string, number>;
  latency: LatencyRun[];
  throughput: ThroughputRun[];
  intake: IntakeRun[];
  held: HeldRun[];
  /** With --profile: self time per module and function of each profiled process. */
  profiles?: Record<string, ProfileSummary>;
}

interface Server {
  address: string;
  /** The server's processes, for their CPU time. */
  pids(): number[];
  /** The TLS client settings (TEMPORAL_TLS_*) when the server requires them. */
  tls?: ClusterTls;
  stop(): Promise<void>;
}

/** The dev server with the setting's dynamic config, or the production-shape cluster. */
async function startServer(setting: string, runDir: string): Promise<Server> {
  if (setting === 'cluster') {
    const cluster = await startTemporalCluster({ dir: path.join(runDir, 'cluster'), searchAttributes: { ...SEARCH_ATTRIBUTES }, historyShards: 4, log: () => {} });
    return {
      address: cluster.address,
      pids: () => CLUSTER_SERVICES.map((s) => cluster.pid(s)).filter((pid): pid is number => pid !== null),
      tls: cluster.tls,
      stop: () => cluster.stop(),
    };
  }
  const dev = await startTemporalDevServer({ headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, dynamicConfig: SETTINGS[setting], log: () => {} });
  const pid = findPids((cmd) => cmd.includes('start-dev') && cmd.includes(`--port ${dev.address.split(':')[1]}`))[0];
  if (!pid) throw new Error('cannot find the Temporal dev server process');
  return { address: dev.address, pids: () => [pid], stop: () => dev.stop() };
}

async function benchSetting(setting: string, bundlePath: string, runDir: string): Promise<SettingResult> {
  const log = (line: string) => process.stderr.write(`[${setting}] ${line}\n`);
  log(`starting ${setting === 'cluster' ? 'the production-shape Temporal cluster' : `the Temporal dev server (dynamic config ${JSON.stringify(SETTINGS[setting])})`}, a PostgreSQL database, the simulator, tongban and the bare twin…`);
  const temporal = await startServer(setting, runDir);
  const db = await createDatabase('tongban_bench');
  const dbName = new URL(db.url).pathname.slice(1);
  await migrate(db.url);
  const admin = new pg.Pool({ connectionString: db.url, max: 1 });
  const profileDir = path.join(runDir, `${setting}-profiles`);
  const nodeArgs = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const stack = await startProcessStack({
    temporalAddress: temporal.address,
    databaseUrl: db.url,
    dataDir: path.join(runDir, `${setting}-stack`),
    workflowBundlePath: bundlePath,
    env: { ...STACK_ENV, ...temporal.tls },
    nodeArgs,
    simulatorEnv: SIMULATOR_ENV,
  });
  const materialsDir = path.join(runDir, `${setting}-bare-materials`);
  fs.mkdirSync(materialsDir, { recursive: true });
  const callbackPort = await findFreePort();
  const bareWorker = new ManagedProcess({
    name: 'bare-worker',
    script: 'bench/bare/worker.ts',
    env: {
      TEMPORAL_ADDRESS: temporal.address,
      BARE_PROVINCES: JSON.stringify(stack.secrets.provinces.map(({ code, baseUrl, secret }) => ({ code, baseUrl, secret }))),
      BARE_MATERIALS_DIR: materialsDir,
      BARE_CALLBACK_PORT: String(callbackPort),
      BARE_PROVINCE_RATE_LIMIT: '1000',
      ...temporal.tls,
    },
    nodeArgs,
    ready: { line: /bare worker running/ },
    logDir: path.join(runDir, `${setting}-logs`),
  });
  let result: SettingResult | undefined;
  const tongbanClient = await connectTemporalClient({ address: temporal.address, namespace: 'default', keyring: stack.secrets.payloadKeys, security: temporal.tls });
  const bareClient = new Client({ connection: await Connection.connect(temporalConnectionOptions(temporal.address, temporal.tls)) });
  try {
    await bareWorker.start();
    // The same three materials for every case, on both sides.
    const token = await stack.token('clerk', '440100');
    const tongbanMaterials: { materialCode: string; fileId: string }[] = [];
    const bareMaterials: BareCaseInput['materials'] = [];
    for (const materialCode of ['transfer-application', 'resident-id-card', 'contribution-certificate']) {
      const bytes = samplePdf(materialCode);
      const up = await uploadFile(stack.apis[0]!.url, token, bytes);
      if (up.status !== 201) throw new Error(`upload answered ${up.status}`);
      tongbanMaterials.push({ materialCode, fileId: up.body.fileId });
      const sha256 = sha256Hex(bytes);
      fs.writeFileSync(path.join(materialsDir, sha256), bytes);
      bareMaterials.push({ materialCode, sha256, size: bytes.length, contentType: 'application/pdf' });
    }
    const subjects: Record<Side, Subject> = {
      tongban: tongbanSubject(stack, tongbanClient, token, tongbanMaterials),
      bare: bareSubject(bareWorker, bareClient, `http://127.0.0.1:${callbackPort}/callbacks`, bareMaterials),
    };
    // Warm-up: JIT, connection pools and the workflow caches on both sides.
    for (const side of ['tongban', 'bare'] as const) await runCases(subjects[side], 10, 5, `[${setting}] warm-up ${side}`);

    result = { setting, dynamicConfig: SETTINGS[setting]!, latency: [], throughput: [], intake: [], held: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ['tongban', 'bare'] as const) {
        const { timings } = await runCases(subjects[side], LATENCY_CASES, 1, `[${setting}] latency ${side} ${round}/${ROUNDS}`);
        result.latency.push({ side, round, firstResponse: distribution(timings.map((t) => t.firstResponse)), completion: distribution(timings.map((t) => t.completion)) });
      }
    }
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ['tongban', 'bare'] as const) {
        const subject = subjects[side];
        await sleep(2000);
        const workerPid = subject.workerPid();
        const idleRss = rssBytes(workerPid);
        let peakRss = idleRss;
        const before = await snapshot(subject, temporal.pids(), admin, dbName);
        const { timings, seconds, workflowIds } = await runCases(subject, CASES, CONCURRENCY, `[${setting}] throughput ${side} ${round}/${ROUNDS}`, () => {
          peakRss = Math.max(peakRss, rssBytes(workerPid));
        });
        const after = await snapshot(subject, temporal.pids(), admin, dbName);
        const cpuPerCase = Object.fromEntries(Object.keys(after.cpu).map((k) => [k, (after.cpu[k]! - (before.cpu[k] ?? 0)) / CASES]));
        cpuPerCase.total = Object.values(cpuPerCase).reduce((a, b) => a + b, 0);
        result.throughput.push({
          side,
          round,
          cases: CASES,
          concurrency: CONCURRENCY,
          seconds,
          casesPerSecond: CASES / seconds,
          firstResponse: distribution(timings.map((t) => t.firstResponse)),
          completion: distribution(timings.map((t) => t.completion)),
          cpuPerCase,
          postgresCommitsPerCase: (after.postgresCommits - before.postgresCommits) / CASES,
          workerRssIdleMiB: idleRss / 2 ** 20,
          workerRssPeakMiB: peakRss / 2 ** 20,
          workerKiBPerCaseInFlight: (peakRss - idleRss) / 1024 / CONCURRENCY,
          history: await historyCost(side === 'tongban' ? tongbanClient : bareClient, workflowIds),
        });
      }
    }
    // Half of tongban's saturated rate, offered open loop to both sides.
    const tongbanRate = mean(result.throughput.filter((r) => r.side === 'tongban').map((r) => r.casesPerSecond));
    const rate = Math.max(0.5, tongbanRate / 2);
    for (let round = 1; round <= ROUNDS; round++) {
      for (const side of ['tongban', 'bare'] as const) {
        await sleep(2000);
        const latencies = await runIntake(subjects[side], rate, INTAKE_SECONDS, `[${setting}] intake ${side} ${round}/${ROUNDS}`);
        result.intake.push({ side, round, ratePerSecond: rate, requests: latencies.length, firstResponse: distribution(latencies) });
      }
    }
    if (HOLD > 0) {
      await addSimulatorRule(stack.simulatorUrl, { match: { applicantName: HELD_APPLICANT }, scenario: 'lost-callback' });
      for (const side of ['tongban', 'bare'] as const) {
        result.held.push(await holdCases(subjects[side], side === 'tongban' ? tongbanClient : bareClient, stack.simulatorUrl, HOLD, `[${setting}] held ${side}`));
      }
    }
    return result;
  } catch (e) {
    for (const p of [bareWorker, stack.simulator, ...stack.apis, ...stack.workers]) process.stderr.write(`--- ${p.name} log tail:\n${p.tail(15)}\n`);
    throw e;
  } finally {
    const names = new Map([bareWorker, ...stack.apis, ...stack.workers].map((p) => [p.pid, p.name]));
    await bareWorker.stop();
    await stack.stop();
    if (PROFILE && result && fs.existsSync(profileDir)) {
      result.profiles = {};
      // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, one per thread: the main thread (0), and
      // the others summed: the worker threads that run the workflow code (and tsx's loader thread).
      const groups = new Map<string, string[]>();
      for (const file of fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'))) {
        const [pid, thread] = [Number(file.split('.')[3]), file.split('.')[4]];
        const name = `${names.get(pid) ?? `pid ${pid}`}${thread === '0' ? '' : ' (other threads)'}`;
        groups.set(name, [...(groups.get(name) ?? []), path.join(profileDir, file)]);
      }
      for (const [name, files] of [...groups.entries()].sort()) result.profiles[name] = summariseProfile(files, ROOT);
    }
    await tongbanClient.connection.close();
    await bareClient.connection.close();
    await admin.end();
    await temporal.stop();
    await db.drop();
  }
}

async function snapshot(subject: Subject, temporalPids: number[], admin: pg.Pool, dbName: string): Promise<Resources> {
  const postgresCommitCount = await postgresCommits(admin, dbName);
  const cpu: Record<string, number> = { temporal: temporalPids.reduce((sum, pid) => sum + cpuSeconds(pid), 0), postgres: postgresCpuSeconds() };
  for (const [name, pid] of Object.entries(subject.pids())) cpu[name] = cpuSeconds(pid);
  return { cpu, postgresCommits: postgresCommitCount };
}

// ---- report ---------------------------------------------------------------------------------

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / (xs.length || 1);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const list = (xs: number[], f: (x: number) => string) => xs.map(f).join(', ');

function summarise(results: SettingResult[]): string {
  const out: string[] = [];
  for (const r of results) {
    const by = <T extends { side: Side }>(runs: T[], side: Side) => runs.filter((x) => x.side === side);
    const tput = (side: Side) => by(r.throughput, side).map((x) => x.casesPerSecond);
    const ratio = mean(tput('tongban')) / mean(tput('bare'));
    const server = r.setting === 'cluster' ? 'Temporal 1.29.1 cluster: four services as processes on PostgreSQL, 4 history shards, mutual TLS' : `dev server, dynamic config ${JSON.stringify(r.dynamicConfig)}`;
    out.push(`\n### ${r.setting} (${server})\n`);
    out.push(
      markdownTable(
        ['measure', 'tongban', 'bare twin', 'tongban ÷ bare'],
        [
          [`throughput, ${CONCURRENCY} in flight (cases/s)`, list(tput('tongban'), (x) => x.toFixed(2)), list(tput('bare'), (x) => x.toFixed(2)), ratio.toFixed(2)],
          ...(['p50', 'p99'] as const).map((p) => {
            const t = mean(by(r.latency, 'tongban').map((x) => x.firstResponse[p]));
            const b = mean(by(r.latency, 'bare').map((x) => x.firstResponse[p]));
            return [`1 in flight, first response ${p}`, ms(t), ms(b), `+${ms(t - b)}`];
          }),
          ...(['p50', 'p99'] as const).map((p) => {
            const t = mean(by(r.latency, 'tongban').map((x) => x.completion[p]));
            const b = mean(by(r.latency, 'bare').map((x) => x.completion[p]));
            return [`1 in flight, completion ${p}`, ms(t), ms(b), (t / b).toFixed(2)];
          }),
          ...(['p50', 'p99'] as const).map((p) => {
            const t = mean(by(r.intake, 'tongban').map((x) => x.firstResponse[p]));
            const b = mean(by(r.intake, 'bare').map((x) => x.firstResponse[p]));
            return [`intake at ${r.intake[0]?.ratePerSecond.toFixed(1)}/s, ${p}`, ms(t), ms(b), `+${ms(t - b)}`];
          }),
          ...(['p50', 'p99'] as const).map((p) => {
            const t = mean(by(r.throughput, 'tongban').map((x) => x.completion[p]));
            const b = mean(by(r.throughput, 'bare').map((x) => x.completion[p]));
            return [`saturated, completion ${p}`, ms(t), ms(b), (t / b).toFixed(2)];
          }),
          ...['total', 'temporal', 'postgres', 'worker', 'api'].map((k) => {
            const t = mean(by(r.throughput, 'tongban').map((x) => x.cpuPerCase[k] ?? 0)) * 1000;
            const b = mean(by(r.throughput, 'bare').map((x) => x.cpuPerCase[k] ?? 0)) * 1000;
            return [`CPU per case, ${k} (ms)`, t.toFixed(0), k === 'api' ? '–' : b.toFixed(0), k === 'api' ? '–' : (t / b).toFixed(2)];
          }),
          ["commits to tongban's database per case (bare: tongban idle)", mean(by(r.throughput, 'tongban').map((x) => x.postgresCommitsPerCase)).toFixed(1), mean(by(r.throughput, 'bare').map((x) => x.postgresCommitsPerCase)).toFixed(1), '–'],
          ['history events per case', mean(by(r.throughput, 'tongban').map((x) => x.history.events)).toFixed(0), mean(by(r.throughput, 'bare').map((x) => x.history.events)).toFixed(0), '–'],
          ['history KiB per case', (mean(by(r.throughput, 'tongban').map((x) => x.history.bytes)) / 1024).toFixed(1), (mean(by(r.throughput, 'bare').map((x) => x.history.bytes)) / 1024).toFixed(1), '–'],
          ['worker KiB per case in flight', mean(by(r.throughput, 'tongban').map((x) => x.workerKiBPerCaseInFlight)).toFixed(0), mean(by(r.throughput, 'bare').map((x) => x.workerKiBPerCaseInFlight)).toFixed(0), '–'],
          ...(r.held.length
            ? [[
                `worker KiB per held case (${r.held[0]!.cases} held at once)`,
                mean(by(r.held, 'tongban').map((x) => x.workerKiBPerHeldCase)).toFixed(0),
                mean(by(r.held, 'bare').map((x) => x.workerKiBPerHeldCase)).toFixed(0),
                (mean(by(r.held, 'tongban').map((x) => x.workerKiBPerHeldCase)) / mean(by(r.held, 'bare').map((x) => x.workerKiBPerHeldCase))).toFixed(2),
              ]]
            : []),
        ],
      ),
    );
    for (const [name, summary] of Object.entries(r.profiles ?? {})) {
      out.push(`\n#### Where ${name}'s CPU went (${(summary.totalMs / 1000).toFixed(1)} s profiled, idle excluded)\n`);
      out.push(markdownTable(['module', 'self time', 'share'], summary.modules.slice(0, 10).map((m) => [m.name, ms(m.ms), `${(m.share * 100).toFixed(1)} %`])));
      out.push('');
      out.push(markdownTable(['function', 'self time', 'share'], summary.functions.slice(0, 10).map((f) => [f.name, ms(f.ms), `${(f.share * 100).toFixed(1)} %`])));
    }
  }
  return out.join('\n');
}

async function main() {
  const startedAt = new Date();
  const runId = startedAt.toISOString().replace(/[:.]/g, '-');
  const runDir = path.join(OUT_DIR, runId);
  fs.mkdirSync(runDir, { recursive: true });
  process.stderr.write(`bundling the case workflows once for tongban's workers…\n`);
  const quiet = () => {};
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, log: quiet, error: (m: string) => void process.stderr.write(`${m}\n`) } });
  const bundlePath = path.join(runDir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, code);
  const results: SettingResult[] = [];
  const settings = { cases: CASES, concurrency: CONCURRENCY, latencyCases: LATENCY_CASES, rounds: ROUNDS, intakeSeconds: INTAKE_SECONDS, hold: HOLD, province: PROVINCE, simulatorReviewDelayMs: 100 };
  const file = path.join(runDir, 'results.json');
  const machine = () => ({ cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version, loadAverageAtEnd: os.loadavg() });
  // Written after every setting, so a later setting's failure keeps the earlier ones' figures.
  const write = () => fs.writeFileSync(file, JSON.stringify({ startedAt, finishedAt: new Date(), machine: machine(), settings, results }, null, 2));
  try {
    for (const setting of settingsList) {
      results.push(await benchSetting(setting, bundlePath, runDir));
      write();
    }
  } finally {
    fs.rmSync(bundlePath, { force: true });
  }
  const { cpus, memoryGiB, node } = machine();
  process.stdout.write(`\n## Benchmark ${startedAt.toISOString()} (${cpus} cores, ${memoryGiB} GiB, ${node})\n`);
  process.stdout.write(`${JSON.stringify(settings)}\n${summarise(results)}\n\nraw results: ${path.relative(process.cwd(), file)}\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
