// Review (审核) at the handling authority until its decision, then the decision itself: an
// approval goes on to delivery, a rejection closes the case with the authority's reasons.
import type { ProvinceEvent } from '../../domain/case.js';
import { enter, type CaseRun } from './run.js';

/** Waits for the handling authority's decision, recording its acceptance on the way. */
export async function review(c: CaseRun): Promise<ProvinceEvent> {
  for (;;) {
    const event = (await c.inbox.next(['case.accepted', 'case.approved', 'case.rejected']))!;
    if (event.type !== 'case.accepted') return event;
    await c.record('review.accepted', { eventId: event.eventId, via: event.via }, `province:${c.provinceCode}`);
  }
}

/** Records the decision; true when the case was approved and goes on to delivery. */
export async function decide(c: CaseRun, decisionEvent: ProvinceEvent): Promise<boolean> {
  enter(c, 'decision');
  const approved = decisionEvent.type === 'case.approved';
  const reasons = approved ? [] : stringList(decisionEvent.data.reasons);
  c.state.decision = { outcome: approved ? 'approved' : 'rejected', reasons, at: decisionEvent.at };
  const actor = `province:${c.provinceCode}`;
  if (approved) {
    await c.record('decision.approved', { eventId: decisionEvent.eventId, via: decisionEvent.via, reasons }, actor);
    return true;
  }
  await c.record('decision.rejected', { eventId: decisionEvent.eventId, via: decisionEvent.via, reasons }, actor);
  enter(c, 'closed', 'rejected');
  await c.record('case.closed', { outcome: 'rejected' });
  return false;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
