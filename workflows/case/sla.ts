// The SLA clock of a running case (行政许可法 art. 42, 45, 82): from the day the handling authority
// received the materials until its decision, the case knows where it stands against its promised
// and statutory limits, and acts when that changes. It runs beside the procedure (never cancelled
// by a withdrawal) and:
//   - reads both limits through a local activity (the calendar and the warning thresholds reach the
//     workflow as its result, domain/sla.ts) when the authority receives the materials
//     (`sla.started`), and again right after each clock event is recorded (a pause begins or
//     ends, an extension is approved, art. 32 moves the start: `sla.changed`);
//   - sleeps until the next change the reading predicts: the warning day, the day after the due
//     date (or, under the seam, the same points in elapsed working-day lengths);
//   - records each change (`sla.warning`, `sla.overdue`), escalates an overdue limit to the
//     supervisors of the handling side (`sla.escalated`), and at the decision records the final
//     figures (`sla.stopped`). A case closed without a decision (withdrawn, not supplemented)
//     keeps its last reading, marked settled.
// The state it keeps (`CaseState.sla`) reaches the projection's columns and the `SlaState` and
// `DueDate` search attributes through the recorder.
import { condition, isCancellation, patched, proxyLocalActivities } from '@temporalio/workflow';
import type { CalendarActivities } from '../../activities/index.js';
import { isOpenStatus, type CaseSla } from '../../domain/case.js';
import type { SlaLimitFigures } from '../../domain/caseEvents.js';
import type { SlaLimit, SlaLimitName, SlaReading } from '../../domain/sla.js';
import { failureText, isClockEvent } from './record.js';
import type { CaseRun } from './run.js';

/** Cases since this patch keep an SLA clock with timers; older ones only show deadlines in the api. */
export const SLA_PATCH = 'sla-timers';

/** When the calendar data does not reach, the clock is read again after a day (a seam day in tests). */
const RECHECK_MS = 24 * 60 * 60 * 1000;

const clock = proxyLocalActivities<CalendarActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});

const LIMITS: readonly SlaLimitName[] = ['promised', 'statutory'];

/**
 * Installs the clock on the case and runs its timers; resolves when the case is decided or closed.
 * Readings taken because of a recorded event happen inside that record() call (so they follow the
 * event in the timeline, in the same order every run); readings taken because time passed happen
 * here. Both go through one queue, so two readings never interleave.
 */
export async function runSlaClock(c: CaseRun): Promise<void> {
  const { state, input } = c;
  const over = () => !isOpenStatus(state.status) || state.decision !== null;
  let queue: Promise<void> = Promise.resolve();
  const serial = (fn: () => Promise<void>): Promise<void> => {
    const run = queue.then(fn);
    queue = run.catch(() => {});
    return run;
  };

  let started = false;
  let unavailable = false;
  let nextAt: number | null = null;
  let readings = 0;

  async function readAndApply(settling: boolean): Promise<void> {
    // A timer that fires as the case closes reads nothing: the case keeps its last reading.
    if (!settling && over()) return;
    try {
      const reading = await clock.readSla({
        events: c.clockEvents,
        promisedDays: input.item.promisedDays,
        statutoryDays: input.item.statutoryDays,
        now: new Date().toISOString(),
        ...(input.timing.workingDayMs ? { workingDayMs: input.timing.workingDayMs } : {}),
      });
      unavailable = false;
      nextAt = reading.nextChangeAt ? Date.parse(reading.nextChangeAt) : null;
      await apply(c, reading, settling);
    } catch (err) {
      if (isCancellation(err)) throw err;
      // The calendar data does not reach (CALENDAR_RANGE): say so once, and look again later.
      nextAt = Date.now() + (input.timing.workingDayMs ?? RECHECK_MS);
      if (settling) return;
      if (!unavailable) await c.record('sla.unavailable', { problem: failureText(err).slice(0, 500) });
      unavailable = true;
    } finally {
      // Counted once the reading (and nextAt) is in: the timer loop below waits again from it.
      readings += 1;
    }
  }

  let delivery: ReturnType<typeof createDeliveryClock> | null = null;
  let decided = false;
  c.afterRecord = async (type) => {
    if (type === 'review.started') started = true;
    // Art. 44: an approved result handed over by mail or at the window has its own clock.
    if (type === 'delivery.awaiting' && delivery) await serial(() => delivery!.start());
    if (type === 'delivery.confirmed' && delivery) await serial(() => delivery!.stop());
    if (type === 'decision.approved' && started && input.delivery.method !== 'electronic' && patched(DELIVERY_CLOCK_PATCH)) delivery = createDeliveryClock(c);
    if (type === 'decision.approved' || type === 'decision.rejected') decided = true;
    if (!started || state.sla?.settled) return;
    if (type === 'decision.approved' || type === 'decision.rejected') await serial(() => readAndApply(true));
    else if (isClockEvent(type)) await serial(() => readAndApply(false));
  };

  await condition(() => started || over());
  for (;;) {
    if (over()) break;
    const seen = readings;
    const changed = () => readings !== seen || over();
    const timedOut = nextAt === null ? (await condition(changed), false) : !(await condition(changed, Math.max(1, nextAt - Date.now())));
    if (timedOut) await serial(() => readAndApply(false));
  }
  // Art. 44's clock, when the decision started one, runs until the result is delivered.
  // The loop ends as the decision is taken; its record (which may start art. 44's clock) follows.
  await condition(() => decided || !isOpenStatus(state.status));
  const deliveryClock = delivery as ReturnType<typeof createDeliveryClock> | null;
  if (deliveryClock) await deliveryClock.finished();
}

/** The delivery clock came with the art. 44 limit; cases before it stop their clock at the decision. */
export const DELIVERY_CLOCK_PATCH = 'delivery-clock';

/** 行政许可法 art. 44: the result reaches the applicant within 10 working days of the decision. */
export const DELIVERY_LIMIT_DAYS = 10;

/**
 * Art. 44's clock, from the recorded approval until the result is confirmed received: readings on
 * the same activity (a limit of 10 working days from the approval, no pauses), a warning, and an
 * overdue limit escalated to the supervisors of the side that hands the result over (the receiving
 * window for a pick-up, the authority for mail). It starts and stops inside the record() calls of
 * `delivery.awaiting` and `delivery.confirmed` (so the timeline order is the same every run); the
 * warning and the overdue come from its timer.
 */
function createDeliveryClock(c: CaseRun) {
  const { state, input } = c;
  const side = input.delivery.method === 'window' ? 'receiving' : 'handling';
  const done = () => state.delivery.status === 'confirmed' || !isOpenStatus(state.status);
  let last: SlaLimit | null = null;
  let nextAt: number | null = null;
  let running: Promise<void> | null = null;
  let stopped = false;

  async function read(): Promise<SlaLimit | null> {
    try {
      const reading = await clock.readSla({
        events: [{ type: 'review.started', at: c.approvedAt!, data: {} }],
        promisedDays: DELIVERY_LIMIT_DAYS,
        statutoryDays: DELIVERY_LIMIT_DAYS,
        now: new Date().toISOString(),
        ...(input.timing.workingDayMs ? { workingDayMs: input.timing.workingDayMs } : {}),
      });
      nextAt = reading.nextChangeAt ? Date.parse(reading.nextChangeAt) : null;
      if (state.sla) state.sla = { ...state.sla, delivery: reading.promised };
      return reading.promised;
    } catch (err) {
      if (isCancellation(err)) throw err;
      nextAt = Date.now() + (input.timing.workingDayMs ?? RECHECK_MS);
      return null;
    }
  }
  const figures = (l: SlaLimit) => ({ state: l.state, dueDate: l.dueDate, used: l.used, remaining: l.remaining });

  async function changes(limit: SlaLimit): Promise<void> {
    if (limit.state === 'yellow' && (last?.state ?? 'green') === 'green') await c.record('sla.delivery_warning', figures(limit));
    if (limit.state === 'red' && last?.state !== 'red') {
      await c.record('sla.delivery_overdue', figures(limit));
      await c.record('sla.escalated', {
        limit: 'delivery',
        to: { role: 'supervisor', side, region: side === 'receiving' ? input.receivingRegion : c.handlingRegion },
        dueDate: limit.dueDate,
        overdueBy: -limit.remaining,
      });
    }
    last = limit;
  }

  async function timers(): Promise<void> {
    for (;;) {
      await condition(() => done() || stopped, nextAt === null ? undefined : Math.max(1, nextAt - Date.now()));
      if (done() || stopped) return;
      const limit = await read();
      if (limit && !done() && !stopped) await changes(limit);
    }
  }

  return {
    /** At `delivery.awaiting` (the first one: returned mail records another). */
    async start(): Promise<void> {
      if (running || !c.approvedAt) return;
      const limit = await read();
      if (limit) {
        await c.record('sla.delivery_started', figures(limit));
        await changes(limit);
      }
      running = timers();
    },
    /** At `delivery.confirmed`: the final figures. */
    async stop(): Promise<void> {
      if (!running || stopped) return;
      stopped = true;
      const limit = await read();
      if (limit) await c.record('sla.delivery_stopped', figures(limit));
    },
    /** Resolves once stopped (or the case closed otherwise) and the timer loop has ended. */
    async finished(): Promise<void> {
      await condition(() => stopped || !isOpenStatus(state.status));
      if (running) await running;
    },
  };
}

/** Records what changed since the last reading; the case's `sla` is updated first so the projection carries it. */
async function apply(c: CaseRun, reading: SlaReading, settled: boolean): Promise<void> {
  const { state } = c;
  const prev = state.sla ?? null;
  const next: CaseSla = {
    state: reading.state,
    promised: reading.promised,
    statutory: reading.statutory,
    escalatedAt: prev?.escalatedAt ?? null,
    settled,
    readAt: new Date().toISOString(),
  };
  state.sla = next;
  const summary = { state: reading.state, promised: figures(reading.promised), statutory: figures(reading.statutory) };
  // At the decision the clock stops: the final figures, nothing to warn or escalate any more.
  if (settled) {
    await c.record('sla.stopped', summary);
    return;
  }
  let recorded = false;
  if (!prev) {
    await c.record('sla.started', summary);
    recorded = true;
  }
  for (const name of LIMITS) {
    const before = prev?.[name].state ?? 'green';
    const limit = reading[name];
    if (limit.state === before) continue;
    if (limit.state === 'yellow' && before === 'green') {
      await c.record('sla.warning', { limit: name, dueDate: limit.dueDate, remaining: limit.remaining, used: limit.used });
      recorded = true;
    }
    if (limit.state === 'red') {
      await c.record('sla.overdue', { limit: name, dueDate: limit.dueDate, remaining: limit.remaining, used: limit.used });
      next.escalatedAt ??= new Date().toISOString();
      await c.record('sla.escalated', {
        limit: name,
        to: { role: 'supervisor', side: 'handling', region: c.handlingRegion },
        dueDate: limit.dueDate,
        overdueBy: -limit.remaining,
      });
      recorded = true;
    }
  }
  if (!recorded && prev && moved(prev, next)) await c.record('sla.changed', summary);
}

function figures(l: SlaLimit): SlaLimitFigures {
  return { state: l.state, dueDate: l.dueDate, used: l.used, remaining: l.remaining, extendedBy: l.extendedBy, stopped: l.stopped };
}

/** A due date moved (a pause, an extension, art. 32), the clock stopped or resumed, or a state went back. */
function moved(a: CaseSla, b: CaseSla): boolean {
  return LIMITS.some((n) => a[n].dueAt !== b[n].dueAt || a[n].extendedBy !== b[n].extendedBy || a[n].stopped !== b[n].stopped || a[n].state !== b[n].state);
}
