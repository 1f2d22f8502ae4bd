// Records the histories the replay test guards: a happy path and a rejection, run for real on a
// fresh Temporal dev server, database and simulator, with the fixture key (test-only, made-up
// applicants). Re-record only for a deliberate change and keep the old files when a change is
// versioned with patched(): each patch adds a fixture rather than replacing one.
//   npm run histories:record
import fs from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { parseKeyring } from '../config/secrets.js';
import { migrate } from '../db/migrate.js';
import { SEARCH_ATTRIBUTES, caseWorkflowId } from '../workflows/messages.js';
import { startTemporalDevServer } from './temporal-server.js';
import { createDatabase } from '../test/support/database.js';
import { startStack } from '../test/support/stack.js';
import { submitCase } from '../test/support/cases.js';

const DIR = path.resolve('test/fixtures/histories');

async function main() {
  const keyring = parseKeyring(fs.readFileSync(path.join(DIR, 'fixture-keys.json'), 'utf8'), 'fixture-keys.json');
  const temporal = await startTemporalDevServer({ headless: true, searchAttributes: { ...SEARCH_ATTRIBUTES }, log: (l) => console.error(l) });
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
        const history = await handle.fetchHistory();
        fs.writeFileSync(path.join(DIR, run.file), JSON.stringify(JSON.parse(historyToJSON(history)), null, 1) + '\n');
        console.log(`recorded ${run.file} (${history.events?.length ?? 0} events)`);
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
