// Stuck cases (GET /v1/cases?stuck=true, GET /v1/cases/stuck/events): every reason the list
// knows, each with its since, the longest waiting first, what is not stuck left out, the staff
// member's region respected, and the live stream's first event. Cases are written straight into
// the projection in regions no other test uses (Gansu receives, Qinghai handles).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findBuiltinItem } from '../../catalog/seed.js';
import { insertMessage } from '../../db/liaison.js';
import { subtractOfficeHours, parseOfficeHours } from '../../domain/officeHours.js';
import { stuckReasons } from '../../domain/stuck.js';
import { createApiHarness, insertProjectedCase, type ApiHarness } from './helpers.js';

let h: ApiHarness;
let gansuClerk: { authorization: string };
let qinghaiApprover: { authorization: string };
let otherClerk: { authorization: string };
const item = findBuiltinItem('pension-transfer')!;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface StuckItem {
  caseId: string;
  stage: string;
  status: string;
  stuck: { reason: string; since: string; detail: string }[];
  stuckSince: string;
}

const list = async (auth: { authorization: string }, query = 'stuck=true') => {
  const res = await h.app.inject({ method: 'GET', url: `/v1/cases?${query}`, headers: auth });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ items: StuckItem[]; nextCursor: string | null }>();
};

async function projected(set: Record<string, unknown>, opts: { stage?: string; status?: string } = {}): Promise<string> {
  const caseId = await insertProjectedCase(h, { item, receivingRegion: '620100', handlingRegion: '630100', submittedAt: new Date(Date.now() - 20 * DAY), stage: opts.stage ?? 'review', status: opts.status ?? 'active' });
  const cols = Object.keys(set);
  await h.pool.query(`UPDATE cases SET ${cols.map((c, i) => `${c} = $${i + 2}`).join(', ')} WHERE case_id = $1`, [caseId, ...cols.map((c) => set[c])]);
  return caseId;
}

const ago = (ms: number) => new Date(Date.now() - ms);
let ids: Record<string, string> = {};

beforeAll(async () => {
  h = await createApiHarness();
  gansuClerk = await h.auth('clerk', '620000');
  qinghaiApprover = await h.auth('approver', '630100');
  otherClerk = await h.auth('clerk', '650000');
  const recent = ago(HOUR);
  const intervention = { step: 'createProvinceCase', kind: 'unreachable', error: 'province 630000 unreachable: POST /cases: connect ECONNREFUSED', since: ago(3 * HOUR).toISOString() };
  const red = {
    state: 'red', escalatedAt: ago(2 * DAY).toISOString(), settled: false, readAt: recent.toISOString(),
    promised: { state: 'red', dueDate: null, dueAt: ago(2 * DAY).toISOString(), limitDays: 15, extendedBy: 0, used: 17, remaining: -2, stopped: false },
    statutory: { state: 'yellow', dueDate: null, dueAt: new Date(Date.now() + 5 * DAY).toISOString(), limitDays: 45, extendedBy: 0, used: 17, remaining: 28, stopped: false },
  };
  const missed = [{ consultationId: 'k1', topic: '材料核验', participants: [], proposedTimes: [], requestedBy: 'x', requestedAt: ago(3 * DAY).toISOString(), beforeAcceptance: false, status: 'missed', roomId: 'r', startsAt: ago(2 * DAY).toISOString(), endsAt: ago(2 * DAY).toISOString(), joinLinks: [], failure: null, missedAt: ago(2 * DAY + HOUR).toISOString(), outcome: null }];
  ids = {
    intervention: await projected({ needs_intervention: true, intervention: JSON.stringify(intervention), updated_at: recent, last_province_at: recent }, { stage: 'transfer' }),
    silent: await projected({ updated_at: recent, last_province_at: ago(30 * HOUR) }),
    idle: await projected({ updated_at: ago(10 * DAY), last_province_at: recent }, { stage: 'precheck' }),
    red: await projected({ sla_state: 'red', sla: JSON.stringify(red), updated_at: recent, last_province_at: recent }),
    consultation: await projected({ consultations: JSON.stringify(missed), updated_at: recent, last_province_at: recent }),
    liaison: await projected({ updated_at: recent, last_province_at: recent }),
    fine: await projected({ updated_at: recent, last_province_at: recent }),
    waitingForApplicant: await projected({ updated_at: ago(10 * DAY), last_province_at: ago(10 * DAY) }, { stage: 'correction', status: 'awaiting_supplement' }),
    closed: await projected({ needs_intervention: true, intervention: JSON.stringify(intervention), updated_at: ago(10 * DAY) }, { stage: 'closed', status: 'completed' }),
  };
  await insertMessage(h.pool, {
    messageId: randomUUID(), caseId: ids.liaison!, from: 'receiving', to: 'handling', author: 'test-clerk', authorRole: 'clerk', authorRegion: '620100',
    body: '请确认缴费年限', inReplyTo: null, sentAt: ago(5 * DAY).toISOString(), idempotencyKey: randomUUID(), files: [],
  });
});

afterAll(async () => {
  await h?.close();
});

describe('stuck cases', () => {
  it('When cases are stuck for different reasons, then each is listed with its reason and since when, longest waiting first, and the rest are not', async () => {
    const { items, nextCursor } = await list(gansuClerk);
    expect(nextCursor).toBeNull();
    const mine = items.filter((i) => Object.values(ids).includes(i.caseId));
    const reasonOf = (key: string) => mine.find((i) => i.caseId === ids[key])?.stuck.map((r) => r.reason);
    expect(reasonOf('intervention')).toEqual(['intervention']);
    expect(reasonOf('silent')).toEqual(['province_silent']);
    expect(reasonOf('idle')).toEqual(['idle']);
    expect(reasonOf('red')).toEqual(['sla_red']);
    expect(reasonOf('consultation')).toEqual(['consultation_missed']);
    expect(reasonOf('liaison')).toEqual(['liaison_unanswered']);
    for (const key of ['fine', 'waitingForApplicant', 'closed']) expect(reasonOf(key), key).toBeUndefined();

    const intervention = mine.find((i) => i.caseId === ids.intervention)!.stuck[0]!;
    expect(intervention.detail).toContain('unreachable at createProvinceCase: province 630000 unreachable');
    expect(mine.find((i) => i.caseId === ids.red)!.stuck[0]!.detail).toContain('promised time limit overdue');
    // Longest waiting first: idle (10 days), liaison (5), consultation (2 days 1 h), red (2 days), silent (30 h), intervention (3 h).
    expect(mine.map((i) => Object.entries(ids).find(([, id]) => id === i.caseId)![0])).toEqual(['idle', 'liaison', 'consultation', 'red', 'silent', 'intervention']);
    for (const i of mine) expect(i.stuckSince).toBe(i.stuck[0]!.since);
  });

  it('When the list is narrowed by reason or stage, or asked by staff of either side or of neither, then it shows what that scope covers', async () => {
    const silentOnly = await list(gansuClerk, 'stuck=true&reason=province_silent');
    expect(silentOnly.items.filter((i) => Object.values(ids).includes(i.caseId)).map((i) => i.caseId)).toEqual([ids.silent]);
    const transfer = await list(gansuClerk, 'stuck=true&stage=transfer');
    expect(transfer.items.filter((i) => Object.values(ids).includes(i.caseId)).map((i) => i.caseId)).toEqual([ids.intervention]);
    // The handling side (Qinghai) sees the same cases; a clerk of another province sees none of them.
    expect((await list(qinghaiApprover)).items.filter((i) => Object.values(ids).includes(i.caseId))).toHaveLength(6);
    expect((await list(otherClerk)).items.filter((i) => Object.values(ids).includes(i.caseId))).toEqual([]);
    const bad = await h.app.inject({ method: 'GET', url: '/v1/cases?stuck=maybe&reason=bored', headers: gansuClerk });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path).sort()).toEqual(['query.reason', 'query.stuck']);
  });

  it('When the live stream is opened, then its first event is the stuck list', async () => {
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    const address = h.app.server.address() as { port: number };
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${address.port}/v1/cases/stuck/events`, { headers: gansuClerk, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text.startsWith('event: stuck\ndata: ')).toBe(true);
    const data = JSON.parse(text.slice('event: stuck\ndata: '.length, text.indexOf('\n\n'))) as { items: StuckItem[] };
    expect(data.items.map((i) => i.caseId)).toEqual(expect.arrayContaining([ids.idle, ids.intervention]));
    expect((await h.app.inject({ method: 'GET', url: '/v1/cases/stuck/events' })).statusCode).toBe(401);
  });
});

describe('the thresholds', () => {
  it('When N office hours are counted back over a weekend, then the instant lies on the last working day', () => {
    const office = parseOfficeHours('09:00-17:00');
    const calendar = { isWorkingDay: (d: string) => ![0, 6].includes(new Date(`${d}T00:00:00Z`).getUTCDay()) };
    // Monday 2026-11-30 10:00 China time, 16 office hours back: 1 h on Monday, 8 on Friday, 7 on Thursday → Thursday 10:00.
    const back = subtractOfficeHours(calendar, office, new Date('2026-11-30T02:00:00Z'), 16);
    expect(back.toISOString()).toBe('2026-11-26T02:00:00.000Z');
  });

  it('When a case is waiting for the applicant, then it is not idle however long it waits', () => {
    const t = { provinceSilentBefore: new Date(), idleBefore: new Date(), liaisonDueBefore: new Date() };
    const base = { stage: 'correction', needsIntervention: false, intervention: null, sla: null, updatedAt: '2020-01-01T00:00:00.000Z', lastProvinceAt: null, consultations: [], oldestUnanswered: null, workflowProblem: null };
    expect(stuckReasons({ ...base, status: 'awaiting_supplement' }, t)).toEqual([]);
    expect(stuckReasons({ ...base, status: 'active' }, t).map((r) => r.reason)).toEqual(['idle']);
  });
});
