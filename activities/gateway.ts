// tongban's side of the province gateway protocol (docs/province-protocol.md): signed,
// idempotent HTTP calls. Transient failures (network, 5xx, 429) are thrown as plain errors so
// Temporal retries them with backoff; a 4xx is final and becomes a non-retryable failure.
import { ApplicationFailure } from '@temporalio/common';
import type { ProvinceEndpoint } from '../config/index.js';
import { signRequest } from '../crypto/signing.js';
import { redactIdNumbers } from '../crypto/pii.js';

/** Failure type of a province's final refusal (4xx): retrying the same request cannot help. */
export const PROVINCE_REJECTED = 'ProvinceRejectedRequest';
/** Failure type when no gateway is configured for a province. */
export const PROVINCE_UNKNOWN = 'ProvinceNotConfigured';

export interface ProvinceRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Path below the province's base URL, e.g. `/cases`. */
  path: string;
  json?: unknown;
  bytes?: Uint8Array;
  contentType?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs: number;
}

export interface ProvinceGateway {
  call<T>(provinceCode: string, req: ProvinceRequest): Promise<T>;
}

export function createProvinceGateway(endpoints: readonly ProvinceEndpoint[]): ProvinceGateway {
  const byCode = new Map(endpoints.map((e) => [e.code, e]));
  return {
    async call<T>(provinceCode: string, req: ProvinceRequest): Promise<T> {
      const endpoint = byCode.get(provinceCode);
      if (!endpoint) throw ApplicationFailure.nonRetryable(`no gateway configured for province ${provinceCode}`, PROVINCE_UNKNOWN);
      const url = new URL(endpoint.baseUrl.replace(/\/$/, '') + req.path);
      const body: string | Uint8Array | undefined = req.json !== undefined ? JSON.stringify(req.json) : req.bytes;
      const headers: Record<string, string> = {
        ...req.headers,
        ...signRequest(endpoint.secret, req.method, url.pathname + url.search, body ?? ''),
      };
      if (req.json !== undefined) headers['content-type'] = 'application/json';
      else if (req.contentType) headers['content-type'] = req.contentType;
      if (req.idempotencyKey) headers['idempotency-key'] = req.idempotencyKey;
      const timeout = AbortSignal.timeout(req.timeoutMs);
      let res: Response;
      try {
        res = await fetch(url, {
          method: req.method,
          headers,
          body,
          signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout,
        });
      } catch (e) {
        throw new Error(`province ${provinceCode} unreachable: ${req.method} ${req.path}: ${(e as Error).message}`);
      }
      const text = await res.text();
      if (res.ok) return (text ? JSON.parse(text) : {}) as T;
      const detail = redactIdNumbers(problemDetail(text)).slice(0, 500);
      const message = `province ${provinceCode} answered ${res.status} to ${req.method} ${req.path}${detail ? `: ${detail}` : ''}`;
      if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Error(message);
      throw ApplicationFailure.nonRetryable(message, PROVINCE_REJECTED, { status: res.status });
    },
  };
}

function problemDetail(text: string): string {
  try {
    const p = JSON.parse(text) as { detail?: unknown; title?: unknown };
    return String(p.detail ?? p.title ?? '');
  } catch {
    return text;
  }
}
