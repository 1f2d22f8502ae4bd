// A Temporal cluster in the production shape, on one machine: the server built from its Go module
// (dev/ensure-temporal-server.ts), PostgreSQL persistence and visibility, several history
// shards, and the frontend, history, matching and worker services as four separate processes
// (each can be killed on its own). The frontend speaks TLS only and requires a client
// certificate: a throwaway CA, server and client certificates are made per run in the run's
// folder, and tongban connects with TEMPORAL_TLS_CA/CERT/KEY/SERVER_NAME exactly as it would to a
// self-hosted cluster (clients/temporal.ts). Traffic between the services stays on loopback in
// clear (docs/deployment.md says what a real deployment adds).
//
// What an operator does by hand, in order: create the two databases and their schemas with the
// server's SQL tool, start the services, register the namespace, add tongban's search
// attributes through the operator service. Used by the production-shape test
// (test/cluster/productionShape.test.ts); `npx tsx dev/temporal-cluster.ts [dir]` runs one until
// Ctrl+C and prints the environment a tongban process needs.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import pg from 'pg';
import { resolveTemporalServer, type TemporalServerBinaries } from './ensure-temporal-server.js';
import { ensureSearchAttributes, findFreePort, type SearchAttributeTypeName } from './temporal-server.js';

const run = promisify(execFile);

export const CLUSTER_SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

export interface TemporalClusterOptions {
  /** The run's folder: config, certificates, one log per service. Created when missing. */
  dir: string;
  searchAttributes: Record<string, SearchAttributeTypeName>;
  /** Default 4: enough that a case's workflows land on different shards. */
  historyShards?: number;
  namespace?: string;
  /** The PostgreSQL server for both databases (default 127.0.0.1:5432, user postgres, trust). */
  postgres?: { host: string; port: number; user: string; password?: string };
  /** Database names are `<prefix>` and `<prefix>_visibility`; default unique per run. */
  databasePrefix?: string;
  /** Keep the databases at stop (default: drop them). */
  keepDatabases?: boolean;
  log?: (line: string) => void;
}

/** The files a client of the frontend needs, as tongban's settings name them. */
export interface ClusterTls {
  TEMPORAL_TLS_CA: string;
  TEMPORAL_TLS_CERT: string;
  TEMPORAL_TLS_KEY: string;
  TEMPORAL_TLS_SERVER_NAME: string;
}

export interface TemporalCluster {
  /** host:port of the frontend (TLS). */
  address: string;
  namespace: string;
  tls: ClusterTls;
  /** TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and the TLS files: the environment of a tongban process. */
  env: Record<string, string>;
  databases: { default: string; visibility: string };
  historyShards: number;
  /** Milliseconds from the first service's start to a namespace ready with its search attributes. */
  startupMs: number;
  pid(service: ClusterService): number | null;
  /** `kill -9` one service (the others keep running). */
  kill(service: ClusterService): void;
  /** Starts a service again after a kill (same ports, same config). */
  restart(service: ClusterService): Promise<void>;
  logFile(service: ClusterService): string;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 10_000;
const SERVER_NAME = 'localhost';

export async function startTemporalCluster(opts: TemporalClusterOptions): Promise<TemporalCluster> {
  const log = opts.log ?? (() => undefined);
  const dir = path.resolve(opts.dir);
  const namespace = opts.namespace ?? 'default';
  const historyShards = opts.historyShards ?? 4;
  const pgServer = opts.postgres ?? { host: '127.0.0.1', port: 5432, user: 'postgres' };
  const prefix = opts.databasePrefix ?? `temporal_cluster_${process.pid}_${Date.now()}`;
  const databases = { default: prefix, visibility: `${prefix}_visibility` };
  fs.mkdirSync(path.join(dir, 'logs'), { recursive: true });

  const bins = await resolveTemporalServer({ log });
  const tls = await makeCertificates(path.join(dir, 'tls'));
  await createSchemas(bins, pgServer, databases, log);

  const ports = await allocatePorts();
  const configDir = path.join(dir, 'config');
  fs.mkdirSync(configDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'dynamicconfig.yaml'), DYNAMIC_CONFIG);
  fs.writeFileSync(path.join(configDir, 'cluster.yaml'), serverConfig({ historyShards, pg: pgServer, databases, ports, tls, dynamicConfigFile: path.join(configDir, 'dynamicconfig.yaml') }));

  const address = `127.0.0.1:${ports.frontend.grpc}`;
  const clientTls: ClusterTls = { TEMPORAL_TLS_CA: tls.ca, TEMPORAL_TLS_CERT: tls.clientCert, TEMPORAL_TLS_KEY: tls.clientKey, TEMPORAL_TLS_SERVER_NAME: SERVER_NAME };
  const children = new Map<ClusterService, { child: ChildProcess; exited: Promise<void> }>();
  const logFile = (service: ClusterService) => path.join(dir, 'logs', `temporal-${service}.log`);

  function startService(service: ClusterService): void {
    const out = fs.openSync(logFile(service), 'a');
    fs.writeSync(out, `\n--- start at ${new Date().toISOString()}\n`);
    const child = spawn(bins.server, ['--root', dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start', '--service', service], { stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    children.set(service, { child, exited });
  }
  const running = (service: ClusterService) => {
    const c = children.get(service)?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  };
  // Never leave the services behind when this process exits.
  const killAll = () => {
    for (const s of CLUSTER_SERVICES) if (running(s)) children.get(s)!.child.kill('SIGKILL');
  };
  process.on('exit', killAll);

  async function stopServices(): Promise<void> {
    process.removeListener('exit', killAll);
    // The frontend first, so no client gets a half-stopped cluster; history last (it owns the shards).
    for (const service of ['frontend', 'worker', 'matching', 'history'] as const) {
      const entry = children.get(service);
      if (!entry || !running(service)) continue;
      entry.child.kill('SIGTERM');
      const timer = setTimeout(() => entry.child.kill('SIGKILL'), STOP_GRACE_MS);
      await entry.exited;
      clearTimeout(timer);
    }
  }
  async function dropDatabases(): Promise<void> {
    if (opts.keepDatabases) return;
    await withAdmin(pgServer, async (admin) => {
      for (const db of [databases.default, databases.visibility]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    });
  }

  const started = Date.now();
  try {
    // History first, alone until it listens: each service writes the cluster's metadata row when
    // it starts, and two doing it at once can lose the race to a duplicate key and exit (seen with
    // matching on a busy machine).
    startService('history');
    await waitForListening(ports.history.grpc, () => (running('history') ? null : `the history service exited:\n${tail(logFile('history'))}`));
    for (const service of CLUSTER_SERVICES) if (service !== 'history') startService(service);
    log(`Temporal cluster: ${CLUSTER_SERVICES.join(', ')} started as separate processes (${historyShards} history shards); frontend ${address} (TLS)`);
    const connection = await waitForFrontend(address, clientTls, () => {
      for (const s of CLUSTER_SERVICES) if (!running(s)) return `the ${s} service exited:\n${tail(logFile(s))}`;
      return null;
    });
    try {
      await registerNamespace(connection, namespace, log);
      await waitForNamespaceCache(connection, namespace);
      await ensureSearchAttributes(connection, namespace, opts.searchAttributes, log);
      await waitForShards(connection, namespace);
    } finally {
      await connection.close();
    }
    const exited = CLUSTER_SERVICES.filter((service) => !running(service));
    if (exited.length > 0) throw new Error(`Temporal cluster: ${exited.join(', ')} exited during start:\n${exited.map((s) => tail(logFile(s))).join('\n')}`);
  } catch (err) {
    await stopServices();
    await dropDatabases().catch(() => undefined);
    throw err;
  }
  const startupMs = Date.now() - started;
  log(`Temporal cluster ready in ${(startupMs / 1000).toFixed(1)} s`);

  let stopped: Promise<void> | null = null;
  return {
    address,
    namespace,
    tls: clientTls,
    env: { TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, ...clientTls },
    databases,
    historyShards,
    startupMs,
    pid: (service) => (running(service) ? (children.get(service)!.child.pid ?? null) : null),
    kill: (service) => {
      if (running(service)) children.get(service)!.child.kill('SIGKILL');
    },
    async restart(service) {
      if (running(service)) throw new Error(`the ${service} service is running`);
      await children.get(service)?.exited;
      startService(service);
    },
    logFile,
    stop: () => (stopped ??= stopServices().then(dropDatabases)),
  };
}

// ---------------------------------------------------------------------------------------------
// Certificates: a CA for this run only, the frontend's certificate (localhost, 127.0.0.1), the
// certificate the cluster's own services present to the frontend, and tongban's client
// certificate. EC P-256, valid two days: nothing here outlives a test run.

interface CertificateFiles {
  ca: string;
  serverCert: string;
  serverKey: string;
  internalCert: string;
  internalKey: string;
  clientCert: string;
  clientKey: string;
}

async function makeCertificates(dir: string): Promise<CertificateFiles> {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const f = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  await run('openssl', ['req', '-x509', ...ec, '-keyout', f('ca-key.pem'), '-out', f('ca.pem'), '-days', '2', '-subj', '/O=tongban test/CN=tongban throwaway CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const issue = async (name: string, cn: string, extensions: string) => {
    fs.writeFileSync(f(`${name}.ext`), extensions);
    await run('openssl', ['req', ...ec, '-keyout', f(`${name}-key.pem`), '-out', f(`${name}.csr`), '-subj', `/O=tongban test/CN=${cn}`]);
    await run('openssl', ['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.pem'), '-CAkey', f('ca-key.pem'), '-CAcreateserial', '-out', f(`${name}.pem`), '-days', '2', '-extfile', f(`${name}.ext`)]);
  };
  await issue('server', SERVER_NAME, `subjectAltName=DNS:${SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n`);
  await issue('internal', 'temporal-internal', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  await issue('client', 'tongban', 'extendedKeyUsage=clientAuth\nkeyUsage=critical,digitalSignature\n');
  return {
    ca: f('ca.pem'),
    serverCert: f('server.pem'),
    serverKey: f('server-key.pem'),
    internalCert: f('internal.pem'),
    internalKey: f('internal-key.pem'),
    clientCert: f('client.pem'),
    clientKey: f('client-key.pem'),
  };
}

// ---------------------------------------------------------------------------------------------
// Schemas: the SQL tool's create-database, then setup-schema at 0.0 and update-schema through every
// versioned step of the module's schema/postgresql/v12/{temporal,visibility} (embedded in the tool).

type PgServer = NonNullable<TemporalClusterOptions['postgres']>;

async function createSchemas(bins: TemporalServerBinaries, server: PgServer, databases: { default: string; visibility: string }, log: (line: string) => void): Promise<void> {
  const started = Date.now();
  const common = ['--plugin', 'postgres12', '--ep', server.host, '-p', String(server.port), '-u', server.user, ...(server.password ? ['--pw', server.password] : [])];
  const steps: [string, string][] = [
    [databases.default, 'postgresql/v12/temporal'],
    [databases.visibility, 'postgresql/v12/visibility'],
  ];
  for (const [db, schema] of steps) {
    for (const args of [['create-database'], ['setup-schema', '-v', '0.0'], ['update-schema', '--schema-name', schema]]) {
      try {
        await run(bins.sqlTool, [...common, '--db', db, ...args]);
      } catch (err) {
        const e = err as { stderr?: string; stdout?: string; message: string };
        throw new Error(`temporal-sql-tool ${args[0]} on ${db} failed: ${e.message}\n${e.stderr ?? ''}${e.stdout ?? ''}`);
      }
    }
  }
  log(`Temporal databases ${databases.default}, ${databases.visibility} created with their schemas in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

async function withAdmin<T>(server: PgServer, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ host: server.host, port: server.port, user: server.user, password: server.password, database: 'postgres' });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

// ---------------------------------------------------------------------------------------------
// Config

interface Ports {
  frontend: { grpc: number; membership: number; http: number };
  history: { grpc: number; membership: number };
  matching: { grpc: number; membership: number };
  worker: { grpc: number; membership: number };
}

async function allocatePorts(): Promise<Ports> {
  const two = async () => ({ grpc: await findFreePort(), membership: await lowFreePort() });
  return { frontend: { ...(await two()), http: await findFreePort() }, history: await two(), matching: await two(), worker: await two() };
}

/**
 * A free port below 32768: the SQL schema keeps each host's membership port in a smallint
 * (cluster_membership.rpc_port), so an ephemeral port from the OS (32768–60999 on Linux) makes
 * the service die at its first heartbeat ("value … is out of range for type smallint").
 */
async function lowFreePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canBind(port)) return port;
  }
  throw new Error('no free port between 20000 and 32000');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * What the dev server sets too (the CLI's devserver/server.go), plus: the search-attribute cache
 * refreshed on read, so attributes added through the operator service a moment before the first
 * case count at once on every history host (otherwise up to a minute of rejected upserts).
 */
const DYNAMIC_CONFIG = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
frontend.namespaceRPS.visibility:
  - value: 100
history.hostLevelCacheMaxSize:
  - value: 8096
`;

function serverConfig(c: { historyShards: number; pg: PgServer; databases: { default: string; visibility: string }; ports: Ports; tls: CertificateFiles; dynamicConfigFile: string }): string {
  const store = (db: string, conns: number) => `
      sql:
        pluginName: postgres12
        databaseName: ${db}
        connectAddr: "${c.pg.host}:${c.pg.port}"
        connectProtocol: tcp
        user: ${c.pg.user}
        password: "${c.pg.password ?? ''}"
        maxConns: ${conns}
        maxIdleConns: ${conns}
        maxConnLifetime: 1h`;
  const rpc = (p: { grpc: number; membership: number; http?: number }) => `
    rpc:
      grpcPort: ${p.grpc}
      membershipPort: ${p.membership}
      bindOnLocalHost: true${p.http ? `\n      httpPort: ${p.http}` : ''}`;
  const frontendClient = `
        serverName: ${SERVER_NAME}
        rootCaFiles: ["${c.tls.ca}"]`;
  return `# Written by dev/temporal-cluster.ts for one run.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: ${c.historyShards}
  datastores:
    default:${store(c.databases.default, 20)}
    visibility:${store(c.databases.visibility, 10)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  tls:
    frontend:
      server:
        certFile: "${c.tls.serverCert}"
        keyFile: "${c.tls.serverKey}"
        clientCaFiles: ["${c.tls.ca}"]
        requireClientAuth: true
      client:${frontendClient}
    # The cluster's own services (history, worker) calling the frontend present this certificate.
    systemWorker:
      certFile: "${c.tls.internalCert}"
      keyFile: "${c.tls.internalKey}"
      client:${frontendClient}
services:
  frontend:${rpc(c.ports.frontend)}
  history:${rpc(c.ports.history)}
  matching:${rpc(c.ports.matching)}
  worker:${rpc(c.ports.worker)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "${SERVER_NAME}:${c.ports.frontend.grpc}"
dcRedirectionPolicy:
  policy: noop
publicClient:
  hostPort: "${SERVER_NAME}:${c.ports.frontend.grpc}"
dynamicConfigClient:
  filepath: "${c.dynamicConfigFile}"
  pollInterval: 10s
`;
}

// ---------------------------------------------------------------------------------------------
// Readiness

async function waitForFrontend(address: string, tls: ClusterTls, failure: () => string | null): Promise<Connection> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown = null;
  for (;;) {
    const failed = failure();
    if (failed) throw new Error(failed);
    if (Date.now() > deadline) throw new Error(`Temporal frontend at ${address} not ready after ${READY_TIMEOUT_MS / 1000} s: ${String(lastError)}`);
    let connection: Connection | null = null;
    try {
      connection = await Connection.connect({ address, tls: clientTlsConfig(tls), connectTimeout: '2s' });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (err) {
      lastError = err;
      await connection?.close().catch(() => undefined);
      await sleep(500);
    }
  }
}

/** The SDK's TLS options for the cluster's client certificate (what clients/temporal.ts builds from the env). */
export function clientTlsConfig(tls: ClusterTls) {
  return {
    serverNameOverride: tls.TEMPORAL_TLS_SERVER_NAME,
    serverRootCACertificate: fs.readFileSync(tls.TEMPORAL_TLS_CA),
    clientCertPair: { crt: fs.readFileSync(tls.TEMPORAL_TLS_CERT), key: fs.readFileSync(tls.TEMPORAL_TLS_KEY) },
  };
}

/** A fresh cluster has only temporal-system: the namespace is registered once, as an operator would. */
async function registerNamespace(connection: Connection, namespace: string, log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      return;
    } catch (err) {
      if (!isGrpcCode(err, 5 /* NOT_FOUND */)) {
        if (Date.now() > deadline) throw err;
        await sleep(500);
        continue;
      }
    }
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') });
      log(`Namespace ${namespace} registered`);
    } catch (err) {
      if (!isGrpcCode(err, 6 /* ALREADY_EXISTS */)) throw err;
    }
  }
}

/**
 * A namespace just registered is in the database but not yet in the services' namespace caches
 * (refreshed every 10 s): until then calls naming it, the operator service's included, answer
 * NOT_FOUND "Namespace … is not found".
 */
async function waitForNamespaceCache(connection: Connection, namespace: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    try {
      await connection.operatorService.listSearchAttributes({ namespace });
      return;
    } catch (err) {
      if (!isNamespaceNotFound(err) || Date.now() > deadline) throw err;
      await sleep(500);
    }
  }
}

function isNamespaceNotFound(err: unknown): boolean {
  return isGrpcCode(err, 5) && /namespace/i.test(String((err as { details?: unknown }).details));
}

/**
 * History owns the shards; until each is acquired, calls about workflows on it answer
 * Unavailable. Asking about workflows that do not exist until every answer is NOT_FOUND walks
 * the shards (ids hash across them) without writing anything.
 */
async function waitForShards(connection: Connection, namespace: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const ids = Array.from({ length: 16 }, (_, i) => `tongban-cluster-probe-${i}`);
  for (;;) {
    const results = await Promise.all(
      ids.map((workflowId) =>
        connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId } }).then(
          () => true,
          // NOT_FOUND about the workflow, not about the namespace (history's cache may lag the frontend's).
          (err: unknown) => isGrpcCode(err, 5) && !isNamespaceNotFound(err),
        ),
      ),
    );
    if (results.every(Boolean)) return;
    if (Date.now() > deadline) throw new Error('the history service did not acquire its shards in time');
    await sleep(500);
  }
}

function isGrpcCode(err: unknown, code: number): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Resolves once something accepts connections on the port; fails with `failure()`'s reason, or after the ready timeout. */
async function waitForListening(port: number, failure: () => string | null): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const reason = failure();
    if (reason) throw new Error(reason);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${READY_TIMEOUT_MS} ms`);
    await sleep(200);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { SEARCH_ATTRIBUTES } = await import('../workflows/messages.js');
  const dir = path.resolve(process.argv[2] ?? `.data/cluster-${process.pid}`);
  const cluster = await startTemporalCluster({ dir, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: (line) => process.stderr.write(`${line}\n`) });
  for (const [k, v] of Object.entries(cluster.env)) process.stdout.write(`${k}=${v}\n`);
  process.stderr.write(`Logs in ${dir}/logs. Ctrl+C stops the cluster and drops its databases.\n`);
  const stop = () => void cluster.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
