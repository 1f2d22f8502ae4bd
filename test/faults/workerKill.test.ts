// Fault 1: `kill -9` of the worker at random moments while 300 cases are in flight. The worker is
// the only process running the case workflows and the province calls; each time it dies it is
// started again at once, as a supervisor (systemd, Kubernetes) would. Temporal re-runs what the
// dead worker held: workflow tasks replay from history, activities time out and retry with the
// same idempotency keys, so every case completes, once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { account, reportAndCheck, settle } from './support/accounting.js';
import { sleep, startFaultStack, type FaultStack } from './support/faultStack.js';
import { submitMany } from './support/load.js';

// 300 as issue 10 asks; FAULTS_WORKER_KILL_CASES lowers it while working on the scenario.
const CASES = Number(process.env.FAULTS_WORKER_KILL_CASES ?? 300);
const KILLS = 3;

let stack: FaultStack;

beforeAll(async () => {
  // A quick province, so the 300 cases are all in flight within the run's minutes.
  stack = await startFaultStack({ name: 'worker-kill', simulatorEnv: { SIMULATOR_REVIEW_DELAY_MS: '300' } });
});
afterAll(async () => {
  await stack?.stop();
});

describe('kill -9 of the worker', () => {
  it(`When the worker is killed ${KILLS} times at random moments while ${CASES} cases are in flight and restarted each time, then every case completes once`, async () => {
    const began = Date.now();
    const worker = stack.procs.workers[0]!;
    // The moments: after a random number of cases were taken in (the first two while intake runs),
    // the last after a random pause once all are in, while most are still being handled.
    const thresholds = [randomInt(Math.round(CASES * 0.07), Math.round(CASES * 0.4)), randomInt(Math.round(CASES * 0.43), Math.round(CASES * 0.93))];
    let submitted = 0;
    const kills: string[] = [];
    const killAndRestart = async () => {
      const at = `${((Date.now() - began) / 1000).toFixed(1)} s (${submitted} cases in)`;
      worker.kill('SIGKILL');
      await worker.stopped();
      await sleep(randomInt(100, 1500));
      await worker.start();
      kills.push(at);
    };
    let killing: Promise<void> = Promise.resolve();
    const load = submitMany({
      apiUrls: stack.apiUrls,
      token: stack.clerk,
      count: CASES,
      concurrency: 8,
      onSubmitted: () => {
        submitted++;
        if (thresholds.includes(submitted)) killing = killing.then(killAndRestart);
      },
    });
    const cases = await load;
    await killing;
    await sleep(randomInt(500, 3000));
    await killAndRestart();
    expect(kills).toHaveLength(KILLS);

    const caseIds = cases.map((c) => c.caseId);
    await settle(stack.pool, caseIds, 8 * 60_000);
    const accounting = await account({ scenario: 'kill -9 of the worker', startedCaseIds: caseIds, client: stack.client, pool: stack.pool, simulatorUrl: stack.procs.simulatorUrl });
    reportAndCheck(accounting, { workerKills: kills.join('; '), runSeconds: Math.round((Date.now() - began) / 1000) });
  });
});

function randomInt(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}
