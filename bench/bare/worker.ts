// The bare twin's worker process (bench/bare/workflows.ts): the twin's workflow queue, its
// province queue and a callback receiver that turns each province callback into a signal, as
// tongban's worker and api do for a case. Started by bench/run.ts; configured by environment:
//   TEMPORAL_ADDRESS, BARE_PROVINCES (JSON [{code, baseUrl, secret}]), BARE_MATERIALS_DIR,
//   BARE_CALLBACK_PORT, BARE_PROVINCE_RATE_LIMIT (activities per second per province queue), and
//   tongban's TEMPORAL_TLS_* variables for a cluster that requires TLS.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { temporalConnectionOptions } from '../../clients/temporal.js';
import { provinceEventSchema } from '../../contracts/province.js';
import { createBareLocalActivities, createBareProvinceActivities } from './activities.js';

export const BARE_CASE_QUEUE = 'bare-case';
export const bareWorkflowId = (caseId: string) => `bare-${caseId}`;

async function main() {
  const address = required('TEMPORAL_ADDRESS');
  const provinces = JSON.parse(required('BARE_PROVINCES')) as { code: string; baseUrl: string; secret: string }[];
  const rateLimit = Number(process.env.BARE_PROVINCE_RATE_LIMIT ?? 1000);
  const options = temporalConnectionOptions(address, process.env);
  const connection = await NativeConnection.connect(options);
  const workflowsPath = fileURLToPath(new URL('./workflows.ts', import.meta.url));
  const workers = [
    await Worker.create({ connection, taskQueue: BARE_CASE_QUEUE, workflowsPath, activities: createBareLocalActivities() }),
    ...(await Promise.all(
      provinces.map((p) =>
        Worker.create({
          connection,
          taskQueue: `bare-province-${p.code}`,
          activities: createBareProvinceActivities(provinces, required('BARE_MATERIALS_DIR')),
          maxTaskQueueActivitiesPerSecond: rateLimit,
        }),
      ),
    )),
  ];
  const client = new Client({ connection: await Connection.connect(options) });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parsed = provinceEventSchema.safeParse(safeJson(Buffer.concat(chunks).toString()));
      if (!parsed.success) return void res.writeHead(400).end();
      client.workflow
        .getHandle(bareWorkflowId(parsed.data.caseId))
        .signal('provinceEvent', { type: parsed.data.type, eventId: parsed.data.eventId })
        .then(
          () => res.writeHead(204).end(),
          () => res.writeHead(503).end(),
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(Number(required('BARE_CALLBACK_PORT')), '127.0.0.1', resolve));
  const stop = () => workers.forEach((w) => w.getState() === 'RUNNING' && w.shutdown());
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  console.log('bare worker running');
  await Promise.all(workers.map((w) => w.run()));
  server.close();
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
