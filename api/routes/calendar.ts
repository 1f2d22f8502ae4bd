// The working-day calendar for staff: when does a limit of N working days from a given day fall
// due, and which days were passed over and why, so a clerk can tell an applicant a date and a
// supervisor can check a deadline by hand. Counting as art. 82 counts (domain/calendar.ts); the
// data is calendar/cn-<year>.json. Any staff role may ask.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CalendarRangeError, isCalendarDate } from '../../domain/calendar.js';
import { problem, problems } from '../problem.js';
import { plainString } from '../schemas.js';
import { secured } from './common.js';

/** The largest `days` asked for: longer than any statutory limit with its extension. */
export const MAX_WORKING_DAYS = 365;

// pipe(): a control character is reported alone, not again as a malformed date.
const dateParam = plainString()
  .pipe(z.string().refine(isCalendarDate, 'must be a real date written YYYY-MM-DD'))
  .meta({ description: 'A date in China (YYYY-MM-DD)', format: 'date', example: '2025-01-27' });

export const addWorkingDaysQuerySchema = z.strictObject({
  from: dateParam.meta({ description: 'The start day; not counted itself (art. 82)' }),
  days: plainString()
    .pipe(
      z
        .string()
        .regex(/^\d{1,3}$/, `must be a whole number from 0 to ${MAX_WORKING_DAYS}`)
        .transform(Number)
        .refine((n) => n <= MAX_WORKING_DAYS, `must be a whole number from 0 to ${MAX_WORKING_DAYS}`),
    )
    .meta({ description: `Working days to add, 0 to ${MAX_WORKING_DAYS}`, pattern: '^[0-9]{1,3}$', example: '20' }),
});

export const addWorkingDaysResultSchema = z
  .object({
    from: z.string(),
    days: z.number().int(),
    date: z.string().meta({ description: 'The days-th working day after from (from itself when days is 0)' }),
    skipped: z.array(
      z.object({
        date: z.string(),
        reason: z.string().meta({ description: '"weekend", or the holiday’s name as the State Council’s notice gives it (春节, 国庆节、中秋节)' }),
      }),
    ),
  })
  .meta({ id: 'WorkingDaysResult' });

export const calendarRoutes: FastifyPluginAsyncZod = async (app) => {
  const { calendar } = app;

  app.get(
    '/calendar/add-working-days',
    {
      schema: {
        ...secured,
        tags: ['calendar'],
        summary: 'The N-th working day after a date, with the days skipped',
        description: `Counts as the Administrative Licensing Law art. 82 counts: the start day is not counted; weekends are off except adjusted working weekends (调休上班); the State Council's holidays are off. Covers ${calendar.covered.from} to ${calendar.covered.to}; a date outside, or a count running past the end, is a 400.`,
        querystring: addWorkingDaysQuerySchema,
        response: { 200: addWorkingDaysResultSchema, ...problems(400, 401) },
      },
    },
    async (request) => {
      const { from, days } = request.query;
      if (!calendar.covers(from)) {
        throw problem(400, `${from} is outside the working-day calendar`, {
          errors: [{ path: 'query.from', message: `is outside the working-day calendar, which covers ${calendar.covered.from} to ${calendar.covered.to}` }],
        });
      }
      try {
        const result = calendar.addWorkingDays(from, days);
        return { from, days, date: result.date, skipped: result.skipped };
      } catch (e) {
        if (!(e instanceof CalendarRangeError)) throw e;
        throw problem(400, e.message, {
          errors: [{ path: 'query.days', message: `runs past ${calendar.covered.to}, the end of the working-day calendar` }],
        });
      }
    },
  );
};
