// `npm run temporal:ensure`: resolves the Temporal CLI (building it from source if needed, see temporal-cli.ts) and
// prints its absolute path on stdout - and nothing else there, so `TEMPORAL_CLI=$(npx tsx dev/ensure-temporal.ts)`
// works. Progress and diagnostics go to stderr. Exit 1 on failure.
//
// When no binary can be found or built (no Go toolchain), stdout stays empty, a warning explains that the tests will
// fall back to the SDK's download of the CLI (needs internet), and the exit code is 0.
import { resolveTemporalCli } from './temporal-cli.js';

try {
  const cli = await resolveTemporalCli({ log: (line) => process.stderr.write(`${line}\n`) });
  if (cli.kind === 'binary') {
    process.stderr.write(`Temporal CLI (${cli.source}): ${cli.path}\n`);
    process.stdout.write(`${cli.path}\n`);
  } else {
    process.stderr.write(
      'warning: no Temporal CLI binary (TEMPORAL_CLI unset, no `temporal` on PATH, none cached, no Go toolchain to build one); ' +
        'the dev server will be downloaded by @temporalio/testing at run time, which needs internet access.\n',
    );
  }
} catch (err) {
  process.stderr.write(`temporal:ensure failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
