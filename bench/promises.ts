// How many promises the workflow code creates per case (docs/benchmarks.md, next step 1).
//
// The SDK's workflow runtime installs a V8 promise hook that captures and formats a stack trace for
// every promise workflow code creates (for the stack-trace query); in the 2026-12-02 profile that
// was about a third of the workflow threads' CPU. This replays recorded histories (by default the
// happy path of the current workflow code, test/fixtures/histories) and counts, with a promise hook
// of its own, the promises created in the workflow's V8 context (a replay runs the workflow code on
// the main thread, in the context the SDK gives workflows: its promises have that context's
// Promise, not this one's). A replay runs the same code as the live case, so the count is the live
// one (queries and the first run's non-replayed work aside).
//
//   npx tsx bench/promises.ts [--sites] [fixture file or branch name ...]
//
// --sites: where the promises are created (each one's first frame in workflows/ or domain/).
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { parseKeyring } from '../config/secrets.js';
import { encryptedDataConverter } from '../crypto/payloadCodec.js';
import { readManifest } from '../harness/fixtures.js';
import { workflowSourceFingerprint } from '../harness/workflowSource.js';
import { WORKFLOWS_PATH } from '../worker/workers.js';

const DIR = path.resolve('test/fixtures/histories');

export interface PromiseCount {
  file: string;
  events: number;
  workflowTasks: number;
  promises: number;
}

/** Which fixtures the arguments name: files as they are, a branch name as the current code's recordings of it. */
function fixturesFor(args: string[]): string[] {
  const current = readManifest(DIR).fixtures.filter((f) => f.workflowSource === workflowSourceFingerprint());
  const wanted = args.length > 0 ? args : ['delivery-electronic'];
  return wanted.flatMap((arg) => {
    if (arg.endsWith('.json')) return [arg];
    const named = current.filter((f) => f.branches.includes(arg)).map((f) => f.file);
    if (named.length === 0) throw new Error(`no recording of the current workflow code goes through branch ${arg}`);
    return named;
  });
}

/** With `sites`, each promise's first frame in tongban's workflow code is counted in it. */
export async function countPromises(files: string[], sites?: Map<string, number>): Promise<PromiseCount[]> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const keyring = parseKeyring(fs.readFileSync(path.join(DIR, 'fixture-keys.json'), 'utf8'), 'fixture-keys.json');
  const quiet = () => {};
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: { trace: quiet, debug: quiet, info: quiet, warn: quiet, log: quiet, error: quiet } });
  const counts: PromiseCount[] = [];
  let inWorkflow = 0;
  const stop = v8.promiseHooks.onInit((promise) => {
    if ((promise as Promise<unknown>).constructor === Promise) return;
    inWorkflow += 1;
    if (sites) {
      // The workflow context's Error: the SDK maps its stack through the bundle's source map.
      const ContextError = (promise as Promise<unknown>).constructor.constructor('return Error')() as ErrorConstructor;
      const frames = (new ContextError().stack ?? '').split('\n').slice(1);
      // Ours: the first frame in workflows/ or domain/; else the SDK's own (activations, timers, conditions).
      const ours = frames.find((f) => /workflows\/|domain\//.test(f) && !/node_modules/.test(f));
      const sdk = frames.find((f) => /@temporalio|node:vm/.test(f));
      const site = ours ? ours.trim().replace(/^at /, '').replace(/:\d+\)?$/, ')') : `(SDK) ${(sdk ?? '?').trim().replace(/^at /, '').replace(/^.*node_modules\//, '').replace(/:\d+\)?$/, ')')}`;
      sites.set(site, (sites.get(site) ?? 0) + 1);
    }
  });
  try {
    for (const file of files) {
      const json = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as { events: { eventType: string }[] };
      const history = historyFromJSON(json);
      inWorkflow = 0;
      await Worker.runReplayHistory({ workflowBundle: { code }, dataConverter: encryptedDataConverter(keyring) }, history, file);
      counts.push({
        file,
        events: json.events.length,
        workflowTasks: json.events.filter((e) => /WORKFLOW_TASK_COMPLETED|WorkflowTaskCompleted/.test(String(e.eventType))).length,
        promises: inWorkflow,
      });
    }
  } finally {
    stop();
  }
  return counts;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const sites = args.includes('--sites') ? new Map<string, number>() : undefined;
  const counts = await countPromises(fixturesFor(args.filter((a) => a !== '--sites')), sites);
  for (const c of counts) {
    console.log(`${c.file}: ${c.promises} promises in workflow code, ${c.events} history events, ${c.workflowTasks} workflow tasks (${(c.promises / c.workflowTasks).toFixed(1)} per task)`);
  }
  if (sites) {
    console.log('where they are created (first frame in workflows/ or domain/, else the first frame):');
    for (const [site, n] of [...sites].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${String(n).padStart(6)}  ${site}`);
  }
}
