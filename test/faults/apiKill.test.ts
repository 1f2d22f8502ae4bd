// Fault 2: `kill -9` of an api instance mid-intake. Two instances take cases; one is killed while
// requests are in flight on it (its uploads and intakes cut off at any point: before the key was
// recorded, between the workflow's start and the case row, after the answer was written but not
// read). Each client that loses its connection sends the same request, with the same
// Idempotency-Key, to the other instance. Intake derives the case id from the key, so every key
// ends as exactly one case; the killed instance is started again on its port (the cases it took
// are called back there).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, reportAndCheck, settle } from './support/accounting.js';
import { sleep, startFaultStack, type FaultStack } from './support/faultStack.js';
import { submitMany } from './support/load.js';

const CASES = 60;
const KILLS = 2;

let stack: FaultStack;

beforeAll(async () => {
  stack = await startFaultStack({ name: 'api-kill', apis: 2, simulatorEnv: { SIMULATOR_REVIEW_DELAY_MS: '300' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('kill -9 of an api instance', () => {
  it(`When an api instance is killed ${KILLS} times mid-intake and clients retry with the same keys on the other, then each key is exactly one case`, async () => {
    const began = Date.now();
    const victim = stack.procs.apis[0]!;
    let submitted = 0;
    const thresholds = [randomInt(8, 25), randomInt(30, 50)];
    const kills: string[] = [];
    let killing: Promise<void> = Promise.resolve();
    const killAndRestart = async () => {
      kills.push(`${((Date.now() - began) / 1000).toFixed(1)} s (${submitted} cases in)`);
      victim.kill('SIGKILL');
      await victim.stopped();
      // Down long enough for clients to hit the dead port and go to the other instance.
      await sleep(randomInt(1000, 3000));
      await victim.start();
    };
    const cases = await submitMany({
      apiUrls: stack.apiUrls,
      token: stack.clerk,
      count: CASES,
      // Many requests in flight, so a kill cuts several off.
      concurrency: 12,
      onSubmitted: () => {
        submitted++;
        if (thresholds.includes(submitted)) killing = killing.then(killAndRestart);
      },
    });
    await killing;
    expect(kills).toHaveLength(KILLS);
    const retried = cases.filter((c) => c.attempts > 1).length;
    // The kills must have cut requests off, or this proves nothing.
    expect(cases.reduce((n, c) => n + c.retries, 0), 'no request was retried: the kills missed every one').toBeGreaterThan(0);

    const caseIds = cases.map((c) => c.caseId);
    await settle(stack.pool, caseIds, 5 * 60_000);
    const accounting = await account({ scenario: 'kill -9 of an api instance mid-intake', startedCaseIds: caseIds, client: stack.client, pool: stack.pool, simulatorUrl: stack.procs.simulatorUrl });
    // One case per key: as many distinct case ids as keys, and as many recorded intakes.
    const keys = new Set(cases.map((c) => c.idempotencyKey)).size;
    const intakes = await stack.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM intake_requests');
    reportAndCheck(accounting, { idempotencyKeys: keys, intakeRecords: intakes.rows[0]!.n, intakesRetried: retried, requestsRetried: cases.reduce((n, c) => n + c.retries, 0), apiKills: kills.join('; '), runSeconds: Math.round((Date.now() - began) / 1000) });
    expect(accounting.started).toBe(keys);
    expect(intakes.rows[0]!.n).toBe(keys);
  });
});

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
