// Finds (or builds) the Temporal CLI that runs the local dev server.
//
// Resolution order:
//   (a) $TEMPORAL_CLI      - must be an executable file, else we fail loudly;
//   (b) `temporal` on PATH;
//   (c) the cache          - ${XDG_CACHE_HOME:-~/.cache}/tongban/temporal-<version>/temporal;
//   (d) build from source  - if `go` is on PATH: `GOBIN=<tmp> go install github.com/temporalio/cli/cmd/temporal@v<version>`,
//                            then atomically renamed into the cache (one build per machine, guarded by a lock file);
//   (e) { kind: 'sdk-download' } - let @temporalio/testing download the CLI (needs internet).
//
// Why 1.5.1: it is the newest Temporal CLI release that `go install <pkg>@<version>` accepts. From 1.6 on the CLI's
// go.mod carries a `replace` directive, and `go install pkg@version` refuses modules whose go.mod contains
// replace/exclude directives, so those releases can only be built from a git checkout.
import { spawn } from 'node:child_process';
import fsSync, { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

export type TemporalCli =
  | { kind: 'binary'; path: string; source: 'env' | 'path' | 'cache' | 'built' }
  | { kind: 'sdk-download' };

export type ResolveTemporalCliOptions = { log?: (line: string) => void };

const BINARY_NAME = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const PROGRESS_INTERVAL_MS = 15_000;
const LOCK_POLL_MS = 1_000;
/** A build that takes longer than this is presumed dead; waiters stop waiting. */
const LOCK_WAIT_LIMIT_MS = 30 * 60_000;

/** `${XDG_CACHE_HOME || ~/.cache}/tongban/temporal-<version>` */
export function temporalCliCacheDir(version: string = TEMPORAL_CLI_VERSION): string {
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'tongban', `temporal-${version}`);
}

/** Path of the cached binary (it may not exist yet). */
export function cachedTemporalCliPath(version: string = TEMPORAL_CLI_VERSION): string {
  return path.join(temporalCliCacheDir(version), BINARY_NAME);
}

const defaultLog = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export async function resolveTemporalCli(opts: ResolveTemporalCliOptions = {}): Promise<TemporalCli> {
  const log = opts.log ?? defaultLog;

  // (a) explicit override
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!(await isExecutableFile(fromEnv))) {
      throw new Error(`TEMPORAL_CLI is set to "${fromEnv}", which is not an executable file. Unset TEMPORAL_CLI or point it at a Temporal CLI binary.`);
    }
    return { kind: 'binary', path: path.resolve(fromEnv), source: 'env' };
  }

  // (b) PATH
  const onPath = await findOnPath(BINARY_NAME);
  if (onPath) return { kind: 'binary', path: onPath, source: 'path' };

  // (c) cache
  const cached = cachedTemporalCliPath();
  if (await isExecutableFile(cached)) return { kind: 'binary', path: cached, source: 'cache' };

  // (d) build with Go
  const go = await findOnPath(process.platform === 'win32' ? 'go.exe' : 'go');
  if (go) {
    const built = await buildTemporalCli(go, log);
    return { kind: 'binary', path: built.path, source: built.builtHere ? 'built' : 'cache' };
  }

  // (e) SDK download
  return { kind: 'sdk-download' };
}

export async function isExecutableFile(file: string): Promise<boolean> {
  try {
    const st = await fs.stat(file);
    if (!st.isFile()) return false;
    await fs.access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Searches $PATH ourselves (no dependency on `which`). */
export async function findOnPath(name: string): Promise<string | null> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter((d) => d.length > 0);
  for (const dir of dirs) {
    const candidate = path.resolve(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// Build from source

async function buildTemporalCli(go: string, log: (line: string) => void): Promise<{ path: string; builtHere: boolean }> {
  const cacheDir = temporalCliCacheDir();
  const target = cachedTemporalCliPath();
  await fs.mkdir(cacheDir, { recursive: true });

  const lock = await acquireBuildLock(path.join(cacheDir, '.build.lock'), target, log);
  if (lock === 'already-built') return { path: target, builtHere: false };

  try {
    // Double-checked: another process may have finished the build between our cache check and taking the lock.
    if (await isExecutableFile(target)) return { path: target, builtHere: false };
    // Leftovers of a build that was killed mid-way (we hold the lock, so nobody else is using them).
    for (const entry of await fs.readdir(cacheDir)) {
      if (entry.startsWith('.build-')) await fs.rm(path.join(cacheDir, entry), { recursive: true, force: true });
    }

    log(
      `Temporal CLI ${TEMPORAL_CLI_VERSION} not found: building it from source with Go (one-time build; ` +
        `it takes several minutes on a cold Go module/build cache). Target: ${target}`,
    );
    // Build into a temp dir inside the cache dir (same filesystem), then rename into place atomically, so nobody ever
    // sees a half-written binary.
    const tmpDir = await fs.mkdtemp(path.join(cacheDir, '.build-'));
    try {
      await runGoInstall(go, tmpDir, log);
      const builtBinary = path.join(tmpDir, BINARY_NAME);
      if (!(await isExecutableFile(builtBinary))) {
        throw new Error(`go install reported success but ${builtBinary} is missing`);
      }
      await fs.rename(builtBinary, target);
    } finally {
      await fs.rm(tmpDir, { recursive: true, force: true });
    }
    log(`Temporal CLI ${TEMPORAL_CLI_VERSION} built: ${target}`);
    return { path: target, builtHere: true };
  } finally {
    await lock.release();
  }
}

/** `GOBIN=<gobin> go install <packages>`; also builds the Temporal server (ensure-temporal-server.ts). */
export async function runGoInstall(
  go: string,
  gobin: string,
  log: (line: string) => void,
  packages: string[] = [`${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`],
  what = 'the Temporal CLI',
): Promise<void> {
  const started = Date.now();
  const tail: string[] = [];
  const TAIL_LINES = 30;
  const args = ['install', ...packages];

  await new Promise<void>((resolve, reject) => {
    // cwd = gobin: keeps any go.mod/go.work of the current directory out of the way.
    const child = spawn(go, args, {
      cwd: gobin,
      env: { ...process.env, GOBIN: gobin },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onLine = (line: string): void => {
      tail.push(line);
      if (tail.length > TAIL_LINES) tail.shift();
      log(`  [go] ${line}`);
    };
    const stdoutLines = lineSplitter(onLine);
    const stderrLines = lineSplitter(onLine);
    child.stdout.on('data', stdoutLines.push);
    child.stderr.on('data', stderrLines.push);

    const timer = setInterval(() => {
      const s = Math.round((Date.now() - started) / 1000);
      log(`  ...still building ${what} (${s}s elapsed)`);
    }, PROGRESS_INTERVAL_MS);

    // If we are killed mid-build, take go with us.
    const killChild = (): void => {
      child.kill('SIGTERM');
    };
    process.once('exit', killChild);

    child.on('error', (err) => {
      clearInterval(timer);
      process.removeListener('exit', killChild);
      reject(new Error(`could not run ${go}: ${err.message}`));
    });
    child.on('close', (code, signal) => {
      clearInterval(timer);
      process.removeListener('exit', killChild);
      stdoutLines.flush();
      stderrLines.flush();
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      if (code === 0) {
        log(`  go install finished in ${secs}s`);
        resolve();
      } else {
        reject(
          new Error(
            `Building ${what} failed: \`GOBIN=${gobin} go ${args.join(' ')}\` exited with ` +
              `${code !== null ? `code ${code}` : `signal ${signal}`} after ${secs}s. Last output:\n${tail.join('\n') || '(none)'}`,
          ),
        );
      }
    });
  });
}

/** Splits a byte stream into lines; the last partial line is emitted on flush(). */
export function lineSplitter(onLine: (line: string) => void): { push: (chunk: Buffer | string) => void; flush: () => void } {
  let buf = '';
  return {
    push: (chunk) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(/\r$/, '');
        buf = buf.slice(nl + 1);
        if (line.length > 0) onLine(line);
      }
    },
    flush: () => {
      if (buf.length > 0) onLine(buf);
      buf = '';
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Lock file: O_EXCL create; contents = owner pid. A lock whose pid is dead is stale and taken over.

export type Lock = { release: () => Promise<void> };

export async function acquireBuildLock(lockPath: string, target: string, log: (line: string) => void, what = 'the Temporal CLI'): Promise<Lock | 'already-built'> {
  const waitStarted = Date.now();
  let lastNotice = 0;
  for (;;) {
    try {
      const fh = await fs.open(lockPath, 'wx');
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      const onExit = (): void => {
        try {
          fsSync.unlinkSync(lockPath);
        } catch {
          /* ignore */
        }
      };
      process.once('exit', onExit);
      return {
        release: async () => {
          process.removeListener('exit', onExit);
          await fs.rm(lockPath, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }

    // Someone holds the lock. Stale?
    const holder = await readLockPid(lockPath);
    if (holder !== null ? !isPidAlive(holder) : await olderThan(lockPath, 10_000)) {
      log(`Removing stale build lock ${lockPath} (${holder !== null ? `pid ${holder} is gone` : 'no owner pid'}).`);
      await fs.rm(lockPath, { force: true });
      continue;
    }
    if (await isExecutableFile(target)) return 'already-built';

    const waited = Date.now() - waitStarted;
    if (waited > LOCK_WAIT_LIMIT_MS) {
      throw new Error(`Timed out after ${Math.round(waited / 60_000)} min waiting for another process (pid ${holder ?? '?'}) to build ${what}; lock file: ${lockPath}`);
    }
    if (lastNotice === 0) {
      lastNotice = Date.now();
      log(`Another process (pid ${holder ?? '?'}) is building ${what}; waiting for it (lock file ${lockPath}).`);
    } else if (Date.now() - lastNotice >= PROGRESS_INTERVAL_MS) {
      lastNotice = Date.now();
      log(`  ...still waiting for pid ${holder ?? '?'} to finish building ${what} (${Math.round(waited / 1000)}s elapsed)`);
    }
    await sleep(LOCK_POLL_MS);
    // Loop: when the holder finishes, the binary exists (-> 'already-built'); if it failed, the lock is gone and we
    // try the build ourselves.
  }
}

async function readLockPid(lockPath: string): Promise<number | null> {
  try {
    const pid = Number.parseInt((await fs.readFile(lockPath, 'utf8')).trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await fs.stat(file)).mtimeMs > ms;
  } catch {
    return false;
  }
}

export function isPidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
