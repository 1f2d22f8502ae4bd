// The hand-off ledger end to end below the workflow: case events written through the projection
// (applyCaseEventChanges, as the projection activity writes them, each in its own transaction), the
// ledger rows that appends, GET /v1/cases/:caseId/handoffs, the chain check after a row is changed
// by hand, a workflow reset, hand-offs appended without an event, and `npm run ledger -- verify`.
// Dates are around National Day 2025 (10-01..10-08 off, 09-28 and 10-11 worked); custody's working
// days are worked out by hand in test/domain/handoffs.test.ts for the same timeline.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { appendHandoff, listHandoffs, verifyChain } from '../../db/handoffs.js';
import { applyCaseEvent, applyCaseEventChanges } from '../../db/projection.js';
import { withTransaction } from '../../db/transaction.js';
import type { CaseEvent, CaseState } from '../../domain/case.js';
import type { CaseEventType } from '../../domain/caseEvents.js';
import { entryHash } from '../../domain/handoffs.js';
import type { CaseRowChanges } from '../../domain/projection.js';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, type ApiHarness } from './helpers.js';

const SHA_FORM = 'a'.repeat(64);
const SHA_ID = 'b'.repeat(64);
const SHA_FORM_2 = 'c'.repeat(64);
const item = testItem(`handoff-${randomUUID().slice(0, 8)}`);

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

function ev(seq: number, type: CaseEventType, at: string, data: Record<string, unknown> = {}, stage: CaseEvent['stage'] = 'review', status: CaseEvent['status'] = 'active'): CaseEvent {
  return { seq, type, stage, status, at, actor: 'test', data };
}

/** One projection write, in its own transaction, as projectCaseEvent does it. */
function write(caseId: string, runId: string, event: CaseEvent, changes: CaseRowChanges = {}) {
  return withTransaction(h.pool, (client) => applyCaseEventChanges(client, { caseId, runId, event, changes }));
}

/** Received 09-25 in Guangzhou, handled in Chengdu: a handling-side correction, approval, the result by post. */
function mailCaseEvents(): CaseEvent[] {
  return [
    ev(1, 'case.submitted', '2025-09-25T02:00:00Z', { materials: ['form', 'id-card'] }, 'intake'),
    ev(2, 'precheck.passed', '2025-09-25T02:00:01Z', { eLicences: [] }, 'precheck'),
    ev(3, 'transfer.created', '2025-09-26T00:59:00Z', { provinceCaseId: 'SC-1' }, 'transfer'),
    ev(4, 'material.transferred', '2025-09-26T01:00:00Z', { materialCode: 'form', sha256: SHA_FORM, size: 120 }, 'transfer'),
    ev(5, 'material.transferred', '2025-09-26T01:00:01Z', { materialCode: 'id-card', sha256: SHA_ID, size: 240 }, 'transfer'),
    ev(6, 'review.started', '2025-09-26T02:00:00Z', { provinceCaseId: 'SC-1', materials: 2 }),
    ev(7, 'correction.notice_issued', '2025-09-29T03:00:00Z', { noticeId: 'N1', side: 'handling', round: 1, deficiencies: [{ materialCode: 'form', problem: '不清晰', needed: '重新扫描' }], supplementDue: '2025-10-20' }, 'correction', 'awaiting_supplement'),
    ev(8, 'correction.supplemented', '2025-10-09T16:30:00Z', { noticeId: 'N1', side: 'handling', round: 1, items: [{ materialCode: 'form', sha256: SHA_FORM_2, size: 130, contentType: 'application/pdf' }] }, 'correction'),
    ev(9, 'supplement.transferred', '2025-10-10T05:00:00Z', { noticeId: 'N1', materialCode: 'form', sha256: SHA_FORM_2, size: 130, revision: 1 }, 'correction'),
    ev(10, 'correction.answered', '2025-10-13T02:00:00Z', { noticeId: 'N1', round: 1 }),
    ev(11, 'decision.approved', '2025-10-15T02:00:00Z', { eventId: 'ev-approve', via: 'callback', reasons: [] }, 'decision'),
    ev(12, 'delivery.awaiting', '2025-10-15T02:00:01Z', { method: 'mail' }, 'delivery'),
    ev(13, 'delivery.mailed', '2025-10-16T02:00:00Z', { trackingNumber: 'SF1234567890', via: 'callback' }, 'delivery'),
    ev(14, 'delivery.confirmed', '2025-10-20T02:00:00Z', { signedBy: '李*', via: 'callback' }, 'delivery'),
    ev(15, 'case.completed', '2025-10-20T02:00:01Z', { delivery: 'mail' }, 'closed', 'completed'),
  ];
}

async function projectedMailCase(): Promise<string> {
  const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date('2025-09-25T02:00:00Z') });
  for (const e of mailCaseEvents()) expect(await write(caseId, 'run-A', e)).toBe('written');
  return caseId;
}

async function getLedger(caseId: string, role: 'clerk' | 'approver' | 'supervisor' = 'clerk', region = '440100') {
  return h.app.inject({ method: 'GET', url: `/v1/cases/${caseId}/handoffs`, headers: await h.auth(role, region) });
}

/** Changes a ledger row by hand: the append-only trigger is switched off for this transaction only. */
async function tamper(sql: string, params: unknown[]) {
  await withTransaction(h.pool, async (client) => {
    await client.query('ALTER TABLE case_handoffs DISABLE TRIGGER case_handoffs_append_only');
    await client.query(sql, params);
    await client.query('ALTER TABLE case_handoffs ENABLE TRIGGER case_handoffs_append_only');
  });
}

/** `npm run ledger -- …` against the run's database. */
function ledgerCli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'scripts/ledger.ts', ...args],
      { env: { ...process.env, DATABASE_URL: inject('databaseUrl'), LOG_LEVEL: 'silent' }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe('the hand-off ledger', () => {
  it('When a case’s events are projected, then GET shows every hand-off with its acknowledgement, a chain that verifies, and who held the case for how many working days', async () => {
    const caseId = await projectedMailCase();
    const res = await getLedger(caseId);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.entries.map((e: { seq: number; kind: string; from: string; to: string }) => [e.seq, e.kind, e.from, e.to])).toEqual([
      [1, 'material', 'receiving', 'handling'],
      [2, 'material', 'receiving', 'handling'],
      [3, 'correction_notice', 'handling', 'applicant'],
      [4, 'supplement', 'applicant', 'receiving'],
      [5, 'ack', 'applicant', 'handling'],
      [6, 'supplement', 'receiving', 'handling'],
      [7, 'decision', 'handling', 'receiving'],
      [8, 'result_by_post', 'handling', 'post'],
      [9, 'ack', 'applicant', 'handling'],
    ]);
    const [first, , notice, , noticeAck, , , mailed, receipt] = body.entries;
    expect(first).toMatchObject({
      ref: 'material:form',
      what: [{ materialCode: 'form', sha256: SHA_FORM, size: 120 }],
      sentAt: '2025-09-26T01:00:00.000Z',
      acknowledgedAt: '2025-09-26T01:00:00.000Z',
      source: { eventSeq: 4, runId: 'run-A' },
      supersededBy: null,
      prevHash: '0'.repeat(64),
    });
    expect(first.acknowledgedBySeq).toBeUndefined();
    // The notice is acknowledged by the supplement that answered it, the mailing by the applicant's receipt.
    expect(notice).toMatchObject({ ref: 'notice:N1', acknowledgedAt: '2025-10-09T16:30:00.000Z', acknowledgedBySeq: 5 });
    expect(noticeAck).toMatchObject({ acknowledges: 3, acknowledgedAt: null });
    expect(mailed).toMatchObject({ what: [{ trackingNumber: 'SF1234567890' }], sentAt: '2025-10-16T02:00:00.000Z', acknowledgedAt: '2025-10-20T02:00:00.000Z', acknowledgedBySeq: 9 });
    expect(receipt).toMatchObject({ acknowledges: 8, what: [{ confirmedVia: 'callback' }], source: { eventSeq: 14, runId: 'run-A' } });
    for (let i = 1; i < body.entries.length; i++) expect(body.entries[i].prevHash).toBe(body.entries[i - 1].entryHash);
    expect(body.chain).toEqual({ ok: true, length: 9, headHash: receipt.entryHash, firstBadSeq: null, problem: null });

    // Custody to the day the case closed: receiving 1 + 2, handling 2 + 3, applicant 3, post 2.
    expect(body.asOf).toBe('2025-10-20T02:00:01.000Z');
    expect(body.custody.map((c: { holder: string; workingDays: number }) => [c.holder, c.workingDays])).toEqual([
      ['receiving', 1],
      ['handling', 2],
      ['applicant', 3],
      ['receiving', 2],
      ['handling', 3],
      ['post', 2],
    ]);
    expect(body.custody.at(-1)).toMatchObject({ from: '2025-10-16T02:00:00.000Z', to: '2025-10-20T02:00:00.000Z' });
    expect(body.workingDaysBySide).toEqual({ receiving: 3, handling: 5, applicant: 3, post: 2 });
    expect(body.calendarGap).toBeNull();

    // Either side reads it; staff of neither side are told the case does not exist.
    expect((await getLedger(caseId, 'approver', '510000')).json().chain.headHash).toBe(receipt.entryHash);
    const stranger = await getLedger(caseId, 'supervisor', '330000');
    expect(stranger.statusCode).toBe(404);
    expect(stranger.headers['content-type']).toMatch(PROBLEM_JSON);
    expect((await getLedger(randomUUID())).statusCode).toBe(404);
  });

  it('When a projection write is repeated, then nothing is appended twice', async () => {
    const caseId = await projectedMailCase();
    const before = await listHandoffs(h.pool, caseId);
    for (const e of mailCaseEvents().filter((x) => [4, 8, 13, 14].includes(x.seq))) expect(await write(caseId, 'run-A', e)).toBe('written');
    const after = await listHandoffs(h.pool, caseId);
    expect(after).toEqual(before);
    expect((await verifyChain(h.pool, caseId)).ok).toBe(true);
  });

  it('When a ledger row is changed in the database, then verifyChain, the route and `npm run ledger -- verify` name the first bad entry; the table itself refuses changes', async () => {
    const caseId = await projectedMailCase();
    const good = await projectedMailCase();
    await expect(h.pool.query(`UPDATE case_handoffs SET what = '[]' WHERE case_id = $1 AND seq = 8`, [caseId])).rejects.toThrow(/append-only/);
    await expect(h.pool.query(`DELETE FROM case_handoffs WHERE case_id = $1 AND seq = 9`, [caseId])).rejects.toThrow(/append-only/);

    await tamper(`UPDATE case_handoffs SET what = '[{"trackingNumber": "SF-FORGED"}]' WHERE case_id = $1 AND seq = 8`, [caseId]);
    const check = await verifyChain(h.pool, caseId);
    expect(check).toMatchObject({ ok: false, firstBadSeq: 8, problem: expect.stringMatching(/content does not match its entry_hash/) });
    const res = await getLedger(caseId, 'supervisor', '510000');
    expect(res.statusCode).toBe(200);
    expect(res.json().chain).toMatchObject({ ok: false, length: 9, firstBadSeq: 8 });

    const broken = await ledgerCli('verify', caseId);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`BROKEN ${caseId}: entry 8:`);
    const ok = await ledgerCli('verify', good);
    expect(ok.code).toBe(0);
    expect(ok.stdout.trim()).toBe(`OK ${good}: 9 entries, head ${(await verifyChain(h.pool, good)).headHash}`);
    const all = await ledgerCli('verify', '--all');
    expect(all.code).toBe(1);
    expect(all.stderr).toContain(`BROKEN ${caseId}: entry 8:`);
    expect(all.stderr).not.toContain(good);
    expect((await ledgerCli('verify')).code).toBe(2);
    expect((await ledgerCli('verify', randomUUID())).code).toBe(1);

    // Recomputing the forged entry's hash moves the break to the entry after it.
    const [forged] = (await listHandoffs(h.pool, caseId)).filter((e) => e.seq === 8);
    await tamper(`UPDATE case_handoffs SET entry_hash = $2 WHERE case_id = $1 AND seq = 8`, [caseId, entryHash(forged!.prevHash, forged!)]);
    expect(await verifyChain(h.pool, caseId)).toMatchObject({ ok: false, firstBadSeq: 9, problem: expect.stringMatching(/is not the hash of entry 8/) });
  });

  it('When a reset takes the case over, then the superseded run’s entries stay, marked, and the new run’s entries follow them in one chain', async () => {
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date('2025-09-25T02:00:00Z') });
    for (const e of mailCaseEvents().slice(0, 6)) await write(caseId, 'run-A', e);
    // `temporal workflow reset` to before the transfer: run B records seq 4 on again, with a full snapshot.
    const snapshot: CaseRowChanges = { needsIntervention: null, decision: null, delivery: { method: 'window', status: 'pending' }, provinceCaseId: 'SC-2' };
    expect(await write(caseId, 'run-B', ev(4, 'material.transferred', '2025-09-29T01:00:00Z', { materialCode: 'form', sha256: SHA_FORM_2, size: 130 }, 'transfer'), snapshot)).toBe('written');
    await write(caseId, 'run-B', ev(5, 'material.transferred', '2025-09-29T01:00:01Z', { materialCode: 'id-card', sha256: SHA_ID, size: 240 }, 'transfer'));
    // A late write of the old run is ignored, ledger included.
    expect(await write(caseId, 'run-A', ev(7, 'delivery.mailed', '2025-09-29T02:00:00Z', { trackingNumber: 'SF-LATE', via: 'callback' }))).toBe('superseded');

    const entries = await listHandoffs(h.pool, caseId);
    expect(entries.map((e) => [e.seq, e.ref, e.source, e.supersededBy])).toEqual([
      [1, 'material:form', { eventSeq: 4, runId: 'run-A' }, 'run-B'],
      [2, 'material:id-card', { eventSeq: 5, runId: 'run-A' }, 'run-B'],
      [3, 'material:form', { eventSeq: 4, runId: 'run-B' }, null],
      [4, 'material:id-card', { eventSeq: 5, runId: 'run-B' }, null],
    ]);
    expect(entries[2]!.what).toEqual([{ materialCode: 'form', sha256: SHA_FORM_2, size: 130 }]);
    expect((await verifyChain(h.pool, caseId)).ok).toBe(true);
    // The events are the new run's; custody reads them.
    const { rows } = await h.pool.query(`SELECT seq, at FROM case_events WHERE case_id = $1 AND seq >= 4 ORDER BY seq`, [caseId]);
    expect(rows.map((r) => [r.seq, r.at.toISOString()])).toEqual([[4, '2025-09-29T01:00:00.000Z'], [5, '2025-09-29T01:00:01.000Z']]);
    const body = (await getLedger(caseId)).json();
    expect(body.entries.map((e: { supersededBy: string | null }) => e.supersededBy)).toEqual(['run-B', 'run-B', null, null]);
    expect(body.custody.map((c: { holder: string; from: string; to: string | null }) => [c.holder, c.from, c.to])).toEqual([['receiving', '2025-09-25T02:00:00.000Z', null]]);
  });

  it('When paper originals are posted and received, then appendHandoff chains them, idempotent by ref, the receipt acknowledging the posting', async () => {
    const caseId = await projectedMailCase();
    const posting = {
      kind: 'original_by_post' as const,
      ref: 'original:id-card:EMS987654321',
      from: 'receiving' as const,
      to: 'handling' as const,
      what: [{ materialCode: 'id-card', trackingNumber: 'EMS987654321' }],
      sentAt: '2025-10-20T03:00:00Z',
      acknowledgedAt: null,
    };
    const posted = await appendHandoff(h.pool, caseId, posting);
    expect(posted).toMatchObject({ seq: 10, source: null, acknowledges: null });
    expect(await appendHandoff(h.pool, caseId, posting)).toEqual(posted);
    const received = await appendHandoff(h.pool, caseId, {
      kind: 'ack',
      ref: 'ack:original:id-card:EMS987654321',
      acknowledgesRef: posting.ref,
      from: 'handling',
      to: 'receiving',
      what: [{ receivedBy: 'archive' }],
      sentAt: '2025-10-22T03:00:00Z',
      acknowledgedAt: null,
    });
    expect(received).toMatchObject({ seq: 11, acknowledges: 10 });
    const body = (await getLedger(caseId, 'approver', '510100')).json();
    expect(body.entries.at(-2)).toMatchObject({ kind: 'original_by_post', acknowledgedAt: '2025-10-22T03:00:00.000Z', acknowledgedBySeq: 11, source: null });
    expect(body.chain).toMatchObject({ ok: true, length: 11 });
    await expect(appendHandoff(h.pool, caseId, { ...posting, ref: 'original:x', from: 'handling' })).rejects.toThrow(/from one party to another/);
  });

  it('When a case from before the current projection write records an event, then its hand-offs are ledgered too, without a run id', async () => {
    const caseId = await insertProjectedCase(h, { item, receivingRegion: '440100', handlingRegion: '510100', submittedAt: new Date('2025-09-25T02:00:00Z') });
    const state = { caseId, stage: 'transfer', status: 'active', needsIntervention: null, decision: null, delivery: { method: 'window', status: 'pending' }, provinceCaseId: 'SC-9' } as unknown as CaseState;
    const event = ev(4, 'material.transferred', '2025-09-26T01:00:00Z', { materialCode: 'form', sha256: SHA_FORM, size: 120 }, 'transfer');
    for (let i = 0; i < 2; i++) await withTransaction(h.pool, (client) => applyCaseEvent(client, event, state));
    const entries = await listHandoffs(h.pool, caseId);
    expect(entries.map((e) => [e.seq, e.ref, e.source])).toEqual([[1, 'material:form', { eventSeq: 4, runId: null }]]);
  });

  it('When /docs/json is read, then the route is documented with its response schema', async () => {
    const doc = (await h.app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(doc.paths['/v1/cases/{caseId}/handoffs'].get.responses['200']).toBeDefined();
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['HandoffLedger', 'HandoffEntry']));
  });

  it('When a case is deleted, then its ledger goes with it (and only then)', async () => {
    const caseId = await projectedMailCase();
    await h.pool.query(`DELETE FROM cases WHERE case_id = $1`, [caseId]);
    expect(await listHandoffs(h.pool, caseId)).toEqual([]);
  });
});
