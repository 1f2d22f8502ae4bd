// 多地联办: each participant's own time limit. With working days of 800 ms (the WORKING_DAY_MS seam,
// docs/case-workflow.md) the moved-in authority's 10 working days last 8 s; its system answers
// every call 2.4 s late, so the transfer alone outlasts the limit: the case records it overdue
// (once), while the second participant, deciding well within its 5 days (4 s, room enough on a
// busy machine), is not.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJson, submitCase } from '../../harness/cases.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

let stack: TestStack;
let clerk: string;

interface CaseView {
  status: string;
  participants: { key: string; status: string; overdue: boolean; startedAt: string; dueAt: string; decidedAt: string | null }[] | null;
  timeline: { type: string; at: string; data: Record<string, unknown> }[];
}

beforeAll(async () => {
  stack = await startTestStack({ env: { WORKING_DAY_MS: '800' }, simulator: { reviewDelayMs: 200, slowMs: 2400 } });
  clerk = await stack.token('clerk', '440100');
});

afterAll(async () => {
  await stack?.stop();
});

describe("a joint case's participant deadlines", () => {
  it('When a participant decides after its own limit, then it is recorded overdue once, and the other is not', async () => {
    stack.simulator.setScenario('510000', 'slow');
    try {
      const sub = await submitCase(stack.apiUrl, clerk, {
        itemCode: 'household-move',
        handlingRegion: '510104',
        materialCodes: ['move-application', 'resident-id-card', 'settlement-proof'],
        fields: { originRegion: '430102', moveReason: '投靠配偶' },
        applicantName: '联办超期',
      });
      expect(sub.status).toBe(201);
      const caseId = sub.body.caseId;
      const done = await eventually(() => getJson<CaseView>(`${stack.apiUrl}/v1/cases/${caseId}`, clerk).then((r) => r.body), (v) => v.status === 'completed', 90_000, 'completed');
      const [movedIn, movedOut] = done.participants!;
      expect(movedIn).toMatchObject({ key: 'moved-in', status: 'approved', overdue: true });
      expect(movedOut).toMatchObject({ key: 'moved-out', status: 'approved', overdue: false });
      // Its due instant is its start plus 10 working days of 800 ms.
      expect(Date.parse(movedIn!.dueAt) - Date.parse(movedIn!.startedAt)).toBeGreaterThanOrEqual(8000);
      expect(Date.parse(movedIn!.dueAt) - Date.parse(movedIn!.startedAt)).toBeLessThan(8500);
      expect(Date.parse(movedIn!.decidedAt!)).toBeGreaterThan(Date.parse(movedIn!.dueAt));
      const overdue = done.timeline.filter((e) => e.type === 'participant.overdue');
      expect(overdue.map((e) => e.data.participant)).toEqual(['moved-in']);
      expect(Date.parse(overdue[0]!.at)).toBeGreaterThanOrEqual(Date.parse(movedIn!.dueAt));
    } finally {
      stack.simulator.setScenario('510000', 'approve');
    }
  }, 120_000);
});
