// Records the histories the replay test guards: a happy path and a rejection, run for real on a
// fresh Temporal dev server, database and simulator, with the fixture key (test-only, made-up
// applicants). Re-record only for a deliberate change and keep the old files when a change is
// versioned with patched(): each patch adds a fixture rather than replacing one.
//   npm run histories:record
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { parseKeyring } from '../config/secrets.js';
import { migrate } from '../db/migrate.js';
import { SEARCH_ATTRIBUTES, caseWorkflowId } from '../workflows/messages.js';
import { startTemporalDevServer } from './temporal-server.js';
import { resolveTemporalCli } from './temporal-cli.js';
import { createDatabase } from '../test/support/database.js';
import { startStack } from '../test/support/stack.js';
import { submitCase } from '../test/support/cases.js';

const DIR = path.resolve('test/fixtures/histories');

async function main() {
  const keyring = parseKeyring(fs.readFileSync(path.join(DIR, 'fixture-keys.json'), 'utf8'), 'fixture-keys.json');
  const cli = await resolveTemporalCli({ log: (l) => console.error(l) });
  if (cli.kind !== 'binary') throw new Error('recording needs the temporal CLI binary (npm run temporal:ensure)');
  const temporal = await startTemporalDevServer({ cli, headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: () => {} });
  const db = await createDatabase('tongban_record');
  try {
    await migrate(db.url);
    const stack = await startStack({ temporalAddress: temporal.address, databaseUrl: db.url, payloadKeys: keyring });
    try {
      const clerk = await stack.token('clerk', '440100');
      stack.simulator.addRule({ match: { applicantName: '历史驳回' }, scenario: 'reject' });
      const runs = [
        { file: 'case-approved-electronic.json', opts: { applicantName: '历史通过', delivery: { method: 'electronic' as const } } },
        { file: 'case-rejected.json', opts: { applicantName: '历史驳回', delivery: { method: 'electronic' as const } } },
      ];
      for (const run of runs) {
        const sub = await submitCase(stack.apiUrl, clerk, run.opts);
        if (sub.status !== 201) throw new Error(`submit failed: ${sub.status} ${JSON.stringify(sub.body)}`);
        const handle = stack.client.workflow.getHandle(caseWorkflowId(sub.body.caseId));
        await handle.result();
        // The CLI's JSON is the format every Temporal SDK's replayer reads.
        const json = execFileSync(cli.path, ['workflow', 'show', '--address', temporal.address, '--workflow-id', handle.workflowId, '--output', 'json'], { maxBuffer: 64 * 1024 * 1024 }).toString();
        const events = (JSON.parse(json) as { events: unknown[] }).events.length;
        fs.writeFileSync(path.join(DIR, run.file), json.endsWith('\n') ? json : `${json}\n`);
        console.log(`recorded ${run.file} (${events} events)`);
      }
    } finally {
      await stack.stop();
    }
  } finally {
    await db.drop();
    await temporal.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
