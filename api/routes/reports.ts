// Report routes (api/reports.ts, docs/reports.md). Supervisors and managers of a region read the
// SLA report of the cases their region covers on either side; it holds counts and means only.
// JSON by default; `?format=csv` or `Accept: text/csv` answers the same table as CSV.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { epochDay, isCalendarDate } from '../../domain/dates.js';
import { EVALUATION_LEVELS } from '../../db/evaluations.js';
import { REPORT_GROUPINGS } from '../../db/reports.js';
import { COUNTED_STAGES } from '../../domain/stageDays.js';
import { staffOf } from '../auth.js';
import { problems } from '../problem.js';
import { groupsCsv, slaReport, weeklyCsv, type SlaReport } from '../reports.js';
import { plainString } from '../schemas.js';
import { secured } from './common.js';

/** The longest period one report covers, in days. */
export const MAX_REPORT_DAYS = 366;

const dateParam = plainString()
  .refine(isCalendarDate, 'must be a date YYYY-MM-DD')
  .meta({ description: 'A date in China (YYYY-MM-DD)', format: 'date', example: '2026-11-01' });

const querySchema = z
  .strictObject({
    from: dateParam.meta({ description: 'First day of the period (China date, included)' }),
    to: dateParam.meta({ description: 'Day after the period (China date, excluded)' }),
    groupBy: z.enum(REPORT_GROUPINGS).default('item').meta({ description: 'item, handlingRegion, receivingRegion, or pair (receiving province → handling province)' }),
    format: z.enum(['json', 'csv']).optional().meta({ description: 'csv: the table as text/csv (as does Accept: text/csv)' }),
    table: z.enum(['groups', 'weekly']).default('groups').meta({ description: 'Which table a CSV holds: one row per group and the total, or the weekly trend' }),
  })
  .superRefine((q, ctx) => {
    const days = epochDay(q.to) - epochDay(q.from);
    if (days <= 0) ctx.addIssue({ code: 'custom', path: ['to'], message: 'must be after from' });
    else if (days > MAX_REPORT_DAYS) ctx.addIssue({ code: 'custom', path: ['to'], message: `the period may cover at most ${MAX_REPORT_DAYS} days` });
  });

const limitSchema = z.object({ measured: z.number().int(), onTime: z.number().int(), late: z.number().int(), rate: z.number().nullable() });
const figuresShape = {
  cases: z.number().int().meta({ description: 'Cases whose outcome was fixed in the period: decided, or closed without a decision' }),
  decided: z.number().int(),
  approved: z.number().int(),
  rejected: z.number().int(),
  promised: limitSchema.meta({ description: 'Decided cases against the promised limit (承诺时限): late when decided after it turned red' }),
  statutory: limitSchema.meta({ description: 'Decided cases against the statutory limit (法定时限)' }),
  open: z.object({ cases: z.number().int(), atRisk: z.number().int(), overdue: z.number().int() }).meta({ description: 'Now: cases still running undecided; yellow, red' }),
  workingDaysHeld: z
    .object({ cases: z.number().int(), receiving: z.number().nullable(), handling: z.number().nullable(), applicant: z.number().nullable(), post: z.number().nullable() })
    .meta({ description: 'Mean working days each party held the period’s closed cases (hand-off ledger custody)' }),
  workingDaysPerStage: z
    .object({ cases: z.number().int(), ...Object.fromEntries(COUNTED_STAGES.map((s) => [s, z.number().nullable()])) as Record<(typeof COUNTED_STAGES)[number], z.ZodNullable<z.ZodNumber>> })
    .meta({ description: 'Mean working days the period’s closed cases spent in each stage (intake … delivery), from their recorded events up to the closing, and how many cases the means are over' }),
  correctionRounds: z.object({ '0': z.number().int(), '1': z.number().int(), '2': z.number().int(), '3+': z.number().int() }),
  evaluations: z.object({
    total: z.number().int(),
    byLevel: z.object(Object.fromEntries(EVALUATION_LEVELS.map((l) => [l, z.number().int()]))),
    openFollowUps: z.number().int(),
  }),
};
const reportSchema = z
  .object({
    region: z.string(),
    from: z.string(),
    to: z.string(),
    groupBy: z.enum(REPORT_GROUPINGS),
    generatedAt: z.string().meta({ format: 'date-time' }),
    groups: z.array(z.object({ key: z.string(), name: z.string(), ...figuresShape })),
    total: z.object({
      ...figuresShape,
      followUps: z.object({ open: z.number().int(), overdue: z.number().int(), escalated: z.number().int(), resolved: z.number().int(), unresolved: z.number().int() }),
    }),
    weekly: z.array(z.object({ week: z.string(), from: z.string(), cases: z.number().int(), decided: z.number().int(), promised: limitSchema, statutory: limitSchema })),
  })
  .meta({ id: 'SlaReport' });

export const reportRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/reports/sla',
    {
      config: { roles: ['supervisor', 'manager'] },
      schema: {
        ...secured,
        tags: ['reports'],
        summary: 'SLA compliance of the cases the staff member’s region covers (either side), per item, region or province pair, with a weekly trend',
        description:
          'The period [from, to) is over each case’s outcome: its decision, or its closing when it ended without one (China dates). Open counts are as of now. No case ids or personal data. `?format=csv` or `Accept: text/csv` returns the table (`table=groups|weekly`) as CSV.',
        querystring: querySchema,
        response: { 200: reportSchema, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const report = await slaReport({ pool: app.pool, calendar: app.calendar }, staffOf(request), q);
      const wantsCsv = q.format === 'csv' || (q.format === undefined && /\btext\/csv\b/i.test(request.headers.accept ?? ''));
      if (!wantsCsv) return report;
      const csv = q.table === 'weekly' ? weeklyCsv(report) : groupsCsv(report);
      const file = `sla-${report.region}-${q.from}-${q.to}-${q.table === 'weekly' ? 'weekly' : q.groupBy}.csv`;
      // A byte-order mark, so spreadsheet programs read the Chinese names as UTF-8. A Buffer is sent
      // as it is (no serializer, no response schema); the type provider knows only the JSON shape.
      const body = Buffer.from(`\uFEFF${csv}`, 'utf8') as unknown as SlaReport;
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${file}"`).send(body);
    },
  );
};
