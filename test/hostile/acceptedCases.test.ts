// Hostile input that is still valid (issue 10, "Hostile input": "never a half-created case, never
// a stuck case"): submissions whose free text (the applicant's name, the mail address) is whatever
// fast-check makes of Unicode (astral and combining characters, emoji sequences, right-to-left
// marks, quotes, markup, format strings, SQL), sent over HTTP to a whole stack (the api, a worker,
// the Temporal dev server, PostgreSQL, the simulator as both provinces). What intake refuses is a
// 400; every case it accepts runs to the end: the province receives it (the text travels in the
// signed request and the mail order), approves it, the result is delivered, and the case
// completes; none shows up in the stuck list; Temporal has the workflow completed. The run's
// personal-data scan (test/setup/global.ts) then also reads these names where they went.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, submitCase } from '../../harness/cases.js';
import { caseWorkflowId } from '../../workflows/messages.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

const RUNS = 40;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack();
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** Text a form would pass on: any graphemes, or strings known to break naive code. */
function hostileText(maxLength: number): fc.Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength }),
    fc.string({ unit: 'grapheme-composite', minLength: 1, maxLength: Math.min(maxLength, 20) }),
    fc.constantFrom(
      "Robert'); DROP TABLE cases;--",
      '<script>alert(1)</script>',
      '${jndi:ldap://x}',
      '%s%n%x%d',
      '\\u0000\\n',
      '𠀀𪚥𫝆𬺰',
      '👨‍👩‍👧‍👦🏳️‍🌈',
      'abc\u202edcba',
      'Z̷̡̛a̶l̸g̴o̵',
      '"quoted" \'single\'',
      '{"name":null}',
      '  前后空格  ',
      '阿卜杜勒·买买提·艾力江',
      'a'.repeat(maxLength),
    ),
  );
}

describe('hostile text in valid submissions', () => {
  it('When valid submissions carry hostile text, then what intake refuses is a 400 and every case it accepts completes, none stuck, and the service stays ready', async () => {
    const clerk = await stack.token('clerk', '440100');
    const accepted: { caseId: string; method: string }[] = [];
    const refused: string[] = [];
    await fc.assert(
      fc.asyncProperty(hostileText(64), fc.boolean(), hostileText(200), async (name, byMail, address) => {
        const delivery = byMail ? { method: 'mail' as const, address } : { method: 'electronic' as const };
        const res = await submitCase(stack.apiUrl, clerk, { applicantName: name, delivery });
        if (res.status === 201) {
          accepted.push({ caseId: res.body.caseId, method: delivery.method });
          return;
        }
        expect(res.status, `${JSON.stringify({ name, delivery })} → ${res.status} ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body, JSON.stringify({ name, delivery })).toMatchObject({ status: 400, errors: expect.any(Array) });
        refused.push(name);
      }),
      { numRuns: RUNS },
    );
    console.log(`hostile text: ${accepted.length} accepted (${accepted.filter((a) => a.method === 'mail').length} by mail), ${refused.length} refused`);
    // Not vacuous: most generated text is a valid name, and both delivery methods ran.
    expect(accepted.length).toBeGreaterThan(RUNS / 2);
    expect(new Set(accepted.map((a) => a.method))).toEqual(new Set(['electronic', 'mail']));

    const views = await Promise.all(
      accepted.map(({ caseId }) =>
        eventually(
          async () => (await getJson<{ status: string; stage: string; needsIntervention: boolean }>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk)).body,
          (c) => c.status === 'completed',
          120_000,
          `case ${caseId} to complete`,
        ),
      ),
    );
    for (const v of views) expect(v).toMatchObject({ stage: 'closed', status: 'completed', needsIntervention: false });

    const supervisor = await stack.token('supervisor', '440000');
    const stuck = await getJson<{ items: { caseId: string }[] }>(`${stack.apiUrl}/v1/cases?stuck=true`, supervisor);
    expect(stuck.status).toBe(200);
    const ids = new Set(accepted.map((a) => a.caseId));
    expect(stuck.body.items.filter((c) => ids.has(c.caseId))).toEqual([]);

    for (const { caseId } of accepted) {
      const d = await stack.client.workflow.getHandle(caseWorkflowId(caseId)).describe();
      expect(d.status.name, caseId).toBe('COMPLETED');
    }
    expect((await fetch(`${stack.apiUrl}/readyz`)).status).toBe(200);
  }, 420_000);
});
