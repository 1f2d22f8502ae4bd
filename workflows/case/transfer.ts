// Transfer (材料流转): create the case at the handling authority, send every material (each
// hash-checked on both sides), and submit it for review. Each of these steps, stuck past its retry
// budget, may be recorded as done offline (线下办理: the authority created the case by phone under a
// number it gave, the materials went by courier, the submission was made in its own system): the
// case then goes on with what the call would have answered.
import { ApplicationFailure } from '@temporalio/workflow';
import { createCaseRequestOf } from '../../domain/case.js';
import { provinceKey } from './keys.js';
import { enter, type CaseRun } from './run.js';
import { offlineStep } from './step.js';

export async function transfer(c: CaseRun): Promise<void> {
  const { caseId, keyBase, input, province, provinceCode, state } = c;
  enter(c, 'transfer');
  c.transferStarted = true;
  // The materials as they stand: a receiving-side correction may have replaced some; after a
  // reroute, the new authority and where it calls back.
  const request = createCaseRequestOf({ ...input, handlingRegion: c.handlingRegion, callbackUrl: c.callbackUrl, materials: c.materials });
  const created = await offlineStep(
    c,
    'createProvinceCase',
    () => province.createProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(keyBase, 'create'), request }),
    (offline) => {
      // The validator (workflows/case/handlers.ts) asks for the number; this is the last fence.
      if (!offline.provinceCaseId) throw ApplicationFailure.nonRetryable('a case created offline needs the number the authority gave it', 'OfflineNotAllowed');
      return { provinceCaseId: offline.provinceCaseId };
    },
  );
  state.provinceCaseId = created.provinceCaseId;
  await c.record('transfer.created', { provinceCaseId: created.provinceCaseId });
  for (const m of c.materials) {
    const sent = await offlineStep(
      c,
      `uploadMaterial:${m.materialCode}`,
      () =>
        province.uploadMaterial({
          caseId,
          provinceCode,
          idempotencyKey: provinceKey(keyBase, 'material', m.materialCode),
          provinceCaseId: created.provinceCaseId,
          materialCode: m.materialCode,
          sha256: m.sha256,
          contentType: m.contentType,
        }),
      // Sent outside the system: the file as it was taken in.
      () => ({ sha256: m.sha256, size: m.size }),
    );
    state.transferredMaterials.push(m.materialCode);
    await c.record('material.transferred', { materialCode: m.materialCode, sha256: sent.sha256, size: sent.size });
  }
  await offlineStep(
    c,
    'submitProvinceCase',
    () => province.submitProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(keyBase, 'submit'), provinceCaseId: created.provinceCaseId }),
    () => ({ status: 'submitted-offline' }),
  );
  enter(c, 'review');
  c.materialsReceivedAt = new Date().toISOString();
  await c.record('review.started', { provinceCaseId: created.provinceCaseId, materials: state.transferredMaterials.length });
}
