// Defect 10 (unattached files): uploads that no case references are deleted after
// UNATTACHED_FILE_TTL_HOURS by the Temporal Schedule `tongban-sweep-unattached-files`, and a blob
// goes only when no remaining upload shares it. Driven through the real api, the real schedule on
// the dev server and the real worker (workflows/maintenance/sweepUnattachedFiles.ts,
// activities/maintenance.ts).
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import { ensureSchedules, SWEEP_UNATTACHED_FILES_SCHEDULE_ID } from '../../worker/system.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let token = '';

beforeAll(async () => {
  stack = await startTestStack();
  token = await stack.token('clerk', '440100');
});
afterAll(async () => {
  await stack?.stop();
});

const blobPath = (sha256: string) => path.join(stack.config.MATERIALS_DIR, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
const HOURS_25 = 25 * 3_600_000;

/** Makes an upload look 25 hours old: its row and (as the store would have written it then) its blob. */
async function backdate(fileId: string, sha256: string) {
  await stack.pool.query(`UPDATE files SET created_at = now() - interval '25 hours' WHERE file_id = $1`, [fileId]);
  const then = new Date(Date.now() - HOURS_25);
  fs.utimesSync(blobPath(sha256), then, then);
}

async function upload(bytes: Buffer) {
  const up = await uploadFile(stack.apiUrl, token, bytes);
  expect(up.status).toBe(201);
  return up.body;
}

const fileExists = async (fileId: string) => (await stack.pool.query(`SELECT 1 FROM files WHERE file_id = $1`, [fileId])).rowCount === 1;

describe('the unattached-files sweep', () => {
  it('when the system starts, then the schedule exists with the configured interval and TTL, and a restart with other values updates it', async () => {
    const handle = stack.client.schedule.getHandle(SWEEP_UNATTACHED_FILES_SCHEDULE_ID);
    const before = await handle.describe();
    expect(before.spec.intervals?.[0]?.every).toBe(60 * 60_000);
    expect(before.action.args).toEqual([{ ttlHours: 24 }]);

    await ensureSchedules(stack.client, { ...stack.config, FILE_SWEEP_INTERVAL_MINUTES: 15, UNATTACHED_FILE_TTL_HOURS: 48 });
    const after = await handle.describe();
    expect(after.spec.intervals?.[0]?.every).toBe(15 * 60_000);
    expect(after.action.args).toEqual([{ ttlHours: 48 }]);

    await ensureSchedules(stack.client, stack.config);
    expect((await handle.describe()).action.args).toEqual([{ ttlHours: 24 }]);
  });

  it('when the schedule runs, then old unattached uploads and their unshared blobs are deleted; attached, shared and recent ones stay', async () => {
    const submitted = await submitCase(stack.apiUrl, token);
    expect(submitted.status).toBe(201);
    const { caseId } = submitted.body;
    const { rows: attached } = await stack.pool.query<{ file_id: string; sha256: string }>(
      `SELECT file_id, sha256 FROM case_materials WHERE case_id = $1 ORDER BY material_code`,
      [caseId],
    );
    expect(attached.length).toBeGreaterThan(0);
    const firstAttached = attached[0]!;

    const orphan = await upload(samplePdf('orphan'));
    // The same bytes as an attached material: a second row, one shared blob.
    const sharedBytes = fs.readFileSync(blobPath(firstAttached.sha256));
    const sharing = await upload(sharedBytes);
    expect(sharing.sha256).toBe(firstAttached.sha256);
    const recent = await upload(samplePdf('recent'));

    for (const f of [orphan, sharing]) await backdate(f.fileId, f.sha256);
    for (const f of attached) await backdate(f.file_id, f.sha256);

    await stack.client.schedule.getHandle(SWEEP_UNATTACHED_FILES_SCHEDULE_ID).trigger();
    // The activity deletes the rows first and the blobs after them: wait for the last of it.
    await eventually(
      async () => [await fileExists(orphan.fileId), await fileExists(sharing.fileId), fs.existsSync(blobPath(orphan.sha256))],
      (v) => v.every((e) => !e),
      30_000,
      'the old unattached rows and the orphan blob to be deleted',
    );
    // Its blob is still the attached material's.
    expect(fs.existsSync(blobPath(sharing.sha256))).toBe(true);
    for (const f of attached) {
      expect(await fileExists(f.file_id)).toBe(true);
      expect(fs.existsSync(blobPath(f.sha256))).toBe(true);
    }
    expect(await fileExists(recent.fileId)).toBe(true);
    expect(fs.existsSync(blobPath(recent.sha256))).toBe(true);
  });
});
