// `npm start` as a new user runs it: embedded defaults, fresh data directory, every port free.
// It must come up, answer /readyz with Temporal and PostgreSQL reachable, accept a token from
// `npm run token`, and stop cleanly on Ctrl+C.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../scripts/temporal-server.js';

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

    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    // Nothing keeps listening after the stop.
    await expect(fetch(`http://127.0.0.1:${ports.PORT}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports.SIMULATOR_PORT}/_admin/provinces/510000/requests`)).rejects.toThrow();
  });
});
