// Once per `npm run test:faults`: the Temporal CLI resolved (built once if missing, so no scenario
// races to build it) and one workflow bundle that every worker process of every scenario loads
// (WORKFLOW_BUNDLE_PATH), instead of each bundling at start.
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { resolveTemporalCli } from '../../../dev/temporal-cli.js';
import { WORKFLOWS_PATH } from '../../../worker/workers.js';

export default async function setup(project: TestProject) {
  const log = (line: string) => process.stderr.write(`[faults setup] ${line}\n`);
  const [cli, { code }] = await Promise.all([resolveTemporalCli({ log }), bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger })]);
  // One file per run, so concurrent runs never read each other's half-written bundle.
  const bundlePath = path.resolve(`.data/faults/workflow-bundle-${process.pid}.js`);
  fs.mkdirSync(path.dirname(bundlePath), { recursive: true });
  fs.writeFileSync(bundlePath, code);
  project.provide('faultsBundlePath', bundlePath);
  project.provide('temporalCliPath', cli.kind === 'sdk-download' ? '' : cli.path);
  return () => fs.rmSync(bundlePath, { force: true });
}

const noop = () => {};
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: (m: string) => process.stderr.write(`${m}\n`), log: noop };

declare module 'vitest' {
  export interface ProvidedContext {
    faultsBundlePath: string;
    temporalCliPath: string;
  }
}
