// GET /v1/cases/:caseId/handoffs: the hand-off ledger (交接台账) of a case, its chain checked, and
// who held the case for how many working days. Any staff member of either side may read it
// (case.read in domain/policy.ts); staff of neither side are told the case does not exist.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HANDOFF_KINDS, HANDOFF_PARTIES } from '../../domain/handoffs.js';
import { staffOf } from '../auth.js';
import { allowedRoles } from '../../domain/policy.js';
import { authorizeCaseAction } from '../caseReads.js';
import { caseHandoffs } from '../handoffs.js';
import { problems } from '../problem.js';
import { caseIdParams } from '../schemas.js';
import { secured } from './common.js';

const party = z.enum(HANDOFF_PARTIES);
const hash = z.string().meta({ description: 'SHA-256, 64 hex characters' });

const ledgerEntrySchema = z
  .object({
    seq: z.number().int().meta({ description: '1, 2, 3, … within the case’s ledger' }),
    kind: z.enum(HANDOFF_KINDS),
    ref: z.string().meta({ description: 'What is handed over, named within the case (material:<code>, notice:<noticeId>, result:post, ack:<ref>, …)' }),
    from: party,
    to: party,
    what: z.array(z.record(z.string(), z.union([z.string(), z.number(), z.null()]))).meta({ description: 'The things handed over, with their content hashes' }),
    sentAt: z.string(),
    acknowledgedAt: z.string().nullable().meta({ description: 'The receipt recorded with the hand-off, else the first later ack of it; null while none' }),
    acknowledgedBySeq: z.number().int().optional().meta({ description: 'The ack entry that acknowledged it, when the receipt came later' }),
    acknowledges: z.number().int().nullable().meta({ description: 'For an ack: the entry it acknowledges' }),
    source: z.object({ eventSeq: z.number().int(), runId: z.string().nullable() }).nullable().meta({ description: 'The case event (and workflow run) that recorded it; null for a hand-off appended without an event' }),
    supersededBy: z.string().nullable().meta({ description: 'The workflow run that replaced the one that recorded this entry (temporal workflow reset); the entry stays on the ledger' }),
    entryHash: hash,
    prevHash: hash,
  })
  .meta({ id: 'HandoffEntry' });

const handoffLedgerSchema = z
  .object({
    caseId: z.string(),
    entries: z.array(ledgerEntrySchema),
    chain: z.object({
      ok: z.boolean(),
      length: z.number().int(),
      headHash: hash.meta({ description: 'The last entry’s hash (64 zeros when the ledger is empty): keep it to detect a later rewrite' }),
      firstBadSeq: z.number().int().nullable(),
      problem: z.string().nullable(),
    }),
    asOf: z.string().meta({ description: 'Custody is counted to this instant: when the case closed, or now' }),
    custody: z.array(
      z.object({
        holder: party,
        from: z.string(),
        to: z.string().nullable().meta({ description: 'null while the holder still has the case' }),
        workingDays: z.number().int().nullable().meta({ description: 'Working days after the day it took the case up to and including the day it passed it on (or asOf); null past the calendar data' }),
      }),
    ),
    workingDaysBySide: z.object({ receiving: z.number().int(), handling: z.number().int(), applicant: z.number().int(), post: z.number().int() }),
    calendarGap: z.string().nullable(),
  })
  .meta({ id: 'HandoffLedger' });

export const handoffRoutes: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/cases/:caseId/handoffs',
    {
      // A manager or an item admin reads no case: 403 before anything is looked up (docs/security.md).
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['cases'],
        summary: 'The hand-off ledger (交接台账): every hand-off, hash-chained, and the working days each party held the case',
        description:
          'Entries are chained by hash (sha256 of the previous hash and the entry’s canonical JSON); `chain` says whether the stored chain verifies and, if not, the first bad entry. Custody: the receiving side, the handling side, the applicant and the post, counted in working days as art. 82 counts.',
        params: caseIdParams,
        response: { 200: handoffLedgerSchema, ...problems(400, 401, 404) },
      },
    },
    async (request) => {
      await authorizeCaseAction(app.pool, staffOf(request), request.params.caseId, 'case.read');
      return caseHandoffs(app.pool, app.calendar, request.params.caseId);
    },
  );
};
