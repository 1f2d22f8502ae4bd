// The manifest of recorded replay fixtures (test/fixtures/histories/manifest.json): which branch
// of the case workflow each history covers and the workflow-code fingerprint it was recorded on.
// Written by scripts/record-histories.ts, read by the replay test.
import fs from 'node:fs';
import path from 'node:path';

export interface FixtureEntry {
  file: string;
  /** Branches of the workflow the history goes through (see REQUIRED_BRANCHES in the replay test). */
  branches: string[];
  /** harness/workflowSource.ts fingerprint of the code that recorded it; `legacy` before fingerprints. */
  workflowSource: string;
  /** Patch ids the recording code knew (their markers are in the history). */
  patches: string[];
  /** Patches whose old branch this history takes (recorded on code from before them). */
  oldBranchOf?: string[];
  outcome: string;
  recordedAt: string;
}

export interface FixtureManifest {
  fixtures: FixtureEntry[];
}

export function readManifest(dir: string): FixtureManifest {
  const file = path.join(dir, 'manifest.json');
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as FixtureManifest) : { fixtures: [] };
}

export function writeManifest(dir: string, manifest: FixtureManifest): void {
  const sorted = { fixtures: [...manifest.fixtures].sort((a, b) => a.file.localeCompare(b.file)) };
  fs.writeFileSync(path.join(dir, 'manifest.json'), `${JSON.stringify(sorted, null, 2)}\n`);
}
