// 免提交 at precheck: a material whose definition names a shared-data source is not asked of the
// applicant. The case fetches the applicant's record of that source from the data-sharing hub
// (activities/datahub.ts, on the case queue), records it (`material.fetched`: a file of the case
// and a `shared_data` entry on the hand-off ledger) and adds it to the materials the transfer
// sends, like an upload. When the hub has no record, the case records why
// (`material.not_shared`) and a required material becomes a deficiency of the receiving window's
// one-time notice: the applicant brings the paper instead. A hub that cannot be reached past the
// retry budget is a stuck step like a province call (step(): flagged, waiting for a staff retry);
// an outage never turns into a demand for paper.
//
// Guarded by SHARED_DATA_PATCH; it only ever runs for items that name a shared-data source, which
// no case taken in before the patch has.
import { patched, proxyActivities } from '@temporalio/workflow';
import type { DatahubActivities } from '../../activities/datahub.js';
import type { Deficiency } from '../../domain/case.js';
import { sharedDataMaterials } from '../../domain/itemMaterials.js';
import type { DatahubSource } from '../../contracts/datahub.js';
import { CASE_TASK_QUEUE } from '../messages.js';
import { retryBudgetMs, type CaseRun } from './run.js';
import { step } from './step.js';

export const SHARED_DATA_PATCH = 'shared-data';

/** Fetches the shared-data materials the case does not hold yet; the deficiencies where the hub has no record. */
export async function fetchSharedMaterials(c: CaseRun): Promise<{ problems: string[]; deficiencies: Deficiency[] }> {
  const { input, caseId } = c;
  const problems: string[] = [];
  const deficiencies: Deficiency[] = [];
  const wanted = sharedDataMaterials(input.item).filter((def) => !c.materials.some((m) => m.materialCode === def.code));
  if (wanted.length === 0 || !patched(SHARED_DATA_PATCH)) return { problems, deficiencies };
  const { timing } = input;
  const hub = proxyActivities<DatahubActivities>({
    taskQueue: CASE_TASK_QUEUE,
    startToCloseTimeout: timing.callTimeoutMs,
    scheduleToCloseTimeout: retryBudgetMs(timing),
    retry: { initialInterval: timing.retryInitialIntervalMs, maximumInterval: timing.retryMaximumIntervalMs, backoffCoefficient: 2, maximumAttempts: timing.retryMaximumAttempts },
  });
  for (const def of wanted) {
    const source = def.sharedData!.source as DatahubSource;
    const got = await step(c, `fetchSharedData:${def.code}`, () =>
      hub.fetchSharedMaterial({
        caseId,
        materialCode: def.code,
        source,
        idNumber: input.applicant.idNumber,
        purpose: `跨省通办 ${input.item.name} 预审（免提交）`,
        receivingRegion: input.receivingRegion,
        idempotencyKey: `${caseId}:datahub:${def.code}`,
      }),
    );
    if (got.found) {
      c.materials.push(got.material);
      await c.record('material.fetched', { materialCode: def.code, ...got.record, fileId: got.material.fileId, sha256: got.material.sha256, size: got.material.size, contentType: got.material.contentType });
      continue;
    }
    await c.record('material.not_shared', { materialCode: def.code, source, reason: got.reason });
    if (!def.required) continue;
    problems.push(`shared material ${def.code} has no record at the data-sharing hub: ${got.reason}`);
    deficiencies.push({ materialCode: def.code, problem: `数据共享平台无此记录，需申请人提供 (no record at the data-sharing hub): ${got.reason}`, needed: `${def.name}（纸质材料或扫描件）` });
  }
  return { problems, deficiencies };
}
