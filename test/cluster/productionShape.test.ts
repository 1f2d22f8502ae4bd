// The production shape on one machine (issue 10, "Beyond one machine"): a Temporal cluster built
// from the server's Go module (PostgreSQL persistence, 4 history shards, frontend, history,
// matching and worker as separate processes, TLS with client certificates on the frontend),
// two api instances behind a round-robin, two case workers and one worker serving only the
// Sichuan (510000) province queue, all on one PostgreSQL and talking TLS to the frontend.
// While a hundred cases go through the round-robin, one api instance, one case worker and the
// province worker are killed with SIGKILL (the province worker is started again: it is the only
// one for 510000). Then the accounting must be exact: every case started completed, none lost,
// none submitted twice to the province, one projection row per case, no SMS twice.
// `npm run test:cluster` (vitest.cluster.config.ts); the first run builds the server (minutes).
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleWorkflowCode } from '@temporalio/worker';
import { Connection, type Client } from '@temporalio/client';
import type pg from 'pg';
import { startTemporalCluster, clientTlsConfig, type TemporalCluster } from '../../dev/temporal-cluster.js';
import { createDatabase } from '../../harness/database.js';
import { startProcessStack, type ProcessStack } from '../../harness/processes.js';
import { startRoundRobin, type RoundRobin } from '../../harness/roundRobin.js';
import { collectKnownPii, logFilesUnder, scanTargets } from '../../harness/piiScan.js';
import { migrate } from '../../db/migrate.js';
import { createPool } from '../../clients/postgres.js';
import { connectTemporalClient } from '../../clients/temporal.js';
import { loadConfig } from '../../config/index.js';
import { loadSecrets } from '../../config/secrets.js';
import { WORKFLOWS_PATH } from '../../worker/workers.js';
import { SEARCH_ATTRIBUTES, caseWorkflowId } from '../../workflows/messages.js';
import { ADMIN_URL } from '../../harness/database.js';
import { submitThroughBalancer } from './submit.js';

const CASES = Number(process.env.CLUSTER_CASES ?? 100);
const IN_FLIGHT = 8;
const PROVINCE = '510000';
/** Kills by the number of cases accepted so far: spread over the run, while cases are in every stage. */
const KILL_API_AT = Math.round(CASES * 0.25);
const KILL_CASE_WORKER_AT = Math.round(CASES * 0.4);
const KILL_PROVINCE_WORKER_AT = Math.round(CASES * 0.55);
/** How long Sichuan has no worker at all. */
const PROVINCE_OUTAGE_MS = 10_000;
/** The SMS send activity's heartbeat timeout (30 s) after a kill, the retry's backoff, the sending, and some. */
const SMS_DRAIN_TIMEOUT_MS = 3 * 60_000;

const runDir = path.resolve(`.data/cluster/run-${process.pid}`);
let cluster: TemporalCluster | undefined;
let database: { url: string; drop(): Promise<void> } | undefined;
let procs: ProcessStack | undefined;
let balancer: RoundRobin | undefined;
let pool: pg.Pool | undefined;
let client: Client | undefined;
let bundlePath = '';
let failed = false;

const quiet = () => {};
const quietLogger = { trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (m: string) => process.stderr.write(`${m}\n`), log: quiet };
const note = (line: string) => process.stderr.write(`[cluster] ${line}\n`);

beforeAll(async () => {
  fs.rmSync(runDir, { recursive: true, force: true });
  fs.mkdirSync(runDir, { recursive: true });
  const bundling = bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger }).then(({ code }) => {
    bundlePath = path.join(runDir, 'workflow-bundle.js');
    fs.writeFileSync(bundlePath, code);
  });
  cluster = await startTemporalCluster({ dir: path.join(runDir, 'temporal'), searchAttributes: { ...SEARCH_ATTRIBUTES }, historyShards: 4, log: note });
  database = await createDatabase('tongban_cluster');
  await migrate(database.url);
  await bundling;
  // The balancer first: its address is every api's PUBLIC_URL, so the provinces' callbacks go
  // through it too (a callback to a dead instance would wait for the status poll instead).
  balancer = await startRoundRobin(() => procs?.apis.map((a) => a.url) ?? []);
  const started = Date.now();
  procs = await startProcessStack({
    temporalAddress: cluster.address,
    databaseUrl: database.url,
    dataDir: path.join(runDir, 'data'),
    workflowBundlePath: bundlePath,
    apis: 2,
    caseWorkers: 2,
    provinceWorkers: [PROVINCE],
    env: {
      ...cluster.tls,
      TEMPORAL_NAMESPACE: cluster.namespace,
      PUBLIC_URL: balancer.url,
      SMS_OUTBOX_INTERVAL_SECONDS: '3',
      // Sichuan's calls must outlast the province worker's outage (and its restart, a bundle
      // load, a minute on a loaded machine) before a case would be flagged: about 200 s of budget.
      PROVINCE_RETRY_ATTEMPTS: '40',
      PROVINCE_RETRY_MAX_MS: '2000',
      PROVINCE_RATE_LIMIT: '1000',
    },
  });
  note(`tongban up in ${((Date.now() - started) / 1000).toFixed(1)} s: ${procs.apis.length} api, ${procs.workers.map((w) => w.name).join(', ')}; balancer ${balancer.url}`);
  pool = createPool(database.url);
  const config = loadConfig(procs.env);
  client = await connectTemporalClient({ address: cluster.address, namespace: cluster.namespace, keyring: loadSecrets(config).payloadKeys, security: config });
}, 30 * 60_000);

afterAll(async () => {
  await client?.connection.close().catch(() => undefined);
  await pool?.end().catch(() => undefined);
  await procs?.stop().catch((e: unknown) => note(`stopping tongban: ${String(e)}`));
  await balancer?.close();
  await cluster?.stop().catch((e: unknown) => note(`stopping the cluster: ${String(e)}`));
  await database?.drop();
  if (failed || process.env.CLUSTER_KEEP) note(`logs kept in ${runDir}`);
  else fs.rmSync(runDir, { recursive: true, force: true });
});

describe('the production shape: a Temporal cluster with TLS, replicas of every kind, one of each killed mid-run', () => {
  it('When a plain-text client or one without a client certificate calls the frontend, then it is refused; with the run CA and the client certificate, the handshake is TLS to the cluster', async () => {
    try {
      const c = cluster!;
      // Plain text: the frontend only speaks TLS.
      await expect(plainTextCall(c.address)).rejects.toThrow();
      // TLS but no client certificate: mutual TLS is required.
      await expect(
        Connection.connect({ address: c.address, tls: { serverNameOverride: c.tls.TEMPORAL_TLS_SERVER_NAME, serverRootCACertificate: fs.readFileSync(c.tls.TEMPORAL_TLS_CA) }, connectTimeout: '3s' }).then(async (conn) => {
          try {
            await conn.workflowService.getSystemInfo({});
          } finally {
            await conn.close();
          }
        }),
      ).rejects.toThrow();
      // The real handshake, as tongban's processes make it.
      const handshake = await tlsHandshake(c);
      expect(handshake.authorized).toBe(true);
      expect(handshake.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(handshake.issuer).toBe('tongban throwaway CA');
      // And every tongban process was given the TLS settings (the only way to reach this frontend).
      for (const name of ['TEMPORAL_TLS_CA', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY'] as const) expect(procs!.env[name]).toBe(c.tls[name]);
      const ok = await Connection.connect({ address: c.address, tls: clientTlsConfig(c.tls) });
      try {
        const info = await ok.workflowService.getSystemInfo({});
        expect(info.serverVersion).toBe('1.29.1');
      } finally {
        await ok.close();
      }
    } catch (e) {
      failed = true;
      throw e;
    }
  });

  it(`When ${CASES} cases go through the round-robin while an api instance, a case worker and the province worker are killed, then every case completes exactly once: nothing lost, nothing submitted twice, one projection row each, no SMS twice`, async () => {
    try {
      const p = procs!;
      const clerk = await p.token('clerk', '440100');
      const provinceWorker = p.workers.find((w) => w.name === `province-worker-${PROVINCE}`)!;
      const caseWorker = p.workers.find((w) => w.name === 'worker-1')!;
      const api = p.apis[0]!;
      const kills: string[] = [];
      let provinceBack: Promise<void> = Promise.resolve();
      const runStarted = Date.now();

      const accepted = await submitThroughBalancer({
        url: balancer!.url,
        token: clerk,
        cases: CASES,
        inFlight: IN_FLIGHT,
        handlingRegion: PROVINCE,
        onAccepted: (count) => {
          const at = `${((Date.now() - runStarted) / 1000).toFixed(1)} s`;
          if (count === KILL_API_AT) {
            kills.push(`kill -9 ${api.name} (pid ${api.pid}) after ${count} cases, at ${at}`);
            api.kill('SIGKILL');
          }
          if (count === KILL_CASE_WORKER_AT) {
            kills.push(`kill -9 ${caseWorker.name} (pid ${caseWorker.pid}) after ${count} cases, at ${at}`);
            caseWorker.kill('SIGKILL');
          }
          if (count === KILL_PROVINCE_WORKER_AT) {
            kills.push(`kill -9 ${provinceWorker.name} (pid ${provinceWorker.pid}) after ${count} cases, at ${at}`);
            provinceWorker.kill('SIGKILL');
            provinceBack = (async () => {
              await provinceWorker.stopped();
              await sleep(PROVINCE_OUTAGE_MS);
              const t0 = Date.now();
              await provinceWorker.start();
              kills.push(`${provinceWorker.name} started again after ${PROVINCE_OUTAGE_MS / 1000} s down (ready in ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
            })();
          }
        },
      });
      await provinceBack;
      const submittedIn = (Date.now() - runStarted) / 1000;
      expect(api.running).toBe(false);
      expect(caseWorker.running).toBe(false);
      expect(provinceWorker.running).toBe(true);

      // Every accepted case's workflow, to its end (the client talks TLS to the frontend too).
      const caseIds = [...new Set(accepted.map((a) => a.caseId))];
      const results = await Promise.all(caseIds.map((id) => client!.workflow.getHandle(caseWorkflowId(id)).result() as Promise<{ status: string }>));
      const completedIn = (Date.now() - runStarted) / 1000;
      const completed = results.filter((r) => r.status === 'completed').length;

      // Temporal's own count of case workflows (visibility on PostgreSQL), with their search attributes.
      const started = await eventually(async () => {
        const { count } = await client!.workflow.count(`WorkflowType = 'caseWorkflow'`);
        const { count: done } = await client!.workflow.count(`WorkflowType = 'caseWorkflow' AND ExecutionStatus = 'Completed' AND CaseStatus = 'completed'`);
        return count === caseIds.length && done === caseIds.length ? count : null;
      }, 'visibility to count every case workflow completed');

      // The projection: one row per case, completed, its events gapless from 1 to last_seq.
      const rows = await pool!.query<{ cases: string; done: string; gapless: string; province_ids: string }>(
        `SELECT count(*) AS cases, count(*) FILTER (WHERE status = 'completed') AS done,
                count(*) FILTER (WHERE last_seq = (SELECT count(*) FROM case_events e WHERE e.case_id = c.case_id)) AS gapless,
                count(DISTINCT province_case_id) AS province_ids
           FROM cases c`,
      );
      const projection = rows.rows[0]!;

      // The province: per idempotency key of each create and submit, and the cases it made.
      const requests = (await (await fetch(`${p.simulatorUrl}/_admin/provinces/${PROVINCE}/requests`)).json()) as { method: string; path: string; idempotencyKey: string | null; status: number }[];
      const creates = requests.filter((r) => r.method === 'POST' && /^\/provinces\/\d+\/cases$/.test(r.path.split('?')[0]!) && r.status < 300);
      const submits = requests.filter((r) => r.method === 'POST' && /\/submit$/.test(r.path.split('?')[0]!) && r.status < 300);
      const createKeys = new Set(creates.map((r) => r.idempotencyKey));
      const submitKeys = new Set(submits.map((r) => r.idempotencyKey));
      const provinceCaseIds = (await pool!.query<{ province_case_id: string }>('SELECT province_case_id FROM cases')).rows.map((r) => r.province_case_id);
      // The simulator numbers its cases 510000-000001, -000002, …: the highest is how many it made.
      const provinceCasesMade = Math.max(...provinceCaseIds.map((id) => Number(id.split('-').at(-1))));
      const duplicatedSubmissions = provinceCasesMade - caseIds.length;

      // SMS: the outbox sent (every few seconds), then one message per (case, template) at the gateway.
      // A send run whose activity was on the killed case worker holds the schedule (overlap: skip)
      // until that activity misses its heartbeat, 30 s (workflows/maintenance/sendNotifications.ts),
      // and is retried on the other worker: late by that much, not lost.
      const drainStarted = Date.now();
      await eventually(
        async () => {
          const { rows: pending } = await pool!.query<{ n: string }>('SELECT count(*) AS n FROM sms_outbox WHERE sent_at IS NULL AND failed_at IS NULL');
          return Number(pending[0]!.n) === 0 ? true : null;
        },
        'the SMS outbox to drain',
        SMS_DRAIN_TIMEOUT_MS,
      );
      const smsDrainedIn = (Date.now() - drainStarted) / 1000;
      const outbox = Number((await pool!.query<{ n: string }>('SELECT count(*) AS n FROM sms_outbox WHERE sent_at IS NOT NULL')).rows[0]!.n);
      const messages = (await (await fetch(`${p.simulatorUrl}/_admin/sms/messages`)).json()) as { caseId?: string; template: string; idempotencyKey: string; replays: number }[];
      const perCaseTemplate = new Map<string, number>();
      for (const m of messages) perCaseTemplate.set(`${m.caseId}/${m.template}`, (perCaseTemplate.get(`${m.caseId}/${m.template}`) ?? 0) + 1);
      const doubledSms = [...perCaseTemplate.values()].filter((n) => n > 1).length;

      // Temporal's PostgreSQL holds only ciphertext of the applicants' data; tongban's database and
      // every process's log (api, workers, simulator, up to now) hold them sealed, hashed or masked.
      const temporalDb = new URL(ADMIN_URL);
      temporalDb.pathname = `/${cluster!.databases.default}`;
      const known = collectKnownPii();
      const logs = logFilesUnder(path.join(runDir, 'data'));
      const piiFindings = await scanTargets([temporalDb.toString(), database!.url, ...logs], known);
      note(`personal-data scan of Temporal's and tongban's databases and ${logs.length} log file(s): ${piiFindings.length} finding(s)`);

      const stats = balancer!.stats();
      const accounting = {
        cases: CASES,
        submittedIn: `${submittedIn.toFixed(1)} s`,
        allCompletedIn: `${completedIn.toFixed(1)} s`,
        kills,
        intake: { accepted: accepted.length, distinctCases: caseIds.length, intakeRetries: accepted.reduce((n, a) => n + a.intakeAttempts - 1, 0), uploadRetries: accepted.reduce((n, a) => n + a.uploadRetries, 0) },
        balancer: stats,
        temporal: { started, completed, lost: caseIds.length - completed },
        projection: { rows: Number(projection.cases), completed: Number(projection.done), eventsGapless: Number(projection.gapless), distinctProvinceCaseIds: Number(projection.province_ids) },
        province: {
          createRequests: creates.length,
          createKeys: createKeys.size,
          submitRequests: submits.length,
          submitKeys: submitKeys.size,
          casesMade: provinceCasesMade,
          duplicatedSubmissions,
        },
        sms: { drainedIn: `${smsDrainedIn.toFixed(1)} s after every case completed`, outboxSent: outbox, gatewayMessages: messages.length, replaysAnswered: messages.reduce((n, m) => n + m.replays, 0), doubled: doubledSms },
        personalDataFindings: piiFindings.length,
      };
      process.stdout.write(`[cluster] accounting ${JSON.stringify(accounting, null, 2)}\n`);

      expect(accepted).toHaveLength(CASES);
      expect(caseIds).toHaveLength(CASES);
      expect(started).toBe(CASES);
      expect(completed).toBe(CASES);
      expect(accounting.projection).toEqual({ rows: CASES, completed: CASES, eventsGapless: CASES, distinctProvinceCaseIds: CASES });
      expect(createKeys.size).toBe(CASES);
      expect(submitKeys.size).toBe(CASES);
      expect(duplicatedSubmissions).toBe(0);
      expect(outbox).toBeGreaterThanOrEqual(CASES);
      expect(messages).toHaveLength(outbox);
      expect(new Set(messages.map((m) => m.idempotencyKey)).size).toBe(messages.length);
      expect(doubledSms).toBe(0);
      expect(piiFindings.map((f) => `${f.kind} in ${f.location}`)).toEqual([]);
      // Both api instances served before the kill; the survivor served everything after it.
      expect(Object.keys(stats.served)).toHaveLength(2);
    } catch (e) {
      failed = true;
      throw e;
    }
  });
});

/** A call without TLS: the SDK's connect does a first RPC, which a TLS-only frontend cannot answer. */
async function plainTextCall(address: string): Promise<void> {
  const conn = await Connection.connect({ address, connectTimeout: '3s' });
  try {
    await conn.workflowService.getSystemInfo({});
  } finally {
    await conn.close();
  }
}

function tlsHandshake(c: TemporalCluster): Promise<{ authorized: boolean; protocol: string | null; issuer: string }> {
  const [host, port] = c.address.split(':');
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host,
        port: Number(port),
        servername: c.tls.TEMPORAL_TLS_SERVER_NAME,
        ca: fs.readFileSync(c.tls.TEMPORAL_TLS_CA),
        cert: fs.readFileSync(c.tls.TEMPORAL_TLS_CERT),
        key: fs.readFileSync(c.tls.TEMPORAL_TLS_KEY),
        ALPNProtocols: ['h2'],
      },
      () => {
        const result = { authorized: socket.authorized, protocol: socket.getProtocol(), issuer: String(socket.getPeerCertificate().issuer?.CN) };
        socket.end();
        resolve(result);
      },
    );
    socket.once('error', reject);
  });
}

async function eventually<T>(probe: () => Promise<T | null>, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
