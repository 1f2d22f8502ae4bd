// Province callbacks (docs/province-protocol.md): a verified, validated event is recorded once per
// (province, case, eventId) and signalled to the case's workflow; a duplicate is acknowledged and
// ignored. The SQL lives in db/callbacks.ts; the event's shape in contracts/province.ts.
//
// Order of work, and why: no pooled database transaction may stay open across a Temporal call (a
// slow or unreachable Temporal would otherwise pin connections and locks). So the row is inserted
// and committed first, then the signal is sent, then the row is marked delivered. If the signal
// fails, the row is deleted again (a failed signal leaves no row) and the province's retry is
// processed afresh. Should that delete fail too, the row stays undelivered and a repeat of the
// event is signalled again rather than answered "duplicate". A signal that may have arrived
// although we saw an error is harmless: the workflow counts each eventId once.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type pg from 'pg';
import type { ProvinceEndpoint } from '../config/index.js';
import type { ProvinceEventMessage } from '../contracts/province.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest, type SignatureProblem } from '../crypto/signing.js';
import { forgetCallback, markCallbackDelivered, recordCallback, type CallbackKey } from '../db/callbacks.js';
import { provinceOf } from '../domain/regions.js';
import { caseWorkflowId, participantWorkflowId, provinceEventSignal } from '../workflows/messages.js';
import type { Metrics } from './metrics.js';
import { problem } from './problem.js';

const SIGNATURE_DETAIL: Record<SignatureProblem, string> = {
  missing: 'the request is not signed (X-Tongban-Timestamp and X-Tongban-Signature are required)',
  stale: 'the signature timestamp is more than 300 seconds from our clock',
  mismatch: 'the signature does not match',
};

export function findProvince(provinces: readonly ProvinceEndpoint[], regionCode: string): ProvinceEndpoint {
  const province = provinces.find((p) => p.code === regionCode);
  if (!province) throw problem(404, `no province gateway ${regionCode}`);
  return province;
}

export function checkSignature(
  province: ProvinceEndpoint,
  req: { url: string; rawBody: string; headers: Record<string, string | string[] | undefined> },
): void {
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  const failure = verifyRequest(province.secret, {
    method: 'POST',
    path: req.url,
    body: req.rawBody,
    timestamp: header(TIMESTAMP_HEADER),
    signature: header(SIGNATURE_HEADER),
  });
  if (failure) throw problem(401, SIGNATURE_DETAIL[failure], { slug: `signature-${failure}` });
}

export type CallbackResult = 'accepted' | 'duplicate' | 'closed';

export async function receiveProvinceEvent(
  deps: { pool: pg.Pool; temporal: Client; signalTimeoutMs: number; metrics?: Pick<Metrics, 'callbackLag'> },
  regionCode: string,
  event: ProvinceEventMessage,
): Promise<CallbackResult> {
  const key: CallbackKey = { regionCode, caseId: event.caseId, eventId: event.eventId };
  // Finds the case and records the event in one statement; it records nothing for a case of
  // another province.
  const recorded = await recordCallback(deps.pool, key, event.type);
  // A province may only report on the cases it handles (for a joint case: its participant's part).
  if (!recorded || provinceOf(recorded.target.region) !== regionCode) throw problem(404, `no case ${event.caseId} for province ${regionCode}`);
  const { target, seen } = recorded;
  if (seen === 'delivered') return 'duplicate';
  // 'new', or 'undelivered': an earlier delivery failed (or is still under way); signal again.

  let result: CallbackResult = 'accepted';
  const signal = { eventId: event.eventId, type: event.type, at: event.at, data: event.data, via: 'callback' as const };
  const send = (workflowId: string) =>
    deps.temporal.connection.withDeadline(Date.now() + deps.signalTimeoutMs, () => deps.temporal.workflow.getHandle(workflowId).signal(provinceEventSignal, signal));
  try {
    if (!target.participantOf) {
      await send(caseWorkflowId(event.caseId));
    } else {
      // A participant of a joint case takes its authority's events while its part runs; once it
      // has ended (the result issuing authority's delivery reports), the case itself takes them.
      try {
        await send(participantWorkflowId(event.caseId));
      } catch (e) {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
        await send(caseWorkflowId(target.participantOf));
      }
    }
  } catch (e) {
    // The case has ended (e.g. a late delivery receipt after staff confirmed it): there is
    // nothing left to tell it, and the province should stop retrying. The event stays recorded.
    if (!(e instanceof WorkflowNotFoundError)) {
      await forgetCallback(deps.pool, key).catch(() => undefined);
      throw Object.assign(problem(503, 'the event could not be delivered to the case; retry later', { headers: { 'retry-after': '5' } }), { cause: e });
    }
    result = 'closed';
  }
  await markCallbackDelivered(deps.pool, key);
  // Accepted events only: a duplicate of a delivered one is answered without counting its wait again.
  if (result === 'accepted') observeLag(deps.metrics, regionCode, event);
  return result;
}

/** Province clock to our acceptance; a province clock ahead of ours counts as no lag. */
function observeLag(metrics: Pick<Metrics, 'callbackLag'> | undefined, regionCode: string, event: ProvinceEventMessage): void {
  const at = Date.parse(event.at);
  if (!metrics || Number.isNaN(at)) return;
  metrics.callbackLag.observe({ province: regionCode, type: event.type }, Math.max(0, (Date.now() - at) / 1000));
}
