// Starts a local Temporal dev server (`temporal server start-dev`) for development and tests.
//
// With a CLI binary (see temporal-cli.ts) we spawn it ourselves; otherwise we fall back to @temporalio/testing's
// TestWorkflowEnvironment.createLocal, which downloads the same CLI release (needs internet).
//
// Search attributes: start-dev registers `--search-attribute` only when it creates a fresh database. On a restart with
// an existing --db-filename it accepts the flags but silently skips attributes that are new since the first start
// (verified with CLI 1.5.1). So after the server is ready we always list the namespace's custom attributes and add the
// missing ones through the operator service; an attribute that exists with a different type is an error.
import { spawn } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { TEMPORAL_CLI_VERSION, isPidAlive, lineSplitter, resolveTemporalCli, type TemporalCli } from './temporal-cli.js';

export type SearchAttributeTypeName = 'Keyword' | 'Text' | 'Int' | 'Double' | 'Bool' | 'Datetime' | 'KeywordList';

export type TemporalDevServerOptions = {
  /** SQLite file for persistent state; omitted = in-memory (state lost when the server stops). */
  dbFile?: string;
  /** Default 127.0.0.1. */
  ip?: string;
  /** gRPC frontend port; 0/undefined = pick a free one. */
  port?: number;
  /** Web UI port; 0/undefined = pick a free one. Ignored when headless. */
  uiPort?: number;
  headless?: boolean;
  /** Created at startup. Default "default". */
  namespace?: string;
  searchAttributes: Record<string, SearchAttributeTypeName>;
  uiCodecEndpoint?: string;
  /** Dynamic config values (`--dynamic-config-value key=value`, value as JSON), e.g. the benchmark's pinned settings. */
  dynamicConfig?: Record<string, string | number | boolean>;
  log?: (line: string) => void;
  /** Pre-resolved CLI; resolved with resolveTemporalCli() when omitted. */
  cli?: TemporalCli;
};

export type TemporalDevServer = {
  /** host:port of the gRPC frontend. */
  address: string;
  uiUrl: string | null;
  namespace: string;
  /** SIGTERM, SIGKILL after a grace period: bounded, and a no-op for a server that already exited. */
  stop(): Promise<void>;
  /** Last resort on a forced exit: SIGKILL the server now. */
  kill(): void;
};

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const TAIL_LINES = 40;

/** temporal.api.enums.v1.IndexedValueType (numbers from the proto; kept here to avoid a direct @temporalio/proto dependency). */
const INDEXED_VALUE_TYPE: Record<SearchAttributeTypeName, number> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const log = opts.log ?? (() => undefined);
  const ip = opts.ip ?? '127.0.0.1';
  const namespace = opts.namespace ?? 'default';
  const headless = opts.headless ?? false;
  for (const [name, type] of Object.entries(opts.searchAttributes)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`Invalid search attribute name "${name}" (must be an identifier)`);
    if (!(type in INDEXED_VALUE_TYPE)) throw new Error(`Invalid type "${String(type)}" for search attribute ${name}`);
  }
  const dbFile = opts.dbFile ? path.resolve(opts.dbFile) : undefined;
  if (dbFile) {
    await fs.mkdir(path.dirname(dbFile), { recursive: true });
    await killOrphanedServer(dbFile, log);
  }

  const cli = opts.cli ?? (await resolveTemporalCli({ log }));
  const port = opts.port || (await findFreePort(ip));
  const uiPort = headless ? null : opts.uiPort || (await findFreePort(ip));
  const searchAttributeArgs = Object.entries(opts.searchAttributes).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]);
  const codecArgs = opts.uiCodecEndpoint ? ['--ui-codec-endpoint', opts.uiCodecEndpoint] : [];
  const dynamicConfigArgs = Object.entries(opts.dynamicConfig ?? {}).flatMap(([key, value]) => ['--dynamic-config-value', `${key}=${JSON.stringify(value)}`]);

  if (cli.kind === 'sdk-download') {
    log(`No Temporal CLI binary; using @temporalio/testing's download of CLI v${TEMPORAL_CLI_VERSION} (needs internet).`);
    const { TestWorkflowEnvironment } = await import('@temporalio/testing');
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download', version: `v${TEMPORAL_CLI_VERSION}` },
        ip,
        port,
        ui: !headless,
        ...(uiPort !== null ? { uiPort } : {}),
        ...(dbFile ? { dbFilename: dbFile } : {}),
        namespace,
        log: { format: 'pretty', level: 'warn' },
        extraArgs: [...searchAttributeArgs, ...codecArgs, ...dynamicConfigArgs],
      },
    });
    try {
      await ensureSearchAttributes(env.connection, namespace, opts.searchAttributes, log);
    } catch (err) {
      await env.teardown();
      throw err;
    }
    let stopped: Promise<void> | null = null;
    return {
      address: env.address,
      uiUrl: uiPort !== null ? `http://${ip}:${uiPort}` : null,
      namespace,
      stop: () => (stopped ??= env.teardown()),
      kill: () => void env.teardown().catch(() => undefined),
    };
  }

  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    ...(uiPort !== null ? ['--ui-port', String(uiPort)] : ['--headless']),
    '--namespace',
    namespace,
    ...(dbFile ? ['--db-filename', dbFile] : []),
    ...searchAttributeArgs,
    '--log-level',
    'warn',
    ...codecArgs,
    ...dynamicConfigArgs,
  ];
  const address = `${ip}:${port}`;
  log(`Starting Temporal dev server (${cli.source}: ${cli.path}) on ${address}${dbFile ? `, db ${dbFile}` : ' (in-memory)'}`);

  const child = spawn(cli.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  // Once we are stopping, the server's shutdown chatter (dial errors, failed polls of its internal workers) is noise:
  // keep it in the tail but stop forwarding it.
  let stopping = false;
  const onLine = (line: string): void => {
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
    if (!stopping) log(`[temporal] ${line}`);
  };
  const out = lineSplitter(onLine);
  const errOut = lineSplitter(onLine);
  child.stdout?.on('data', out.push);
  child.stderr?.on('data', errOut.push);

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      out.flush();
      errOut.flush();
      resolve();
    });
  });
  let spawnError: Error | null = null;
  child.once('error', (err) => {
    spawnError = err;
  });

  // Never leave an orphaned server behind when this process exits.
  const killOnExit = (): void => {
    if (exitInfo === null) child.kill('SIGTERM');
  };
  process.on('exit', killOnExit);
  const pidFile = dbFile ? `${dbFile}.pid` : null;
  if (pidFile && child.pid !== undefined) await fs.writeFile(pidFile, `${child.pid}\n`);

  const stop = async (): Promise<void> => {
    stopping = true;
    process.removeListener('exit', killOnExit);
    if (exitInfo === null && spawnError === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      // Bounded even if 'exit' never arrives (it should after SIGKILL): never wait forever.
      let giveUp: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise<void>((r) => (giveUp = setTimeout(r, STOP_GRACE_MS + 2_000)))]);
      clearTimeout(timer);
      clearTimeout(giveUp);
    }
    if (pidFile) await fs.rm(pidFile, { force: true });
  };

  try {
    const connection = await waitUntilReady(address, namespace, () => {
      if (spawnError) return `could not start ${cli.path}: ${(spawnError as Error).message}`;
      if (exitInfo) {
        const { code, signal } = exitInfo;
        return `temporal server start-dev exited early (${code !== null ? `code ${code}` : `signal ${signal}`}). Last output:\n${tail.join('\n') || '(none)'}`;
      }
      return null;
    });
    try {
      await ensureSearchAttributes(connection, namespace, opts.searchAttributes, log);
    } finally {
      await connection.close();
    }
  } catch (err) {
    await stop();
    throw err;
  }

  let stopped: Promise<void> | null = null;
  return {
    address,
    uiUrl: uiPort !== null ? `http://${ip}:${uiPort}` : null,
    namespace,
    stop: () => (stopped ??= stop()),
    kill: () => {
      if (exitInfo === null) child.kill('SIGKILL');
    },
  };
}

async function waitUntilReady(address: string, namespace: string, failure: () => string | null): Promise<Connection> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let lastError: unknown = null;
  for (;;) {
    const failed = failure();
    if (failed) throw new Error(failed);
    if (Date.now() > deadline) {
      throw new Error(`Temporal dev server at ${address} not ready after ${READY_TIMEOUT_MS / 1000}s: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
    }
    let connection: Connection | null = null;
    try {
      connection = await Connection.connect({ address, connectTimeout: '2s' });
      await connection.workflowService.describeNamespace({ namespace });
      return connection;
    } catch (err) {
      lastError = err;
      await connection?.close().catch(() => undefined);
      await sleep(250);
    }
  }
}

/** Adds the wanted custom search attributes the namespace lacks (dev-temporal-cluster.ts uses it too). */
export async function ensureSearchAttributes(connection: Connection, namespace: string, wanted: Record<string, SearchAttributeTypeName>, log: (line: string) => void): Promise<void> {
  if (Object.keys(wanted).length === 0) return;
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const existing = customAttributes ?? {};
  const missing: Record<string, number> = {};
  for (const [name, type] of Object.entries(wanted)) {
    const have = existing[name];
    if (have === undefined || have === null) {
      missing[name] = INDEXED_VALUE_TYPE[type];
    } else if (Number(have) !== INDEXED_VALUE_TYPE[type]) {
      const haveName = Object.entries(INDEXED_VALUE_TYPE).find(([, v]) => v === Number(have))?.[0] ?? String(have);
      throw new Error(`Search attribute ${name} is registered in namespace ${namespace} as ${haveName}, but ${type} is wanted. Use a fresh dbFile (or rename the attribute).`);
    }
  }
  if (Object.keys(missing).length === 0) return;
  log(`Registering search attributes missing from namespace ${namespace}: ${Object.keys(missing).join(', ')}`);
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
}

/**
 * A server orphaned by an earlier run (its parent was SIGKILLed, so its 'exit' hook never ran) still holds the SQLite
 * file. The pid file next to the db tells us about it; kill it if it is still a temporal process.
 */
async function killOrphanedServer(dbFile: string, log: (line: string) => void): Promise<void> {
  const pidFile = `${dbFile}.pid`;
  let pid: number;
  try {
    pid = Number.parseInt((await fs.readFile(pidFile, 'utf8')).trim(), 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && isPidAlive(pid)) {
    let cmdline = '';
    try {
      cmdline = fsSync.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      /* not Linux, or gone */
    }
    if (cmdline.includes('start-dev') && cmdline.includes(dbFile)) {
      log(`Stopping orphaned Temporal dev server (pid ${pid}) left over from an earlier run on ${dbFile}`);
      process.kill(pid, 'SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while (isPidAlive(pid) && Date.now() < deadline) await sleep(100);
      if (isPidAlive(pid)) {
        process.kill(pid, 'SIGKILL');
        await sleep(500);
      }
    }
  }
  await fs.rm(pidFile, { force: true });
}

/** Binds an ephemeral port, reads it, releases it. (Racy by nature, but fine for a dev machine.) */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not determine a free port'))));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
