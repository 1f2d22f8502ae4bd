// Province callbacks (docs/province-protocol.md): a verified event is recorded once per
// (province, eventId) and signalled to the case's workflow in the same breath. The row is
// committed only after the signal went through, so a failed signal leaves no trace and the
// province's retry is processed afresh; a duplicate is acknowledged and ignored.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type pg from 'pg';
import type { ProvinceEndpoint } from '../config/index.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyRequest, type SignatureProblem } from '../crypto/signing.js';
import { provinceOf } from '../domain/regions.js';
import { caseWorkflowId, provinceEventSignal } from '../workflows/messages.js';
import { withTransaction } from './db.js';
import { problem } from './problem.js';
import type { ProvinceEventBody } from './schemas.js';

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
  deps: { pool: pg.Pool; temporal: Client; signalTimeoutMs: number },
  regionCode: string,
  event: ProvinceEventBody,
): Promise<CallbackResult> {
  const { rows } = await deps.pool.query<{ handling_region: string }>(`SELECT handling_region FROM cases WHERE case_id = $1`, [event.caseId]);
  const handling = rows[0]?.handling_region;
  // A province may only report on the cases it handles.
  if (!handling || provinceOf(handling) !== regionCode) throw problem(404, `no case ${event.caseId} for province ${regionCode}`);

  return withTransaction(deps.pool, async (client) => {
    const inserted = await client.query(
      `INSERT INTO province_callbacks (region_code, event_id, case_id, type) VALUES ($1,$2,$3,$4) ON CONFLICT DO NOTHING RETURNING event_id`,
      [regionCode, event.eventId, event.caseId, event.type],
    );
    if (inserted.rowCount === 0) return 'duplicate';
    try {
      await deps.temporal.connection.withDeadline(Date.now() + deps.signalTimeoutMs, () =>
        deps.temporal.workflow
          .getHandle(caseWorkflowId(event.caseId))
          .signal(provinceEventSignal, { eventId: event.eventId, type: event.type, at: event.at, data: event.data, via: 'callback' }),
      );
    } catch (e) {
      // The case has ended (e.g. a late delivery receipt after staff confirmed it): there is
      // nothing left to tell it, and the province should stop retrying. The event stays recorded.
      if (e instanceof WorkflowNotFoundError) return 'closed';
      throw Object.assign(problem(503, 'the event could not be delivered to the case; retry later'), { cause: e });
    }
    return 'accepted';
  });
}
