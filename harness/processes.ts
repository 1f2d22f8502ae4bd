// tongban as separate operating-system processes, the way it is deployed: the province
// simulator, api instances and workers each in their own Node process, started from the same
// entry points an operator runs (`npm run simulator|api|worker`), sharing one DATA_DIR (the dev
// keys and the materials store), one PostgreSQL and one Temporal server. The fault-injection
// tests kill and restart them; the benchmark keeps the load generator and the simulator out of
// the measured processes; the production-shape run puts several of each kind on one cluster.
// No vitest import here (bench/ and dev/ use it too).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/index.js';
import { DEV_PROVINCES, devLicenceKeys, loadSecrets, type Secrets } from '../config/secrets.js';
import { issueToken } from '../api/auth.js';
import { findFreePort } from '../dev/temporal-server.js';
import type { StaffRole } from '../domain/case.js';
import { TEST_TIMINGS } from './stack.js';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const READY_TIMEOUT_MS = 120_000;
const QUIET_LEVELS = new Set(['warn', 'error', 'fatal', 'silent']);
const STOP_GRACE_MS = 10_000;

export interface ProcessSpec {
  /** Shown in errors and used for the log file's name, e.g. `api-1`. */
  name: string;
  /** Entry point below the repository root, e.g. `api/server.ts`. */
  script: string;
  env: Record<string, string>;
  /** Ready when this URL answers 2xx, or when a line of output matches. */
  ready: { url: string } | { line: RegExp };
  logDir: string;
  /** Flags for node itself, e.g. `--cpu-prof` (which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
}

/**
 * One child process that can be killed and started again with the same settings. Its output
 * goes to `<logDir>/<name>.log`, appended across restarts, so a failed run can be read after.
 */
export class ManagedProcess {
  private child: ChildProcess | null = null;
  private exited: Promise<number | null> = Promise.resolve(null);
  private starts = 0;
  readonly logFile: string;

  constructor(readonly spec: ProcessSpec) {
    fs.mkdirSync(spec.logDir, { recursive: true });
    this.logFile = path.join(spec.logDir, `${spec.name}.log`);
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until it is ready; fails with the log's tail if it exits first. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    this.starts++;
    const log = fs.openSync(this.logFile, 'a');
    fs.writeSync(log, `\n--- start ${this.starts} at ${new Date().toISOString()}\n`);
    const matcher = 'line' in this.spec.ready ? this.spec.ready.line : null;
    let sawLine = false;
    // node with tsx's loader, not `npx tsx`: one process to signal (kill -9 hits the service itself).
    const child = spawn(process.execPath, [...(this.spec.nodeArgs ?? []), '--import', 'tsx', path.join(ROOT, this.spec.script)], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const onData = (chunk: Buffer) => {
      fs.writeSync(log, chunk);
      if (matcher && !sawLine && matcher.test(chunk.toString())) sawLine = true;
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': output can still arrive after 'exit', and would be written to a closed file.
      child.once('close', (code, signal) => {
        fs.writeSync(log, `--- exit ${code ?? signal} at ${new Date().toISOString()}\n`);
        fs.closeSync(log);
        resolve(code);
      });
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (!this.running) throw new Error(`${this.name} exited before it was ready:\n${this.tail()}`);
      if (matcher ? sawLine : await answers((this.spec.ready as { url: string }).url)) return;
      if (Date.now() > deadline) {
        this.kill();
        throw new Error(`${this.name} not ready after ${READY_TIMEOUT_MS} ms:\n${this.tail()}`);
      }
      await sleep(100);
    }
  }

  /** `kill -9` (or another signal) without waiting; the exit is awaited by `stopped()`. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child!.kill(signal);
  }

  /** Resolves when the current process has exited. */
  async stopped(): Promise<void> {
    await this.exited;
  }

  /** SIGTERM, then SIGKILL after a grace period; a no-op when it is not running. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }

  /** The last lines of its log, for error messages. */
  tail(lines = 30): string {
    try {
      return fs.readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

export interface ProcessStackOptions {
  temporalAddress: string;
  databaseUrl: string;
  /** Shared by every process: dev keys, materials. Created when missing. */
  dataDir: string;
  /** Number of api instances (default 1). */
  apis?: number;
  /** Number of workers running the case queue and every province queue (default 1). */
  caseWorkers?: number;
  /** Province codes given a province-only worker of their own; the case workers then leave those queues to it. */
  provinceWorkers?: string[];
  /** Environment of the simulator process (SIMULATOR_REVIEW_DELAY_MS, SIMULATOR_STATE_FILE, …). */
  simulatorEnv?: Record<string, string>;
  /** Environment of every tongban process, over the defaults (TEST_TIMINGS, LOG_LEVEL=warn). */
  env?: Record<string, string>;
  /** Environment of the api instances only, over `env` (e.g. the benchmark's tracing of intake). */
  apiEnv?: Record<string, string>;
  /** A prebuilt workflow bundle for the workers (each would otherwise bundle at start, ~10 s). */
  workflowBundlePath?: string;
  /** Flags for node in every tongban process (not the simulator), e.g. the benchmark's `--cpu-prof`. */
  nodeArgs?: string[];
}

export interface ProcessStack {
  simulator: ManagedProcess;
  simulatorUrl: string;
  apis: (ManagedProcess & { url: string })[];
  workers: ManagedProcess[];
  /** The environment every tongban process got (for starting another one like them). */
  env: Record<string, string>;
  /** The keys the processes share (the province gateways, the payload keyring), for a client of their own. */
  secrets: Secrets;
  token(role: StaffRole, region: string): Promise<string>;
  /** Starts one more process of a kind, with the shared settings. */
  spawn(kind: 'api' | 'worker', name: string, env?: Record<string, string>): Promise<ManagedProcess & { url: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the simulator, then the workers and api instances, each as its own process. The dev
 * keys are written into dataDir before any process starts, so they all read the same ones.
 */
export async function startProcessStack(opts: ProcessStackOptions): Promise<ProcessStack> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const logDir = path.join(opts.dataDir, 'logs');
  const simulatorPort = await findFreePort();
  const common: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    ...TEST_TIMINGS,
    DATA_DIR: opts.dataDir,
    SIMULATOR_PORT: String(simulatorPort),
    TEMPORAL_ADDRESS: opts.temporalAddress,
    DATABASE_URL: opts.databaseUrl,
    ...(opts.workflowBundlePath ? { WORKFLOW_BUNDLE_PATH: opts.workflowBundlePath } : {}),
    ...opts.env,
  };
  // Writes .data's dev secrets file once, before several processes could race to create it.
  const secrets = loadSecrets(loadConfig(common));
  const serviceApiKey = `tongban-services-${path.basename(opts.dataDir)}`.padEnd(24, 'x');
  const datahubSecret = `tongban-datahub-${path.basename(opts.dataDir)}`.padEnd(24, 'x');
  const simulatorUrl = `http://127.0.0.1:${simulatorPort}`;
  Object.assign(common, {
    VIDEO_SERVICE_URL: `${simulatorUrl}/video`,
    VIDEO_SERVICE_API_KEY: serviceApiKey,
    SMS_GATEWAY_URL: `${simulatorUrl}/sms`,
    SMS_API_KEY: serviceApiKey,
    DATAHUB_URL: `${simulatorUrl}/datahub`,
    DATAHUB_SECRET: datahubSecret,
  });
  const licenceKeys = devLicenceKeys(opts.dataDir);
  const simulator = new ManagedProcess({
    name: 'simulator',
    script: 'simulator/main.ts',
    env: {
      LOG_LEVEL: 'warn',
      SIMULATOR_PORT: String(simulatorPort),
      PROVINCE_SECRETS: JSON.stringify(Object.fromEntries(secrets.provinces.map((p) => [p.code, p.secret]))),
      SIMULATOR_LICENCE_KEYS: JSON.stringify(Object.fromEntries(Object.entries(licenceKeys).map(([code, pair]) => [code, pair.privateKey]))),
      SIMULATOR_SERVICE_API_KEY: serviceApiKey,
      SIMULATOR_DATAHUB_SECRET: datahubSecret,
      SIMULATOR_REVIEW_DELAY_MS: '200',
      SIMULATOR_SMS_DELIVERY_DELAY_MS: '200',
      ...opts.simulatorEnv,
    },
    ready: { line: /province simulator listening on/ },
    logDir,
  });
  await simulator.start();

  const apis: (ManagedProcess & { url: string })[] = [];
  const workers: ManagedProcess[] = [];
  const provinceOnly = opts.provinceWorkers ?? [];
  const caseWorkerProvinces = DEV_PROVINCES.filter((code) => !provinceOnly.includes(code)).join(',');

  async function spawnOne(kind: 'api' | 'worker', name: string, env: Record<string, string> = {}) {
    const port = kind === 'api' ? await findFreePort() : 0;
    const url = `http://127.0.0.1:${port}`;
    const proc = Object.assign(
      new ManagedProcess({
        name,
        script: kind === 'api' ? 'api/server.ts' : 'worker/main.ts',
        // A worker says it is ready at level info ('worker running'): quieter levels would hide it.
        env: {
          ...common,
          ...(kind === 'api' ? { PORT: String(port), HOST: '127.0.0.1', ...opts.apiEnv } : QUIET_LEVELS.has(common.LOG_LEVEL ?? '') ? { LOG_LEVEL: 'info' } : {}),
          ...env,
        },
        ready: kind === 'api' ? { url: `${url}/readyz` } : { line: /worker running/ },
        logDir,
        nodeArgs: opts.nodeArgs,
      }),
      { url },
    );
    await proc.start();
    (kind === 'api' ? apis : workers).push(proc);
    return proc;
  }

  try {
    for (let i = 1; i <= (opts.caseWorkers ?? 1); i++) await spawnOne('worker', `worker-${i}`, { WORKER_PROVINCES: caseWorkerProvinces });
    for (const code of provinceOnly) await spawnOne('worker', `province-worker-${code}`, { WORKER_CASE_QUEUE: 'false', WORKER_PROVINCES: code });
    for (let i = 1; i <= (opts.apis ?? 1); i++) await spawnOne('api', `api-${i}`);
  } catch (e) {
    await Promise.all([...apis, ...workers, simulator].map((p) => p.stop()));
    throw e;
  }
  return {
    simulator,
    simulatorUrl,
    apis,
    workers,
    env: common,
    secrets,
    token: (role, region) => issueToken(secrets.jwtSecret, { sub: `test-${role}-${region}`, role, region }, 3600),
    spawn: spawnOne,
    async stop() {
      await Promise.all([...apis, ...workers].map((p) => p.stop()));
      await simulator.stop();
    },
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
