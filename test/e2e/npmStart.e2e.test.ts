// `npm start` as a new user runs it: embedded defaults, fresh data directory, every port free.
// It must come up, answer /readyz with Temporal and PostgreSQL reachable, accept a token from
// `npm run token`, bring PostgreSQL back by itself after it is killed, and stop cleanly on
// Ctrl+C, leaving no server behind.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../dev/temporal-server.js';

const run = promisify(execFile);
let child: ChildProcess | null = null;
let dataDir = '';

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

function waitForLine(proc: ChildProcess, pattern: RegExp, timeoutMs: number, output: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      const line = output.join('').split('\n').find((l) => pattern.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    proc.stdout?.on('data', onData);
    proc.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output.join('')}`));
    });
  });
}

/** Whether anything accepts a TCP connection on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Live processes whose command line mentions `needle` (Linux /proc). */
function processesMentioning(needle: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      const state = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^\d+ \(.*\) /, '')[0];
      if (cmdline.includes(needle) && state !== 'Z') found.push(`${pid}: ${cmdline}`);
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

async function until<T>(read: () => Promise<T> | T, done: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('npm start', () => {
  it('When started with no configuration, then everything comes up, answers ready, and stops on SIGINT', async () => {
    fs.mkdirSync(path.resolve('.data/test'), { recursive: true });
    dataDir = fs.mkdtempSync(path.resolve('.data/test/npm-start-'));
    const ports = { PORT: await findFreePort(), TEMPORAL_PORT: await findFreePort(), TEMPORAL_UI_PORT: await findFreePort(), EMBEDDED_PG_PORT: await findFreePort(), SIMULATOR_PORT: await findFreePort() };
    const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
    delete env.DATABASE_URL;
    delete env.TEMPORAL_ADDRESS;
    delete env.PROVINCES;
    const output: string[] = [];
    child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });

    await waitForLine(child, /press Ctrl\+C to stop/, 120_000, output);
    const printed = output.join('');
    expect(printed).toContain(`http://127.0.0.1:${ports.PORT}/docs`);
    expect(printed).toContain(`Web UI: http://`);
    expect(printed).toMatch(/PostgreSQL\s+postgres:\/\/postgres:\*\*\*@127\.0\.0\.1/);

    const ready = await fetch(`http://127.0.0.1:${ports.PORT}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: 'ok', temporal: 'ok' } });

    // The development token from `npm run token` is signed with the key this start generated.
    const { stdout: token } = await run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--role', 'clerk', '--region', '440100'], { env });
    const items = await fetch(`http://127.0.0.1:${ports.PORT}/v1/items`, { headers: { authorization: `Bearer ${token.trim()}` } });
    expect(items.status).toBe(200);
    expect(fs.existsSync(path.join(dataDir, 'keys', 'dev-secrets.json'))).toBe(true);
    expect(fs.existsSync(path.join(dataDir, 'temporal', 'dev.sqlite'))).toBe(true);

    // PostgreSQL killed outright: the watchdog starts it again and /readyz recovers by itself.
    const pidFile = path.join(dataDir, 'postgres', 'postmaster.pid');
    const postmaster = Number.parseInt(fs.readFileSync(pidFile, 'utf8').split('\n')[0]!, 10);
    process.kill(postmaster, 'SIGKILL');
    await until(() => output.join(''), (o) => o.includes('PostgreSQL restarted'), 60_000, 'the watchdog to restart PostgreSQL');
    expect(output.join('')).toContain('PostgreSQL is not running; restarting it');
    expect(Number.parseInt(fs.readFileSync(pidFile, 'utf8').split('\n')[0]!, 10)).not.toBe(postmaster);
    await until(
      async () => (await fetch(`http://127.0.0.1:${ports.PORT}/readyz`)).status,
      (status) => status === 200,
      30_000,
      '/readyz to be ready again after the restart',
    );

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Nothing keeps listening after the stop, and no server process is left.
    await expect(fetch(`http://127.0.0.1:${ports.PORT}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.SIMULATOR_PORT}/_admin/provinces/510000/requests`)).rejects.toThrow();
    for (const [name, port] of Object.entries(ports)) expect(await listening(port), `${name} ${port} still listening`).toBe(false);
    expect(processesMentioning(path.join(dataDir, 'temporal'))).toEqual([]);
    expect(processesMentioning(path.join(dataDir, 'postgres'))).toEqual([]);
  });
});
