// GET /v1/cases: keyset paging, filters and region scoping over the projection. Rows are written
// straight into the projection under an item code of this file's own, so other tests' cases
// never show up in the counts.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiHarness, insertProjectedCase, PROBLEM_JSON, testItem, validIdNumber, type ApiHarness } from './helpers.js';

interface Page {
  items: { caseId: string; itemCode: string; receivingRegion: string; handlingRegion: string; stage: string; status: string; applicantName: string; submittedAt: string }[];
  nextCursor: string | null;
}

let h: ApiHarness;
const item = testItem(`list-${randomUUID().slice(0, 8)}`);
/** Newest first, as the list orders them. */
const guangzhouToSichuan: string[] = [];
let shenzhenToZhejiang: string;
let hangzhouToSichuan: string;
let withdrawn: string;

beforeAll(async () => {
  h = await createApiHarness();
  const base = Date.now() - 60_000;
  // Two cases share one instant, so the case id must break the tie.
  const instants = [base, base + 1000, base + 1000, base + 2000, base + 3000];
  for (const t of instants) {
    guangzhouToSichuan.push(await insertProjectedCase(h, { item, receivingRegion: '440106', handlingRegion: '510100', submittedAt: new Date(t) }));
  }
  shenzhenToZhejiang = await insertProjectedCase(h, { item, receivingRegion: '440300', handlingRegion: '330100', submittedAt: new Date(base + 4000) });
  hangzhouToSichuan = await insertProjectedCase(h, { item, receivingRegion: '330106', handlingRegion: '510000', submittedAt: new Date(base + 5000) });
  withdrawn = await insertProjectedCase(h, { item, receivingRegion: '440106', handlingRegion: '510100', submittedAt: new Date(base - 1000), status: 'withdrawn', stage: 'closed' });
});
afterAll(async () => {
  await h?.close();
});

async function list(auth: { authorization: string }, query: string) {
  return h.app.inject({ method: 'GET', url: `/v1/cases?itemCode=${item.code}&${query}`, headers: auth });
}

async function allPages(auth: { authorization: string }, query: string): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res = await list(auth, `${query}${cursor ? `&cursor=${cursor}` : ''}`);
    expect(res.statusCode).toBe(200);
    const page = res.json<Page>();
    ids.push(...page.items.map((i) => i.caseId));
    cursor = page.nextCursor;
    pages++;
  } while (cursor && pages < 20);
  return { ids, pages };
}

describe('GET /v1/cases', () => {
  it('When a province supervisor pages through with limit 2, then every visible case comes once, newest first', async () => {
    const supervisor = await h.auth('supervisor', '440000');
    const { ids, pages } = await allPages(supervisor, 'limit=2');
    const expected = [shenzhenToZhejiang, ...guangzhouToSichuan.slice().reverse(), withdrawn];
    expect(new Set(ids)).toEqual(new Set(expected));
    expect(ids).toHaveLength(expected.length);
    expect(ids[0]).toBe(shenzhenToZhejiang);
    expect(ids[ids.length - 1]).toBe(withdrawn);
    expect(pages).toBe(4);
  });

  it('When a case is received and handled within one scope, then the unfiltered list (each side read on its own) shows it once, across pages', async () => {
    const both = await insertProjectedCase(h, { item, receivingRegion: '540102', handlingRegion: '540202', submittedAt: new Date(Date.now() - 30_000) });
    const oneSide = await insertProjectedCase(h, { item, receivingRegion: '540102', handlingRegion: '460100', submittedAt: new Date(Date.now() - 20_000) });
    const handledHere = await insertProjectedCase(h, { item, receivingRegion: '460105', handlingRegion: '540202', submittedAt: new Date(Date.now() - 10_000) });
    const { ids, pages } = await allPages(await h.auth('supervisor', '540000'), 'limit=1');
    expect(ids).toEqual([handledHere, oneSide, both]);
    expect(pages).toBe(3);
  });

  it('When a manager or an item admin asks for cases, then the list and the case view answer 403 before anything is looked up (they see reports, not citizens)', async () => {
    for (const [role, region] of [['manager', '440000'], ['item_admin', '110000']] as const) {
      const auth = await h.auth(role, region);
      const listed = await list(auth, 'limit=5');
      expect(listed.statusCode).toBe(403);
      const one = await h.app.inject({ method: 'GET', url: `/v1/cases/${shenzhenToZhejiang}`, headers: auth });
      const missing = await h.app.inject({ method: 'GET', url: `/v1/cases/${randomUUID()}`, headers: auth });
      expect([one.statusCode, missing.statusCode]).toEqual([403, 403]);
      // The same answer whether the case exists or not (but for the instance, the path the caller sent): nothing leaks.
      const { instance: _a, ...existing } = one.json<Record<string, unknown>>();
      const { instance: _b, ...absent } = missing.json<Record<string, unknown>>();
      expect(existing).toEqual(absent);
    }
  });

  it('When the first page is read, then rows are summaries with masked names and no personal data', async () => {
    const res = await list(await h.auth('supervisor', '440000'), 'limit=1');
    const page = res.json<Page>();
    expect(page.items).toHaveLength(1);
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(page.items[0]).toMatchObject({ caseId: shenzhenToZhejiang, applicantName: '李*', stage: 'intake', status: 'active' });
    expect(Object.keys(page.items[0]!)).not.toContain('applicant');
    expect(res.body).not.toContain('11010519491231002');
  });

  it('When a city clerk lists, then only cases received or handled in that city are visible', async () => {
    const { ids } = await allPages(await h.auth('clerk', '440100'), 'limit=100');
    expect(new Set(ids)).toEqual(new Set([...guangzhouToSichuan, withdrawn]));
  });

  it('When the handling province lists, then it sees cases it handles wherever they were received', async () => {
    const { ids } = await allPages(await h.auth('approver', '510000'), 'limit=100');
    expect(new Set(ids)).toEqual(new Set([...guangzhouToSichuan, withdrawn, hangzhouToSichuan]));
  });

  it('When a county clerk lists, then a neighbouring county’s cases are invisible', async () => {
    const { ids } = await allPages(await h.auth('clerk', '440104'), 'limit=100');
    expect(ids).toEqual([]);
  });

  it('When filters are given, then they combine', async () => {
    const supervisor = await h.auth('supervisor', '440000');
    const byStatus = await allPages(supervisor, 'status=withdrawn');
    expect(byStatus.ids).toEqual([withdrawn]);
    const byStage = await allPages(supervisor, 'stage=intake&handlingRegion=330100');
    expect(byStage.ids).toEqual([shenzhenToZhejiang]);
    const byReceiving = await allPages(supervisor, 'receivingRegion=440106&status=active');
    expect(new Set(byReceiving.ids)).toEqual(new Set(guangzhouToSichuan));
  });

  it('When filters are sent empty, as a form would, then they mean no filter', async () => {
    const supervisor = await h.auth('supervisor', '440000');
    // (list() already filters by this file's item code, so itemCode is not among the empty ones.)
    const empty = await allPages(supervisor, 'stage=&status=&handlingRegion=&receivingRegion=&sla=&limit=100');
    const none = await allPages(supervisor, 'limit=100');
    expect(empty.ids).toEqual(none.ids);
    expect(empty.ids.length).toBeGreaterThan(0);
  });

  it('When the cursor is not one the API issued, then it answers 400 on query.cursor', async () => {
    const res = await list(await h.auth('supervisor', '440000'), 'cursor=bm90LWEtY3Vyc29y');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['query.cursor']);
  });

  it.each([
    ['a t past any instant (9999999999999999999)', { t: '9999999999999999999', id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b' }],
    ['a t past year 9999', { t: '253402300800000000', id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b' }],
    ['a negative t', { t: '-1', id: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b' }],
    ['an id that is not a uuid', { t: '1700000000000000', id: 'x' }],
    ['a JSON array', [1, 2]],
  ])('When a hand-made cursor has %s, then it answers 400 on query.cursor', async (_what, payload) => {
    const cursor = Buffer.from(JSON.stringify(payload)).toString('base64url');
    const res = await list(await h.auth('supervisor', '440000'), `cursor=${cursor}`);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['query.cursor']);
  });

  it('When a hand-made cursor holds the last instant of year 9999, then it is a valid (empty) position', async () => {
    const cursor = Buffer.from(JSON.stringify({ t: '253402300799999999', id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' })).toString('base64url');
    const res = await list(await h.auth('supervisor', '440000'), `cursor=${cursor}&limit=100`);
    expect(res.statusCode).toBe(200);
    expect(res.json<Page>().items.length).toBeGreaterThan(0);
  });

  it('When filters are invalid, then one 400 lists each of them', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: '/v1/cases?stage=limbo&status=lost&handlingRegion=12&limit=500&colour=red&sla=purple',
      headers: await h.auth('supervisor', '440000'),
    });
    expect(res.statusCode).toBe(400);
    const paths = res.json<{ errors: { path: string }[] }>().errors.map((e) => e.path);
    expect(paths.sort()).toEqual(['query.colour', 'query.handlingRegion', 'query.limit', 'query.sla', 'query.stage', 'query.status']);
  });

  it('When ?sla= is given, then only cases in that SLA state are listed, each with its due dates; cases whose clock has not started have none', async () => {
    const supervisor = await h.auth('supervisor', '510000');
    const [overdue, warned] = [guangzhouToSichuan[0]!, guangzhouToSichuan[1]!];
    await h.pool.query(`UPDATE cases SET sla_state = 'red', due_date = '2026-11-20', statutory_due_date = '2026-12-18' WHERE case_id = $1`, [overdue]);
    await h.pool.query(`UPDATE cases SET sla_state = 'yellow', due_date = '2026-12-03', statutory_due_date = '2027-01-05' WHERE case_id = $1`, [warned]);
    const red = await list(supervisor, 'sla=red&limit=100');
    expect(red.statusCode).toBe(200);
    expect(red.json<Page>().items).toEqual([expect.objectContaining({ caseId: overdue, slaState: 'red', dueDate: '2026-11-20', statutoryDueDate: '2026-12-18' })]);
    expect((await list(supervisor, 'sla=yellow')).json<Page>().items.map((i) => i.caseId)).toEqual([warned]);
    expect((await list(supervisor, 'sla=green')).json<Page>().items).toEqual([]);
    const all = (await list(supervisor, 'limit=100')).json<Page>().items;
    expect(all.find((i) => i.caseId === hangzhouToSichuan)).toMatchObject({ slaState: null, dueDate: null, statutoryDueDate: null });
  });
});

describe('search by the applicant’s identity number', () => {
  it('When staff search by an identity number, then the cases of that applicant in their scope are found by its keyed hash, the number shown masked', async () => {
    const idNumber = validIdNumber('44010619850315123');
    const mine = await insertProjectedCase(h, { item, receivingRegion: '440106', handlingRegion: '510100', submittedAt: new Date(), idNumber });
    await insertProjectedCase(h, { item, receivingRegion: '330106', handlingRegion: '330100', submittedAt: new Date(), idNumber });
    const res = await list(await h.auth('clerk', '440100'), `idNumber=${idNumber}`);
    expect(res.statusCode).toBe(200);
    const page = res.json<Page & { items: { idNumber?: string }[] }>();
    expect(page.items.map((c) => c.caseId)).toEqual([mine]);
    expect(JSON.stringify(page)).not.toContain(idNumber);
    const stored = await h.pool.query(`SELECT count(*)::int AS n FROM cases WHERE id_number_hash = $1`, [idNumber]);
    expect(stored.rows[0].n).toBe(0);
    const other = await list(await h.auth('clerk', '440100'), `idNumber=${validIdNumber('44010619850315124')}`);
    expect(other.json<Page>().items).toEqual([]);
  });

  it('When the identity number is malformed, or combined with stuck=true, then it answers 400 on query.idNumber', async () => {
    const clerk = await h.auth('clerk', '440100');
    const bad = await list(clerk, 'idNumber=123');
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['query.idNumber']);
    const stuck = await list(clerk, `stuck=true&idNumber=${validIdNumber('44010619850315123')}`);
    expect(stuck.statusCode).toBe(400);
    expect(stuck.json<{ errors: { path: string }[] }>().errors.map((e) => e.path)).toEqual(['query.idNumber']);
  });
});
