// Replays recorded histories against the current workflow code: a change that would make an
// old case take a different path (non-determinism) fails here, before it reaches a worker. And a
// change to workflow code fails here until histories of the new shape are recorded
// (npm run histories:record), so every branch, and both sides of every patched(), stays guarded.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { parseKeyring } from '../../config/secrets.js';
import { encryptedDataConverter } from '../../crypto/payloadCodec.js';
import { readManifest } from '../../harness/fixtures.js';
import { workflowPatchIds, workflowSourceFingerprint } from '../../harness/workflowSource.js';

const DIR = path.resolve('test/fixtures/histories');
const keyring = parseKeyring(fs.readFileSync(path.join(DIR, 'fixture-keys.json'), 'utf8'), 'fixture-keys.json');
const files = fs.readdirSync(DIR).filter((f) => f.startsWith('case-') && f.endsWith('.json')).sort();
const manifest = readManifest(DIR);

/** The branches of the workflows (the case's, and a liaison message's forwarding) that recordings of the current code must go through. */
const REQUIRED_BRANCHES = [
  'delivery-electronic',
  'delivery-mail',
  'delivery-mail-returned',
  'delivery-clock-overdue',
  'consultation-requested-at-intake',
  'delivery-window',
  'rejection',
  'intervention-retry',
  'status-poll',
  'withdrawal-during-transfer',
  'withdrawal-during-review',
  'withdrawal-refused',
  // Four-eyes staff actions (workflows/case/reroute.ts, the offline steps of workflows/case/transfer.ts).
  'reroute-in-transfer',
  'reroute-before-transfer',
  'record-offline',
  'correction-receiving',
  'correction-handling',
  'correction-rounds-exceeded',
  'supplement-expired',
  'acceptance-deemed',
  'procedure',
  'extension',
  'sla-warning',
  'sla-overdue',
  // 多地联办 (workflows/case/joint.ts, workflows/joint/participantWorkflow.ts).
  'joint-approved',
  'joint-rejected',
  'joint-compensation-revoke',
  'joint-participant-correction',
  'joint-participant-overdue',
  'joint-withdrawal',
  'participant-approved',
  'participant-rejected',
  'participant-correction',
  'participant-stopped',
  // 免提交 at precheck (workflows/case/sharedData.ts).
  'shared-data-fetched',
  'shared-data-no-record',
  // Video consultations (workflows/case/consultation.ts).
  'consultation-before-acceptance',
  'consultation-correction',
  'consultation-missed',
  'consultation-not-accepted',
  'consultation-booking-failed',
  // The forwarding of a liaison message (workflows/liaison/forwardLiaisonMessage.ts).
  'liaison-forward',
  'liaison-waits-for-province-case',
  // The scheduled housekeeping (workflows/maintenance/).
  'maintenance-sweep-unattached-files',
  'maintenance-escalate-follow-ups',
  'maintenance-send-notifications',
];

interface JsonEvent {
  eventType: string;
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: { data?: string }[] }> };
}

/** The patch ids whose markers a recorded history holds. */
function patchMarkers(file: string): string[] {
  const { events } = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8')) as { events: JsonEvent[] };
  const ids = new Set<string>();
  for (const e of events) {
    const marker = e.markerRecordedEventAttributes;
    if (!marker || marker.markerName !== 'core_patch') continue;
    for (const detail of Object.values(marker.details ?? {})) {
      for (const p of detail.payloads ?? []) {
        const text = Buffer.from(p.data ?? '', 'base64').toString('utf8');
        const m = /"id"\s*:\s*"([^"]+)"/.exec(text) ?? /^"([^"]+)"$/.exec(text);
        if (m) ids.add(m[1]!);
      }
    }
  }
  return [...ids];
}

describe('replay of recorded case histories', () => {
  it('When the fixtures are listed, then each one is in the manifest and each manifest entry has its file', () => {
    expect(files).toEqual(expect.arrayContaining(['case-approved-electronic.json', 'case-rejected.json']));
    expect(manifest.fixtures.map((f) => f.file).sort()).toEqual(files);
  });

  it('When the workflow code changed, then histories of its new shape have been recorded and cover every branch', () => {
    const fingerprint = workflowSourceFingerprint();
    const current = manifest.fixtures.filter((f) => f.workflowSource === fingerprint);
    expect(current.length, `the workflow code (fingerprint ${fingerprint.slice(0, 12)}) changed since the fixtures were recorded: run npm run histories:record`).toBeGreaterThan(0);
    const covered = new Set(current.flatMap((f) => f.branches));
    expect(REQUIRED_BRANCHES.filter((b) => !covered.has(b)), 'branches without a recording of the current code').toEqual([]);
  });

  it('When a change is guarded by patched(), then a recording takes its new branch and an older one its old branch', () => {
    for (const id of workflowPatchIds()) {
      const withMarker = files.filter((f) => patchMarkers(f).includes(id));
      const without = manifest.fixtures.filter((f) => f.oldBranchOf?.includes(id) && !patchMarkers(f.file).includes(id));
      expect(withMarker.length, `no recorded history takes the new branch of patch ${id}`).toBeGreaterThan(0);
      expect(without.length, `no recorded history takes the old branch of patch ${id}`).toBeGreaterThan(0);
    }
  });

  it('When every recorded history is replayed on the current workflow code, then none diverges', async () => {
    const histories = files.map((file) => ({
      workflowId: file,
      history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))),
    }));
    const results = [];
    for await (const r of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: encryptedDataConverter(keyring) },
      histories,
    )) {
      results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : null });
    }
    expect(results).toEqual(files.map((workflowId) => ({ workflowId, error: null })));
  });
});
