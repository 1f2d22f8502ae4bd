// Precheck (收件标准): the required materials are present, and every material an e-licence can
// stand for is verified with the issuing system. A case that fails it is not accepted.
import type { ELicenceCheck } from '../../activities/index.js';
import { missingRequiredMaterials } from '../../domain/items.js';
import { enter, type CaseRun } from './run.js';
import { step } from './step.js';

/** True when the case may go on to the handling authority. */
export async function precheck(c: CaseRun): Promise<boolean> {
  const { input, province, provinceCode } = c;
  enter(c, 'precheck');
  const problems = missingRequiredMaterials(input.item, input.materials).map((code) => `required material ${code} is missing`);
  const checks: ELicenceCheck[] = [];
  for (const def of input.item.materials) {
    const submitted = input.materials.find((m) => m.materialCode === def.code);
    if (!def.eLicence || !submitted) continue;
    const licenceType = def.eLicence.licenceType;
    const check = await step(c, `verifyELicence:${def.code}`, () =>
      province.verifyELicence({ provinceCode, materialCode: def.code, licenceType, holderName: input.applicant.name, holderIdNumber: input.applicant.idNumber, sha256: submitted.sha256 }),
    );
    checks.push(check);
    if (!check.valid) problems.push(`e-licence ${def.code} could not be verified: ${check.reason ?? 'invalid'}`);
  }
  const eLicences = checks.map(({ materialCode, valid, issuer }) => ({ materialCode, valid, issuer }));
  if (problems.length > 0) {
    enter(c, 'closed', 'not_accepted');
    await c.record('precheck.failed', { problems, eLicences });
    return false;
  }
  await c.record('precheck.passed', { eLicences });
  return true;
}
