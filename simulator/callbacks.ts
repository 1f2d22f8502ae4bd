// Delivery of signed callbacks (province → tongban), per docs/province-protocol.md: a callback
// that does not get a 2xx is retried with exponential backoff for as long as a real province
// keeps trying (a day by default), the interval capped, each attempt signed afresh.
// Fault injection (the fault tests, test/faults/): with `faults`, a share of the callbacks is lost
// (never sent, as if the province's system dropped it: only tongban's status poll finds the event)
// and a share is sent twice (tongban must act once); the draws come from a seeded generator, so a
// run can be repeated.
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
  /** Callbacks lost or sent twice on purpose; none when absent. */
  faults?: CallbackFaults;
}

/** Shares (0–1) of callbacks lost and duplicated, drawn from `random`. */
export interface CallbackFaults {
  lossRate: number;
  duplicateRate: number;
  /** A generator of numbers in [0, 1): `seededRandom(seed)` for a repeatable run. */
  random: () => number;
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
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
  // Decided once per callback, on its first attempt (a callback resumed after a restart keeps going).
  const fault = delivery.attemptsMade === 0 ? drawFault(policy.faults) : null;
  // Lost: the province believes it called back; nothing reaches tongban.
  if (fault === 'lost') return true;
  for (let attempt = delivery.attemptsMade; ; attempt++) {
    const wait = backoffBefore(policy, attempt);
    if (Date.now() + wait - delivery.firstAttemptAt > policy.giveUpAfterMs && attempt > 0) return false;
    if (wait > 0) await scheduler.sleep(wait);
    if (scheduler.disposed) return false;
    if (await postOnce(delivery, policy.attemptTimeoutMs, scheduler.signal)) {
      // Duplicated: the same event once more right after it was taken (one more try, no retries).
      if (fault === 'duplicate' && !scheduler.disposed) await postOnce(delivery, policy.attemptTimeoutMs, scheduler.signal);
      return true;
    }
    onAttempt(attempt + 1);
  }
}

function drawFault(faults: CallbackFaults | undefined): 'lost' | 'duplicate' | null {
  if (!faults || (faults.lossRate <= 0 && faults.duplicateRate <= 0)) return null;
  const draw = faults.random();
  if (draw < faults.lossRate) return 'lost';
  if (draw < faults.lossRate + faults.duplicateRate) return 'duplicate';
  return null;
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
