// The bare twin of a happy-path case: the same Temporal commands a tongban pension-transfer case
// with electronic delivery records (read off its recorded history, test/fixtures/histories/
// case-approved-electronic-*.json): 6 province activities on the province's queue (e-licence
// check, create, 3 material uploads, submit), 15 local activities, 2 province-event signals
// and 3 timers racing them, in the same order. What it leaves out is tongban: the projection,
// the SLA clock, search attributes, payload encryption, validation. The benchmark divides
// tongban's figures by this workflow's to show what the orchestration layer costs.
import { condition, defineSignal, proxyActivities, proxyLocalActivities, setHandler } from '@temporalio/workflow';
import type { BareLocalActivities, BareProvinceActivities } from './activities.js';

export interface BareCaseInput {
  caseId: string;
  provinceCode: string;
  callbackUrl: string;
  applicant: { name: string; idNumber: string; phone: string };
  materials: { materialCode: string; sha256: string; size: number; contentType: string }[];
}

export const bareProvinceEvent = defineSignal<[{ type: string; eventId: string }]>('provinceEvent');

const local = proxyLocalActivities<BareLocalActivities>({ startToCloseTimeout: '10 seconds' });

export async function bareCase(input: BareCaseInput): Promise<{ status: 'completed'; events: string[] }> {
  const province = proxyActivities<BareProvinceActivities>({
    taskQueue: `bare-province-${input.provinceCode}`,
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '100 ms', maximumInterval: '200 ms', maximumAttempts: 3 },
  });
  const events: string[] = [];
  setHandler(bareProvinceEvent, (event) => void events.push(event.type));
  const key = (step: string) => `${input.caseId}:${step}`;

  await local.note('intake');
  await province.verifyELicence({ provinceCode: input.provinceCode, holderName: input.applicant.name, holderIdNumber: input.applicant.idNumber, sha256: input.materials[1]!.sha256 });
  await local.note('precheck');
  const { provinceCaseId } = await province.createProvinceCase({ ...input, idempotencyKey: key('create') });
  await local.note('created');
  for (const material of input.materials) {
    await province.uploadMaterial({ provinceCode: input.provinceCode, provinceCaseId, ...material, idempotencyKey: key(`material:${material.materialCode}`) });
    await local.note('uploaded');
  }
  await province.submitProvinceCase({ provinceCode: input.provinceCode, provinceCaseId, idempotencyKey: key('submit') });
  await local.note('submitted');
  await local.note('sla-started');
  await local.note('in-review');
  // Two waits with a timer each, as tongban's status-poll timer races the decision; a third timer
  // guards the delivery.
  if (!(await condition(() => events.length >= 1, '10 minutes'))) throw new Error('no decision');
  await local.note('decided');
  if (!(await condition(() => events.length >= 2, '10 minutes'))) throw new Error('no delivery');
  for (const step of ['delivered', 'sla-stopped', 'result', 'closed', 'notified', 'archived']) await local.note(step);
  return { status: 'completed', events };
}
