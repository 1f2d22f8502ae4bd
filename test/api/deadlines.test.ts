// GET /v1/cases/:caseId/deadlines on recorded events around National Day 2025, every figure
// worked out by hand from the State Council's 2025 notice (国庆节、中秋节 10-01..10-08 off; Sunday 9-28
// and Saturday 10-11 working) — the check a supervisor would make.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, insertProjectedCase, testItem, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

async function event(caseId: string, seq: number, type: string, at: string, data: Record<string, unknown>) {
  await h.pool.query(`INSERT INTO case_events (case_id, seq, type, stage, status, actor, at, data) VALUES ($1,$2,$3,'review','active','province:510000',$4,$5)`, [
    caseId, seq, type, at, JSON.stringify(data),
  ]);
}

describe('case deadlines', () => {
  it('When a case had a handling-side correction and an expert review, then both limits are counted without them, with the derivation', async () => {
    // Limits of the test item: promised 3, statutory 5 working days.
    const caseId = await insertProjectedCase(h, { item: testItem('deadline-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date('2025-09-25T02:00:00Z') });
    await event(caseId, 1, 'review.started', '2025-09-26T02:00:00Z', { provinceCaseId: 'SC-1', materials: 3 });
    await event(caseId, 2, 'correction.notice_issued', '2025-09-29T03:00:00Z', {
      noticeId: 'N1', side: 'handling', round: 1, supplementDue: '2025-10-20', deficiencies: [{ materialCode: 'contribution-certificate', problem: '不清晰', needed: '重新扫描' }],
    });
    await event(caseId, 3, 'correction.supplemented', '2025-10-10T03:00:00Z', { noticeId: 'N1', side: 'handling', round: 1, items: [] });
    await event(caseId, 4, 'procedure.started', '2025-10-13T03:00:00Z', { procedureId: 'P1', kind: 'expert_review', reason: '专家评审', expectedEnd: null, noticeRef: null });
    await event(caseId, 5, 'procedure.ended', '2025-10-14T03:00:00Z', { procedureId: 'P1', result: null });
    await h.pool.query(`UPDATE cases SET status = 'completed', stage = 'closed', closed_at = '2025-10-20T08:00:00Z' WHERE case_id = $1`, [caseId]);

    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/deadlines`, headers: await h.auth('supervisor', '510000') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // Start 9-26 (not counted). Counted: 9-28 (Sun, working), 9-29 (the notice's day), paused 9-30, 10-09, 10-10
    // (until the supplement), counted 10-11 (Sat, working) → promised due 10-11; 10-13 (the procedure's first
    // day), paused 10-14, counted 10-15 → statutory due 10-15. By 10-20 (closed): 8 counted, 4 paused.
    expect(body).toMatchObject({ caseId, started: true, asOf: '2025-10-20' });
    expect(body.promised).toMatchObject({ dueDate: '2025-10-11', limitDays: 3, used: 8, paused: 4, remaining: -5, state: 'red', stopped: false });
    expect(body.statutory).toMatchObject({ dueDate: '2025-10-15', limitDays: 5, used: 8, paused: 4, remaining: -3, state: 'red' });
    const d = body.statutory.derivation;
    expect(d.start).toBe('2025-09-26');
    expect(d.holidays.map((x: { date: string }) => x.date)).toEqual(['2025-10-01', '2025-10-02', '2025-10-03', '2025-10-04', '2025-10-05', '2025-10-06', '2025-10-07', '2025-10-08']);
    expect(d.adjustedWorkingDays).toEqual(['2025-09-28', '2025-10-11']);
    expect(d.weekendDays).toBe(4); // 9-27, 10-12, 10-18, 10-19
    expect(d.pauses).toEqual([
      { kind: 'correction', from: '2025-09-29', to: '2025-10-10', reason: '补正通知 N1 (round 1): contribution-certificate', workingDays: 3 },
      { kind: 'procedure', from: '2025-10-13', to: '2025-10-14', reason: 'expert_review: 专家评审', workingDays: 1 },
    ]);
  });

  it('When a limit runs past the end of the calendar data, then that limit is null with the gap named, and the other is still shown', async () => {
    const item = { ...testItem('deadline-long'), promisedDays: 3, statutoryDays: 200 };
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date('2026-11-19T02:00:00Z') });
    await event(caseId, 1, 'review.started', '2026-11-20T02:00:00Z', { provinceCaseId: 'SC-2', materials: 3 });
    await h.pool.query(`UPDATE cases SET status = 'rejected', stage = 'closed', closed_at = '2026-11-27T08:00:00Z' WHERE case_id = $1`, [caseId]);
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/deadlines`, headers: await h.auth('approver', '510000') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    // Start Fri 11-20; counted 11-23, 11-24, 11-25 → promised due 11-25; by 11-27: 5 used.
    expect(body.promised).toMatchObject({ dueDate: '2026-11-25', used: 5, remaining: -2, state: 'red' });
    expect(body.statutory).toBeNull();
    expect(body.calendarGap).toMatch(/does not cover 2027-01-01 \(it covers 2024-01-01 to 2026-12-31\)/);
  });

  it('When the authority approved, then art. 44 counts 10 working days to deliver the result, up to the day it was delivered', async () => {
    const caseId = await insertProjectedCase(h, { item: testItem('deadline-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date('2025-09-20T02:00:00Z') });
    await event(caseId, 1, 'review.started', '2025-09-22T02:00:00Z', { provinceCaseId: 'SC-3', materials: 3 });
    await event(caseId, 2, 'decision.approved', '2025-09-29T02:00:00Z', { eventId: 'E1', via: 'callback', reasons: [] });
    const open = (await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/deadlines`, headers: await h.auth('supervisor', '440100') })).json();
    // Approved Mon 9-29: 9-30, (10-01..10-08 off) 10-09, 10-10, Sat 10-11 (worked), 10-13, 10-14 … 10-17, 10-20 → due 10-20.
    expect(open.delivery).toMatchObject({ approvedOn: '2025-09-29', deliveredOn: null, dueDate: '2025-10-20', limitDays: 10 });
    await event(caseId, 3, 'delivery.confirmed', '2025-10-13T06:00:00Z', { method: 'window', note: null, role: 'clerk', region: '440100' });
    await h.pool.query(`UPDATE cases SET status = 'completed', stage = 'closed', closed_at = '2025-10-13T06:00:00Z' WHERE case_id = $1`, [caseId]);
    const done = (await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/deadlines`, headers: await h.auth('supervisor', '440100') })).json();
    // Delivered 10-13: 9-30, 10-09, 10-10, 10-11, 10-13 used; 5 left.
    expect(done.delivery).toMatchObject({ deliveredOn: '2025-10-13', dueDate: '2025-10-20', used: 5, remaining: 5, state: 'green' });
    expect(done.delivery.derivation.holidays.map((x: { date: string }) => x.date)).toContain('2025-10-01');
  });

  it('When the handling authority does not have the materials yet, then the clock has not started', async () => {
    const caseId = await insertProjectedCase(h, { item: testItem('deadline-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date() });
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/deadlines`, headers: await h.auth('clerk', '440100') });
    expect(res.json()).toMatchObject({ caseId, started: false, promised: null, statutory: null, delivery: null });
  });

  it('When staff of an unrelated region ask, then the case does not exist for them', async () => {
    const caseId = await insertProjectedCase(h, { item: testItem('deadline-item'), receivingRegion: '440100', handlingRegion: '510000', submittedAt: new Date() });
    const res = await h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/deadlines`, headers: await h.auth('supervisor', '330000') });
    expect(res.statusCode).toBe(404);
  });
});
