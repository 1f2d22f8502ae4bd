// tongban's side of the province gateway protocol (docs/province-protocol.md): signed,
// idempotent HTTP calls whose every answer is parsed with its schema from contracts/province.ts.
// The failure kinds are what the case workflow acts on:
//   - transient (network, timeout, 5xx, 408, 429): a plain Error, retried by Temporal with
//     backoff; its message starts `province <code> unreachable:` or `province <code> answered <status>`;
//   - a permanent refusal (any other 4xx): non-retryable `ProvinceRefused`, details
//     `[{ status, reason, problemType }]`, so staff see the province's reason;
//   - an answer that breaks the contract: non-retryable `ProvinceResponseInvalid`, naming the fields.
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { ProvinceEndpoint } from '../config/index.js';
import { describeIssues, problemBodySchema } from '../contracts/province.js';
import { signRequest } from '../crypto/signing.js';
import { redactIdNumbers } from '../crypto/pii.js';

/** Failure type of a province's permanent refusal (a 4xx other than 408/429): retrying cannot help. */
export const PROVINCE_REFUSED = 'ProvinceRefused';
/** Failure type of an answer that does not match the protocol's schema for the call. */
export const PROVINCE_RESPONSE_INVALID = 'ProvinceResponseInvalid';
/** Failure type when no gateway is configured for a province. */
export const PROVINCE_UNKNOWN = 'ProvinceNotConfigured';

/** The details of a `ProvinceRefused` failure. */
export interface ProvinceRefusal {
  status: number;
  /** The province's problem detail (or title), identity numbers redacted. */
  reason: string;
  /** The province's problem `type`, when it sent one. */
  problemType: string | null;
}

export interface ProvinceRequest {
  method: 'GET' | 'POST' | 'PUT';
  /** Path below the province's base URL, with its query string, e.g. `/cases?caseId=…`. */
  path: string;
  json?: unknown;
  bytes?: Uint8Array;
  contentType?: string;
  idempotencyKey?: string;
  headers?: Record<string, string>;
  /** Aborts the call (an activity's cancellation); the abort reason is rethrown as is. */
  signal?: AbortSignal;
  timeoutMs: number;
}

/** A non-2xx answer the caller wants to handle itself instead of the default classification. */
export interface ProvinceAnswer {
  status: number;
  body: unknown;
}

export interface ProvinceGateway {
  /**
   * Sends the request and parses a 2xx answer with `schema`. `onStatus` may claim a non-2xx
   * answer (return a value, or undefined to let the default classification apply).
   */
  call<S extends z.ZodType, R = never>(provinceCode: string, req: ProvinceRequest, schema: S, onStatus?: (answer: ProvinceAnswer) => R | undefined): Promise<z.output<S> | R>;
}

export function createProvinceGateway(endpoints: readonly ProvinceEndpoint[]): ProvinceGateway {
  const byCode = new Map(endpoints.map((e) => [e.code, e]));
  return {
    async call(provinceCode, req, schema, onStatus) {
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
      const what = `${req.method} ${req.path}`;
      let status: number;
      let text: string;
      try {
        const res = await fetch(url, {
          method: req.method,
          headers,
          body,
          signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout,
        });
        status = res.status;
        text = await res.text();
      } catch (e) {
        // Cancelled by the activity's owner: let the cancellation through untouched.
        if (req.signal?.aborted) throw e;
        throw new Error(`province ${provinceCode} unreachable: ${what}: ${(e as Error).message}`);
      }

      const json = parseJson(text);
      if (status >= 200 && status < 300) {
        const parsed = schema.safeParse(json.ok ? json.value : undefined);
        if (parsed.success) return parsed.data;
        const why = json.ok ? describeIssues(parsed.error) : 'the body is not JSON';
        throw ApplicationFailure.nonRetryable(`province ${provinceCode} answered ${what} with an invalid body: ${why}`, PROVINCE_RESPONSE_INVALID, { status });
      }

      if (onStatus) {
        const claimed = onStatus({ status, body: json.ok ? json.value : text });
        if (claimed !== undefined) return claimed;
      }
      const problem = problemBodySchema.safeParse(json.ok ? json.value : undefined);
      const reason = redactIdNumbers(problem.success ? (problem.data.detail ?? problem.data.title ?? '') : text).slice(0, 500);
      const message = `province ${provinceCode} answered ${status} to ${what}${reason ? `: ${reason}` : ''}`;
      if (status >= 500 || status === 429 || status === 408) throw new Error(message);
      const refusal: ProvinceRefusal = { status, reason, problemType: problem.success ? (problem.data.type ?? null) : null };
      throw ApplicationFailure.nonRetryable(message, PROVINCE_REFUSED, refusal);
    },
  };
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
