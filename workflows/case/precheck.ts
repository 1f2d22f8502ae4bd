// Precheck (收件标准): the required materials are present, every material an e-licence can stand
// for is verified with the issuing system, and the materials the government already holds are
// fetched from the data-sharing hub (免提交, SHARED_DATA_PATCH: workflows/case/sharedData.ts). Since CORRECTIONS_PATCH a case that fails it is
// not closed: the receiving window issues one notice with every deficiency (收件补正) and the
// precheck runs again on the supplemented materials. Cases from before keep closing as
// not_accepted.
//
// Since CONSULTATIONS_PATCH a case that passes is accepted only once the video consultations asked
// for before acceptance (视频会商收件) have their outcome (or were missed, or could not be booked):
// the receiving clerk and the handling authority look at the materials together first, and what
// they agree is acted on here: a notice of the receiving window with the agreed deficiencies (and
// the precheck again after the supplement), or the case not accepted (workflows/case/consultation.ts).
import { patched } from '@temporalio/workflow';
import type { ELicenceCheck } from '../../activities/index.js';
import type { Deficiency } from '../../domain/case.js';
import { missingRequiredMaterials } from '../../domain/itemMaterials.js';
import { consultBeforeAcceptance, CONSULTATIONS_PATCH } from './consultation.js';
import { applySupplement, awaitSupplement, CORRECTIONS_PATCH } from './correction.js';
import { enter, type CaseRun } from './run.js';
import { fetchSharedMaterials } from './sharedData.js';
import { step } from './step.js';

/** True when the case may go on to the handling authority. */
export async function precheck(c: CaseRun): Promise<boolean> {
  for (;;) {
    enter(c, 'precheck');
    const { problems, deficiencies, eLicences } = await examine(c);
    let notice = deficiencies;
    if (problems.length === 0) {
      await c.record('precheck.passed', { eLicences });
      if (!patched(CONSULTATIONS_PATCH)) return true;
      // 视频会商收件: the consultations asked for before acceptance decide whether it is accepted.
      const agreed = await consultBeforeAcceptance(c);
      if (agreed.step === 'transfer') return true;
      if (agreed.step === 'closed') return false;
      notice = agreed.deficiencies;
    } else if (!patched(CORRECTIONS_PATCH)) {
      enter(c, 'closed', 'not_accepted');
      await c.record('precheck.failed', { problems, eLicences });
      return false;
    }
    const supplement = await awaitSupplement(c, 'receiving', notice);
    if (!supplement) return false;
    applySupplement(c, supplement);
  }
}

/** Every deficiency of the materials as they stand, at once (一次性告知). */
async function examine(c: CaseRun) {
  const { input } = c;
  const names = new Map(input.item.materials.map((m) => [m.code, m.name]));
  const missing = missingRequiredMaterials(input.item, c.materials);
  const problems = missing.map((code) => `required material ${code} is missing`);
  const deficiencies: Deficiency[] = missing.map((code) => ({ materialCode: code, problem: '未提交 (missing)', needed: names.get(code) ?? code }));
  const checks: ELicenceCheck[] = [];
  for (const def of input.item.materials) {
    const submitted = c.materials.find((m) => m.materialCode === def.code);
    if (!def.eLicence || !submitted) continue;
    const licenceType = def.eLicence.licenceType;
    const check = await step(c, `verifyELicence:${def.code}`, () =>
      // Read at each attempt: a reroute (workflows/case/reroute.ts) sends the next one to the new authority.
      c.province.verifyELicence({ provinceCode: c.provinceCode, materialCode: def.code, licenceType, holderName: input.applicant.name, holderIdNumber: input.applicant.idNumber, sha256: submitted.sha256 }),
    );
    checks.push(check);
    if (!check.valid) {
      problems.push(`e-licence ${def.code} could not be verified: ${check.reason ?? 'invalid'}`);
      deficiencies.push({ materialCode: def.code, problem: `电子证照核验未通过 (e-licence not verified): ${check.reason ?? 'invalid'}`, needed: `${def.name}（可核验的电子证照或原件扫描件）` });
    }
  }
  const eLicences = checks.map(({ materialCode, valid, issuer }) => ({ materialCode, valid, issuer }));
  // 免提交: what the government already holds is fetched, not asked for (workflows/case/sharedData.ts).
  const shared = await fetchSharedMaterials(c);
  problems.push(...shared.problems);
  deficiencies.push(...shared.deficiencies);
  return { problems, deficiencies, eLicences };
}
