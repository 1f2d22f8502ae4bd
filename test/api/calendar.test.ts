// GET /v1/calendar/add-working-days: the working-day calendar for staff (api/routes/calendar.ts).
// Expected dates are worked out by hand from the State Council's notices (docs/calendar.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAFF_ROLES } from '../../domain/case.js';
import { createApiHarness, PROBLEM_JSON, type ApiHarness } from './helpers.js';

let h: ApiHarness;
beforeAll(async () => {
  h = await createApiHarness();
});
afterAll(async () => {
  await h?.close();
});

const URL = '/v1/calendar/add-working-days';

async function ask(query: string) {
  return h.app.inject({ method: 'GET', url: `${URL}?${query}`, headers: await h.auth('clerk', '440100') });
}

function problemOf(res: { json<T>(): T }) {
  return res.json<{ status: number; detail: string; errors?: { path: string; message: string }[] }>();
}

describe('adding working days', () => {
  it('When a clerk adds 3 working days to 2024-09-27, then the answer is 2024-10-08 with the weekend and 国庆节 skipped', async () => {
    const res = await ask('from=2024-09-27&days=3');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      from: '2024-09-27',
      days: 3,
      date: '2024-10-08',
      skipped: [
        { date: '2024-09-28', reason: 'weekend' },
        { date: '2024-10-01', reason: '国庆节' },
        { date: '2024-10-02', reason: '国庆节' },
        { date: '2024-10-03', reason: '国庆节' },
        { date: '2024-10-04', reason: '国庆节' },
        { date: '2024-10-05', reason: '国庆节' },
        { date: '2024-10-06', reason: '国庆节' },
        { date: '2024-10-07', reason: '国庆节' },
      ],
    });
  });

  it('When any staff role asks, then it answers; without a token it answers 401', async () => {
    for (const role of STAFF_ROLES) {
      const res = await h.app.inject({ method: 'GET', url: `${URL}?from=2025-01-27&days=1`, headers: await h.auth(role, '510000') });
      expect(res.statusCode, role).toBe(200);
      expect(res.json<{ date: string }>().date).toBe('2025-02-05');
    }
    const anonymous = await h.app.inject({ method: 'GET', url: `${URL}?from=2025-01-27&days=1` });
    expect(anonymous.statusCode).toBe(401);
  });

  it('When days is 0, then the start day itself is the answer', async () => {
    const res = await ask('from=2025-10-01&days=0');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ from: '2025-10-01', days: 0, date: '2025-10-01', skipped: [] });
  });
});

describe('bad input', () => {
  it.each([
    ['not a date', 'from=27.01.2025&days=1', ['query.from']],
    ['an impossible date', 'from=2025-02-30&days=1', ['query.from']],
    ['a control character in the date', 'from=2025-01-27%00&days=1', ['query.from']],
    ['a control character in days', 'from=2025-01-27&days=1%07', ['query.days']],
    ['days that are not a number', 'from=2025-01-27&days=abc', ['query.days']],
    ['negative days', 'from=2025-01-27&days=-1', ['query.days']],
    ['fractional days', 'from=2025-01-27&days=1.5', ['query.days']],
    ['empty days', 'from=2025-01-27&days=', ['query.days']],
    ['days above 365', 'from=2025-01-27&days=366', ['query.days']],
    ['both missing', '', ['query.days', 'query.from']],
    ['an unknown parameter', 'from=2025-01-27&days=1&unit=calendar', ['query.unit']],
  ])('When the query has %s, then it answers 400 naming the field', async (_what, query, paths) => {
    const res = await ask(query);
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(problemOf(res).errors!.map((e) => e.path).sort()).toEqual(paths);
  });

  it('When from is outside the covered years, then it answers 400 on query.from naming the covered range', async () => {
    for (const from of ['2023-12-29', '2027-01-04']) {
      const res = await ask(`from=${from}&days=1`);
      expect(res.statusCode).toBe(400);
      expect(res.headers['content-type']).toMatch(PROBLEM_JSON);
      expect(problemOf(res).errors).toEqual([{ path: 'query.from', message: 'is outside the working-day calendar, which covers 2024-01-01 to 2026-12-31' }]);
    }
  });

  it('When the count would run past the end of the data, then it answers 400 on query.days', async () => {
    const res = await ask('from=2026-12-30&days=2');
    expect(res.statusCode).toBe(400);
    const body = problemOf(res);
    expect(body.errors).toEqual([{ path: 'query.days', message: 'runs past 2026-12-31, the end of the working-day calendar' }]);
    expect(body.detail).toContain('2 working days after 2026-12-30 run past 2026-12-31');
    expect((await ask('from=2026-12-30&days=1')).json<{ date: string }>().date).toBe('2026-12-31');
  });
});

describe('the OpenAPI document', () => {
  it('When /docs/json is read, then the route is there with its response schema', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/docs/json' });
    const doc = res.json<{ paths: Record<string, { get?: { responses: Record<string, unknown> } }>; components: { schemas: Record<string, unknown> } }>();
    expect(Object.keys(doc.paths[URL]!.get!.responses).sort()).toEqual(['200', '400', '401', '5XX']);
    expect(doc.components.schemas).toHaveProperty('WorkingDaysResult');
  });
});
