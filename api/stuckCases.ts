// The stuck list (GET /v1/cases?stuck=true and its live stream): the thresholds as instants (the
// province silence in elapsed hours, idleness and the liaison reply time in office hours on the
// working calendar), the candidates from the projection, Temporal's report of failing workflow
// tasks, and the reasons (domain/stuck.ts), longest waiting first.
import type { Client } from '@temporalio/client';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { Config } from '../config/index.js';
import { findStuckCandidates } from '../db/stuckCases.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { parseOfficeHours, subtractOfficeHours } from '../domain/officeHours.js';
import { stuckReasons, stuckSince, type StuckReason, type StuckThresholds } from '../domain/stuck.js';
import { caseWorkflowId } from '../workflows/messages.js';
import type { StaffClaims } from './auth.js';
import { problem } from './problem.js';
import type { CaseListQuery, CaseSummary } from './schemas.js';

export interface StuckDeps {
  pool: pg.Pool;
  temporal: Client;
  config: Config;
  calendar: WorkingCalendar;
}

export type StuckCase = CaseSummary & { stuck: StuckReason[]; stuckSince: string };

/** At most this many stuck cases in one answer: enough for a queue; narrow with the filters beyond it. */
const STUCK_LIST_MAX = 500;

export function stuckThresholds(config: Config, calendar: WorkingCalendar, now = new Date()): StuckThresholds {
  const office = parseOfficeHours(config.OFFICE_HOURS);
  const back = (hours: number) => {
    try {
      return subtractOfficeHours(calendar, office, now, hours);
    } catch {
      // Past the calendar data: count the hours as elapsed time rather than hide stuck cases.
      return new Date(now.getTime() - hours * 3_600_000);
    }
  };
  return {
    provinceSilentBefore: new Date(now.getTime() - config.STUCK_PROVINCE_WAIT_HOURS * 3_600_000),
    idleBefore: back(config.STUCK_IDLE_WORKING_HOURS),
    liaisonDueBefore: back(config.LIAISON_REPLY_HOURS),
  };
}

/** The stuck cases the staff member's region covers, longest waiting first. */
export async function listStuckCases(deps: StuckDeps, staff: StaffClaims, filter: { reason?: string } = {}): Promise<StuckCase[]> {
  const thresholds = stuckThresholds(deps.config, deps.calendar);
  const rows = await findStuckCandidates(deps.pool, { scope: staff.region, ...thresholds, limit: STUCK_LIST_MAX });
  const judged = rows.map(({ summary, candidate }) => ({ summary, candidate, stuck: stuckReasons({ ...candidate, workflowProblem: null }, thresholds) }));
  // A workflow whose task keeps failing records nothing, so its case turns idle: ask Temporal about those.
  const idle = judged.filter((j) => j.stuck.some((r) => r.reason === 'idle')).map((j) => j.summary.caseId);
  const failing = await failingWorkflowTasks(deps.temporal, idle);
  const out: StuckCase[] = [];
  for (const { summary, candidate, stuck: first } of judged) {
    const problem = failing.get(summary.caseId);
    const stuck = problem ? stuckReasons({ ...candidate, workflowProblem: problem }, thresholds) : first;
    if (stuck.length === 0) continue;
    if (filter.reason && !stuck.some((r) => r.reason === filter.reason)) continue;
    out.push({ ...summary, stuck, stuckSince: stuckSince(stuck) });
  }
  return out.sort((a, b) => a.stuckSince.localeCompare(b.stuckSince) || a.caseId.localeCompare(b.caseId));
}

/**
 * Of these cases, the ones whose workflow task Temporal is retrying (a bad deploy, a payload our
 * key cannot open): its pending workflow task on a second or later attempt. A case Temporal
 * cannot describe right now keeps its other reasons.
 */
async function failingWorkflowTasks(temporal: Client, caseIds: string[]): Promise<Map<string, { since: string; detail: string }>> {
  const out = new Map<string, { since: string; detail: string }>();
  const queue = [...caseIds];
  const worker = async () => {
    for (let id = queue.shift(); id; id = queue.shift()) {
      try {
        const d = await temporal.workflow.getHandle(caseWorkflowId(id)).describe();
        const task = d.raw.pendingWorkflowTask;
        const attempt = task?.attempt ?? 0;
        if (d.status.name !== 'RUNNING' || attempt < 2) continue;
        const scheduled = task?.originalScheduledTime ?? task?.scheduledTime;
        const since = scheduled?.seconds ? new Date(Number(scheduled.seconds) * 1000).toISOString() : new Date().toISOString();
        out.set(id, { since, detail: `Temporal is retrying the case's workflow task (attempt ${attempt}): a deploy or a payload it cannot process; see the workflow in the Temporal Web UI` });
      } catch {
        // Not found or not reachable: nothing to add.
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(8, queue.length) }, worker));
  return out;
}

/** GET /v1/cases?stuck=true: the stuck list with the list's other filters applied to it. */
export async function listStuckForQuery(deps: StuckDeps, staff: StaffClaims, q: CaseListQuery): Promise<{ items: StuckCase[]; nextCursor: null }> {
  if (q.idNumber) throw problem(400, 'the stuck list is not searched by identity number: search without stuck=true', { errors: [{ path: 'query.idNumber', message: 'not with stuck=true' }] });
  const all = await listStuckCases(deps, staff, q.reason ? { reason: q.reason } : {});
  const items = all.filter(
    (c) =>
      (!q.stage || c.stage === q.stage) &&
      (!q.status || c.status === q.status) &&
      (!q.itemCode || c.itemCode === q.itemCode) &&
      (!q.handlingRegion || c.handlingRegion === q.handlingRegion) &&
      (!q.receivingRegion || c.receivingRegion === q.receivingRegion) &&
      (q.needsIntervention === undefined || c.needsIntervention === q.needsIntervention) &&
      (!q.sla || c.slaState === q.sla),
  );
  return { items, nextCursor: null };
}

/**
 * GET /v1/cases/stuck/events: the list at once, then again whenever it changes, as server-sent
 * events; a keep-alive comment otherwise, so proxies keep the connection. Ends with the client.
 */
export async function streamStuckCases(deps: StuckDeps, staff: StaffClaims, request: FastifyRequest, reply: FastifyReply, intervalMs: number): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  let last = '';
  let closed = false;
  request.raw.on('close', () => {
    closed = true;
  });
  while (!closed) {
    try {
      const items = await listStuckCases(deps, staff);
      const text = JSON.stringify({ items });
      // The reasons' "since" never changes while a case stays stuck, so an unchanged text is an unchanged list.
      if (text !== last) {
        last = text;
        res.write(`event: stuck\ndata: ${text}\n\n`);
      } else {
        res.write(': keep-alive\n\n');
      }
    } catch (e) {
      request.log.warn({ err: e }, 'the stuck list could not be read; trying again');
      res.write(`event: unavailable\ndata: {"retryInMs":${intervalMs}}\n\n`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  res.end();
}
