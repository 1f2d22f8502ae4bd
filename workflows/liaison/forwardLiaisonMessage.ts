// Forwarding one liaison message (工作联络) to the handling authority's own system: started by the api
// when a message to the handling side is recorded (workflow id `liaison:<messageId>`, so a repeat
// starts nothing). It waits until the case has reached the authority (a message may be written
// before the transfer, e.g. to prepare a consultation), posts the message, uploads each attachment
// (hash-checked there) and records what arrived. Every province call carries a key derived from the
// message, so a retry repeats nothing; a province that is down is retried without end (the message
// shows `forwardedAt: null` meanwhile); a final refusal is recorded on the message.
import { ApplicationFailure, ActivityFailure, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { ProvinceActivities } from '../../activities/index.js';
import type { LiaisonActivities } from '../../activities/liaison.js';
import { provinceTaskQueue, type ForwardLiaisonInput } from '../messages.js';

/** The longest wait between looks for the province's case while the case has not reached it. */
const LONGEST_LOOK_MS = 60 * 60_000;

export async function forwardLiaisonMessageWorkflow(input: ForwardLiaisonInput): Promise<{ forwardedAt: string }> {
  const { caseId, provinceCode, message } = input;
  const province = proxyActivities<ProvinceActivities>({
    taskQueue: provinceTaskQueue(provinceCode),
    startToCloseTimeout: input.timing.callTimeoutMs,
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: input.timing.retryInitialIntervalMs, maximumInterval: input.timing.retryMaximumIntervalMs, backoffCoefficient: 2 },
  });
  const db = proxyLocalActivities<LiaisonActivities>({ startToCloseTimeout: '30 seconds', retry: { maximumInterval: '1 minute' } });

  let provinceCaseId = await db.liaisonProvinceCaseId({ caseId });
  for (let wait = input.timing.firstLookMs; provinceCaseId === null; wait = Math.min(wait * 2, LONGEST_LOOK_MS)) {
    await sleep(wait);
    provinceCaseId = await db.liaisonProvinceCaseId({ caseId });
  }
  try {
    const { receivedAt } = await province.sendLiaisonMessage({ caseId, provinceCode, idempotencyKey: `${message.messageId}:message`, provinceCaseId, message });
    for (const f of input.files) {
      await province.uploadLiaisonFile({ caseId, provinceCode, idempotencyKey: `${message.messageId}:file:${f.position}`, provinceCaseId, messageId: message.messageId, ...f });
      await db.markLiaisonFileForwarded({ messageId: message.messageId, position: f.position, at: new Date().toISOString() });
    }
    await db.markLiaisonForwarded({ messageId: message.messageId, at: receivedAt });
    return { forwardedAt: receivedAt };
  } catch (err) {
    // Retries are unbounded, so only a final refusal (a 4xx, an invalid answer) gets here.
    const cause = err instanceof ActivityFailure && err.cause ? err.cause : err;
    const text = cause instanceof Error ? cause.message : String(cause);
    await db.markLiaisonForwardFailed({ messageId: message.messageId, error: text });
    throw ApplicationFailure.nonRetryable(`the province refused liaison message ${message.messageId}: ${text}`, 'LiaisonForwardRefused');
  }
}
