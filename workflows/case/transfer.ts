// Transfer (材料流转): create the case at the handling authority, send every material (each
// hash-checked on both sides), and submit it for review.
import { provinceKey } from './keys.js';
import { enter, type CaseRun } from './run.js';
import { step } from './step.js';

export async function transfer(c: CaseRun): Promise<void> {
  const { caseId, input, province, provinceCode, state } = c;
  enter(c, 'transfer');
  c.transferStarted = true;
  // The materials as they stand: a receiving-side correction may have replaced some.
  const sending = { ...input, materials: c.materials };
  const created = await step(c, 'createProvinceCase', () => province.createProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(caseId, 'create'), input: sending }));
  state.provinceCaseId = created.provinceCaseId;
  await c.record('transfer.created', { provinceCaseId: created.provinceCaseId });
  for (const m of c.materials) {
    const sent = await step(c, `uploadMaterial:${m.materialCode}`, () =>
      province.uploadMaterial({
        caseId,
        provinceCode,
        idempotencyKey: provinceKey(caseId, 'material', m.materialCode),
        provinceCaseId: created.provinceCaseId,
        materialCode: m.materialCode,
        sha256: m.sha256,
        contentType: m.contentType,
      }),
    );
    state.transferredMaterials.push(m.materialCode);
    await c.record('material.transferred', { materialCode: m.materialCode, sha256: sent.sha256, size: sent.size });
  }
  await step(c, 'submitProvinceCase', () => province.submitProvinceCase({ caseId, provinceCode, idempotencyKey: provinceKey(caseId, 'submit'), provinceCaseId: created.provinceCaseId }));
  enter(c, 'review');
  c.materialsReceivedAt = new Date().toISOString();
  await c.record('review.started', { provinceCaseId: created.provinceCaseId, materials: state.transferredMaterials.length });
}
