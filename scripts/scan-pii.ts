// `npm run scan:pii -- <target>…`: looks for applicants' names, identity numbers, phones and
// addresses in clear (harness/piiScan.ts). A target is a PostgreSQL connection string
// (postgres://…: every text, json, bytea and array column of every table), a SQLite file (the
// Temporal dev server's persistence), a pg_dump, or a log file; a directory means the log files
// under it. Prints each finding with its location and the value masked; exits 1 on any finding,
// 2 on a usage error.
import fs from 'node:fs';
import { collectKnownPii, formatFindings, logFilesUnder, scanTarget, type PiiFinding } from '../harness/piiScan.js';

const USAGE = 'usage: npm run scan:pii -- <postgres://…|file.sqlite|dump.sql|file.log|directory>…';

async function main(): Promise<number> {
  const targets = process.argv.slice(2).filter((a) => a !== '--');
  if (targets.length === 0 || targets.some((t) => t === '-h' || t === '--help')) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const known = collectKnownPii();
  const findings: PiiFinding[] = [];
  for (const target of targets) {
    const isDsn = /^postgres(ql)?:\/\//.test(target);
    if (!isDsn && !fs.existsSync(target)) {
      process.stderr.write(`no such file or directory: ${target}\n${USAGE}\n`);
      return 2;
    }
    const files = !isDsn && fs.statSync(target).isDirectory() ? logFilesUnder(target) : [target];
    for (const file of files) {
      const found = await scanTarget(file, known);
      process.stdout.write(`scanned ${isDsn ? target.replace(/\/\/[^@/]*@/, '//…@') : file}: ${found.length} finding(s)\n`);
      findings.push(...found);
    }
  }
  process.stdout.write(`${formatFindings(findings)}\n`);
  return findings.length ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`scan-pii: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
