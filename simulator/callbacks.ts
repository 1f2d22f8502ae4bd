// Delivery of signed callbacks (province → tongban), per docs/province-protocol.md: a callback
// that does not get a 2xx is retried with exponential backoff for as long as a real province
// keeps trying (a day by default), the interval capped, each attempt signed afresh.
import { signRequest } from '../crypto/signing.js';
import type { Scheduler } from './scheduler.js';

/** How long and how often an undelivered callback is retried. */
export interface CallbackRetryPolicy {
  /** Wait before the first retry; doubles after each failed attempt. */
  initialBackoffMs: number;
  /** The longest wait between two attempts. */
  maxBackoffMs: number;
  /** Give up once this much time has passed since the first attempt. */
  giveUpAfterMs: number;
  /** One attempt may take this long. */
  attemptTimeoutMs: number;
}

export const DEFAULT_CALLBACK_RETRY: CallbackRetryPolicy = {
  initialBackoffMs: 1000,
  maxBackoffMs: 10 * 60_000,
  giveUpAfterMs: 24 * 60 * 60_000,
  attemptTimeoutMs: 10_000,
};

export interface CallbackDelivery {
  url: string;
  secret: string;
  body: string;
  /** When the first attempt was made (earlier than now when resumed after a restart). */
  firstAttemptAt: number;
  /** Attempts already made (by an earlier process, when resumed). */
  attemptsMade: number;
}

/** The wait before attempt number `attempt` (0 = the first attempt, no wait). */
export function backoffBefore(policy: CallbackRetryPolicy, attempt: number): number {
  if (attempt === 0) return 0;
  return Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.min(attempt - 1, 40));
}

/**
 * True once the target answered 2xx; false when the policy gave up or the scheduler was disposed.
 * `onAttempt` hears of every failed attempt, so the caller can persist the count.
 */
export async function deliverCallback(delivery: CallbackDelivery, policy: CallbackRetryPolicy, scheduler: Scheduler, onAttempt: (attemptsMade: number) => void = () => undefined): Promise<boolean> {
  for (let attempt = delivery.attemptsMade; ; attempt++) {
    const wait = backoffBefore(policy, attempt);
    if (Date.now() + wait - delivery.firstAttemptAt > policy.giveUpAfterMs && attempt > 0) return false;
    if (wait > 0) await scheduler.sleep(wait);
    if (scheduler.disposed) return false;
    if (await postOnce(delivery, policy.attemptTimeoutMs, scheduler.signal)) return true;
    onAttempt(attempt + 1);
  }
}

async function postOnce(delivery: CallbackDelivery, attemptTimeoutMs: number, cancel: AbortSignal): Promise<boolean> {
  try {
    const url = new URL(delivery.url);
    // Signed afresh on every attempt, so a late retry is not rejected as stale.
    const signature = signRequest(delivery.secret, 'POST', `${url.pathname}${url.search}`, delivery.body);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signature },
      body: delivery.body,
      signal: AbortSignal.any([cancel, AbortSignal.timeout(attemptTimeoutMs)]),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
