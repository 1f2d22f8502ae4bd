// The Temporal server itself (not the CLI's dev server): the `server` binary and its SQL schema
// tool, built from the Go module go.temporal.io/server at the version the CLI 1.5.1 embeds, for the
// production-shape run (dev/temporal-cluster.ts). Cached under
// ${XDG_CACHE_HOME:-~/.cache}/tongban/temporal-server-<version>/, never in the repository. The
// build shares temporal-cli.ts's machinery: one build per machine behind its lock file, built in
// a temp dir and renamed into place, Go's output and a progress line every 15 s.
//
// The schema tool carries the module's schema/ folder embedded (schema/embed.go), so
// `--schema-name postgresql/v12/temporal` reads the very files of the module's
// schema/postgresql/v12/ and the cache needs nothing from the Go module cache once built.
//
// `npx tsx dev/ensure-temporal-server.ts` builds if needed and prints the cache directory on
// stdout (progress on stderr); exit 1 on failure.
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { acquireBuildLock, findOnPath, isExecutableFile, runGoInstall, temporalCliCacheDir } from './temporal-cli.js';

export const TEMPORAL_SERVER_VERSION = '1.29.1';
const SERVER_PACKAGE = 'go.temporal.io/server/cmd/server';
const SQL_TOOL_PACKAGE = 'go.temporal.io/server/cmd/tools/sql';

export interface TemporalServerBinaries {
  /** `server --root … --config … --env … start --service <name>` */
  server: string;
  /** `sql --plugin postgres12 … setup-schema | update-schema | create-database` */
  sqlTool: string;
  source: 'cache' | 'built';
}

/** `${XDG_CACHE_HOME || ~/.cache}/tongban/temporal-server-<version>` (beside the CLI's cache folder). */
export function temporalServerCacheDir(version = TEMPORAL_SERVER_VERSION): string {
  return path.join(path.dirname(temporalCliCacheDir()), `temporal-server-${version}`);
}

function cachedBinaries(): { server: string; sqlTool: string } {
  const dir = temporalServerCacheDir();
  return { server: path.join(dir, 'temporal-server'), sqlTool: path.join(dir, 'temporal-sql-tool') };
}

/** The cached binaries, building both with Go first if the cache lacks them. */
export async function resolveTemporalServer(opts: { log?: (line: string) => void } = {}): Promise<TemporalServerBinaries> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const target = cachedBinaries();
  // The server binary is renamed into place last, so its presence means both are there.
  if ((await isExecutableFile(target.server)) && (await isExecutableFile(target.sqlTool))) return { ...target, source: 'cache' };
  const go = await findOnPath(process.platform === 'win32' ? 'go.exe' : 'go');
  if (!go) throw new Error(`No Temporal server ${TEMPORAL_SERVER_VERSION} in ${temporalServerCacheDir()} and no Go toolchain on PATH to build it.`);

  const cacheDir = temporalServerCacheDir();
  await fs.mkdir(cacheDir, { recursive: true });
  const what = `the Temporal server ${TEMPORAL_SERVER_VERSION}`;
  const lock = await acquireBuildLock(path.join(cacheDir, '.build.lock'), target.server, log, what);
  if (lock === 'already-built') return { ...target, source: 'cache' };
  try {
    if ((await isExecutableFile(target.server)) && (await isExecutableFile(target.sqlTool))) return { ...target, source: 'cache' };
    for (const entry of await fs.readdir(cacheDir)) {
      if (entry.startsWith('.build-')) await fs.rm(path.join(cacheDir, entry), { recursive: true, force: true });
    }
    log(`${what} not cached: building it and its SQL tool with Go (several minutes on a cold build cache). Target: ${cacheDir}`);
    const tmpDir = await fs.mkdtemp(path.join(cacheDir, '.build-'));
    try {
      const started = Date.now();
      // One `go install` for both: they are packages of the same module at the same version.
      await runGoInstall(go, tmpDir, log, [`${SERVER_PACKAGE}@v${TEMPORAL_SERVER_VERSION}`, `${SQL_TOOL_PACKAGE}@v${TEMPORAL_SERVER_VERSION}`], what);
      // go install names binaries after their package folder: `server` and `sql`.
      await fs.rename(path.join(tmpDir, 'sql'), target.sqlTool);
      await fs.rename(path.join(tmpDir, 'server'), target.server);
      log(`${what} built in ${((Date.now() - started) / 1000).toFixed(0)} s: ${cacheDir}`);
    } finally {
      await fs.rm(tmpDir, { recursive: true, force: true });
    }
    return { ...target, source: 'built' };
  } finally {
    await lock.release();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    const bins = await resolveTemporalServer();
    process.stderr.write(`Temporal server ${TEMPORAL_SERVER_VERSION} (${bins.source}): ${bins.server}, SQL tool: ${bins.sqlTool}\n`);
    process.stdout.write(`${temporalServerCacheDir()}\n`);
  } catch (err) {
    process.stderr.write(`ensure-temporal-server failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
