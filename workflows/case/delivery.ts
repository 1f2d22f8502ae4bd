// Delivery (送达): an electronic certificate is issued with the approval; a result sent by mail is
// tracked until the province reports it received (or staff record the receipt); a window pick-up
// is confirmed by the receiving window's clerk. Then the case is complete.
import { condition } from '@temporalio/workflow';
import type { CaseState, ProvinceEvent } from '../../domain/case.js';
import { maskName } from '../../domain/idNumber.js';
import { enter, type CaseRun } from './run.js';

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
    const mailed = await c.inbox.next(['delivery.mailed', 'delivery.received'], confirmedByStaff);
    if (mailed?.type === 'delivery.mailed') {
      state.delivery = { ...state.delivery, status: 'mailed', trackingNumber: stringOr(mailed.data.trackingNumber) };
      await c.record('delivery.mailed', { trackingNumber: state.delivery.trackingNumber ?? null, via: mailed.via }, actor);
    }
    const received = mailed?.type === 'delivery.received' ? mailed : await c.inbox.next(['delivery.received'], confirmedByStaff);
    if (received) {
      state.delivery = { ...state.delivery, status: 'confirmed', confirmedBy: actor, confirmedAt: received.at };
      // The recipient's name is personal data: only its masked form is recorded.
      const signedBy = stringOr(received.data.signedBy);
      await c.record('delivery.confirmed', { signedBy: signedBy ? maskName(signedBy) : null, via: received.via }, actor);
      return;
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
