// Delivery of signed callbacks (province → tongban) with retries, per docs/province-protocol.md.
import { signRequest } from '../crypto/signing.js';
import type { Scheduler } from './scheduler.js';

export interface CallbackDelivery {
  url: string;
  secret: string;
  body: string;
  /** Retries after the first attempt; the backoff starts at `initialBackoffMs` and doubles. */
  retries: number;
  initialBackoffMs: number;
  attemptTimeoutMs: number;
}

/** True once the target answered 2xx; false when every attempt failed or the scheduler was disposed. */
export async function deliverCallback(delivery: CallbackDelivery, scheduler: Scheduler): Promise<boolean> {
  for (let attempt = 0; attempt <= delivery.retries; attempt++) {
    if (attempt > 0) await scheduler.sleep(delivery.initialBackoffMs * 2 ** (attempt - 1));
    if (scheduler.disposed) return false;
    if (await postOnce(delivery, scheduler.signal)) return true;
  }
  return false;
}

async function postOnce(delivery: CallbackDelivery, cancel: AbortSignal): Promise<boolean> {
  try {
    const url = new URL(delivery.url);
    // Signed afresh on every attempt, so a late retry is not rejected as stale.
    const signature = signRequest(delivery.secret, 'POST', `${url.pathname}${url.search}`, delivery.body);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signature },
      body: delivery.body,
      signal: AbortSignal.any([cancel, AbortSignal.timeout(delivery.attemptTimeoutMs)]),
    });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
