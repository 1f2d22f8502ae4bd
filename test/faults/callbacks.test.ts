// Fault 5: lost and duplicated callbacks, and a simulator restart. The province loses 10 % of its
// callbacks (never sent: tongban's status poll, STATUS_POLL_AFTER_MS, has to find the event) and
// sends 10 % twice (tongban acts once: de-duplicated by event id at the callback route and again
// in the case). Mid-run the simulator stops and starts again on its state file, with reviews due
// and callbacks queued: they are rearmed and resumed. Every case completes, once.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { account, reportAndCheck, settle, simulatorRecords, type SimulatorRecords } from './support/accounting.js';
import { sleep, startFaultStack, type FaultStack } from './support/faultStack.js';
import { submitMany, type Submitted } from './support/load.js';

const CASES = 60;
const LOSS_RATE = '0.1';
const DUPLICATE_RATE = '0.1';

let stack: FaultStack;
let stateFile: string;

beforeAll(async () => {
  // The provinces' state across the restart (the SMS gateway's messages are memory only: the accounting keeps them from before).
  stateFile = path.resolve(`.data/faults/callback-faults-state-${process.pid}.json`);
  stack = await startFaultStack({
    name: 'callback-faults',
    simulatorEnv: {
      SIMULATOR_REVIEW_DELAY_MS: '1500',
      SIMULATOR_STATE_FILE: stateFile,
      SIMULATOR_CALLBACK_LOSS_RATE: LOSS_RATE,
      SIMULATOR_CALLBACK_DUPLICATE_RATE: DUPLICATE_RATE,
      SIMULATOR_CALLBACK_FAULT_SEED: String(Math.floor(Math.random() * 2 ** 31)),
    },
  });
});
afterAll(async () => {
  await stack?.stop();
  if (!process.env.FAULTS_KEEP) fs.rmSync(stateFile, { force: true });
});

describe('lost and duplicated callbacks, and a simulator restart', () => {
  it(`When ${Number(LOSS_RATE) * 100} % of callbacks are lost, ${Number(DUPLICATE_RATE) * 100} % sent twice and the simulator restarts mid-run, then every case completes once`, async () => {
    const began = Date.now();
    const load = (count: number) => submitMany({ apiUrls: stack.apiUrls, token: stack.clerk, count, concurrency: 6 });
    const cases: Submitted[] = await load(CASES / 2);
    const second = load(CASES / 2);
    // Restarted while the second half is being handed over and the first is in review.
    await sleep(2000);
    const earlier: SimulatorRecords[] = [await simulatorRecords(stack.procs.simulatorUrl)];
    const simulator = stack.procs.simulator;
    await simulator.stop();
    await sleep(2000);
    await simulator.start();
    cases.push(...(await second));

    const caseIds = cases.map((c) => c.caseId);
    await settle(stack.pool, caseIds, 5 * 60_000);
    const accounting = await account({ scenario: 'lost and duplicated callbacks, simulator restart', startedCaseIds: caseIds, client: stack.client, pool: stack.pool, simulatorUrl: stack.procs.simulatorUrl, earlier });
    // What the faults did, as tongban saw it: events that came only by a poll, repeats it ignored.
    const events = await stack.pool.query<{ via: string; n: number }>(
      `SELECT coalesce(data->>'via', '?') AS via, count(*)::int AS n FROM case_events WHERE data ? 'eventId' AND data->>'eventId' IS NOT NULL GROUP BY 1 ORDER BY 1`,
    );
    reportAndCheck(accounting, {
      callbacksLostRate: LOSS_RATE,
      callbacksDuplicatedRate: DUPLICATE_RATE,
      ...Object.fromEntries(events.rows.map((r) => [`provinceEventsVia ${r.via}`, r.n])),
      simulatorRestarts: 1,
      runSeconds: Math.round((Date.now() - began) / 1000),
    });
  });
});
