// The benchmark's happy-path case against a process stack (harness/processes.ts): a pension
// transfer from Guangzhou to Sichuan, delivered electronically, with the same three materials,
// uploaded once, for every case (bench/transactions.ts, bench/intake.ts).
import { connectTemporalClient } from '../../clients/temporal.js';
import { samplePdf, submitCase, uploadFile } from '../../harness/cases.js';
import type { ProcessStack } from '../../harness/processes.js';
import { caseWorkflowId } from '../../workflows/messages.js';

export interface BenchCases {
  /** Submits one case: the client's wait for the answer (ms), and a promise that the case completed. */
  submit(): Promise<{ answered: number; done: Promise<void> }>;
  /** Submits one case and waits for it to complete. */
  run(): Promise<void>;
}

export async function benchCases(stack: ProcessStack, temporalAddress: string): Promise<BenchCases> {
  const api = stack.apis[0]!.url;
  const client = await connectTemporalClient({ address: temporalAddress, namespace: 'default', keyring: stack.secrets.payloadKeys });
  const token = await stack.token('clerk', '440100');
  const materials: { materialCode: string; fileId: string }[] = [];
  for (const materialCode of ['transfer-application', 'resident-id-card', 'contribution-certificate']) {
    const up = await uploadFile(api, token, samplePdf(materialCode));
    if (up.status !== 201) throw new Error(`upload answered ${up.status}`);
    materials.push({ materialCode, fileId: up.body.fileId });
  }
  const submit = async () => {
    const t0 = performance.now();
    const res = await submitCase(api, token, { applicantName: '压测', materials });
    const answered = performance.now() - t0;
    if (res.status !== 201) throw new Error(`intake answered ${res.status}: ${JSON.stringify(res.body)}`);
    const done = (client.workflow.getHandle(caseWorkflowId(res.body.caseId)).result() as Promise<{ status: string }>).then((state) => {
      if (state.status !== 'completed') throw new Error(`case ${res.body.caseId} ended ${state.status}`);
    });
    return { answered, done };
  };
  return { submit, run: async () => (await submit()).done };
}
