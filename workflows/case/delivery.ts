// Delivery (送达): an electronic certificate is issued with the approval; a result sent by mail is
// tracked until the province reports it received (or staff record the receipt), or returned
// undelivered, when it waits at the receiving window instead; a window pick-up is confirmed by the
// receiving window's clerk. Then the case is complete.
import { condition, patched } from '@temporalio/workflow';
import type { CaseState, ProvinceEvent, ProvinceEventType } from '../../domain/case.js';
import { maskName } from '../../domain/idNumber.js';
import { enter, type CaseRun } from './run.js';

/** Mail may come back undelivered; the result then waits at the receiving window. */
export const MAIL_RETURNED_PATCH = 'mail-returned';

export async function deliver(c: CaseRun, approval: ProvinceEvent): Promise<void> {
  enter(c, 'delivery');
  await handOver(c, approval);
  enter(c, 'closed', 'completed');
  await c.record('case.completed', { delivery: c.state.delivery.method });
}

async function handOver(c: CaseRun, approval: ProvinceEvent): Promise<void> {
  const { state } = c;
  const actor = `province:${c.provinceCode}`;
  const method = state.delivery.method;
  if (method === 'electronic') {
    const certificate = approval.data.certificate as CaseState['delivery']['certificate'];
    state.delivery = { ...state.delivery, status: 'issued', certificate };
    await c.record('delivery.issued', { certificate: certificate ?? null }, actor);
    return;
  }
  await c.record('delivery.awaiting', { method });
  const confirmedByStaff = () => c.confirmation !== null;
  if (method === 'mail') {
    // Since MAIL_RETURNED_PATCH the post may bring the result back undelivered (退件).
    const returnable = patched(MAIL_RETURNED_PATCH);
    const outcomes: ProvinceEventType[] = returnable ? ['delivery.received', 'delivery.returned'] : ['delivery.received'];
    const mailed = await c.inbox.next(['delivery.mailed', ...outcomes], confirmedByStaff);
    if (mailed?.type === 'delivery.mailed') {
      state.delivery = { ...state.delivery, status: 'mailed', trackingNumber: stringOr(mailed.data.trackingNumber) };
      await c.record('delivery.mailed', { trackingNumber: state.delivery.trackingNumber ?? null, via: mailed.via }, actor);
    }
    const outcome = mailed && mailed.type !== 'delivery.mailed' ? mailed : await c.inbox.next(outcomes, confirmedByStaff);
    if (outcome?.type === 'delivery.received') {
      state.delivery = { ...state.delivery, status: 'confirmed', confirmedBy: actor, confirmedAt: outcome.at };
      // The recipient's name is personal data: only its masked form is recorded.
      const signedBy = stringOr(outcome.data.signedBy);
      await c.record('delivery.confirmed', { signedBy: signedBy ? maskName(signedBy) : null, via: outcome.via }, actor);
      return;
    }
    if (outcome?.type === 'delivery.returned') {
      // The result goes to the receiving window; the applicant is told it is there and collects it.
      const reason = stringOr(outcome.data.reason) ?? '';
      state.delivery = { ...state.delivery, status: 'returned', returnedReason: reason };
      await c.record('delivery.returned', { trackingNumber: state.delivery.trackingNumber ?? stringOr(outcome.data.trackingNumber) ?? null, reason, via: outcome.via }, actor);
      await c.record('delivery.awaiting', { method: 'window' });
      await condition(confirmedByStaff);
    }
  } else {
    await condition(confirmedByStaff);
  }
  const confirmation = c.confirmation!;
  state.delivery = { ...state.delivery, status: 'confirmed', confirmedBy: confirmation.actor, confirmedAt: new Date().toISOString() };
  await c.record(
    'delivery.confirmed',
    { method: confirmation.method, note: confirmation.note ?? null, role: confirmation.role, region: confirmation.region },
    confirmation.actor,
  );
}

function stringOr(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
