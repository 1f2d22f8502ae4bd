// tongban's side of the province gateway protocol (docs/province-protocol.md): signed,
// idempotent HTTP calls whose every answer is parsed with its schema from contracts/province.ts.
// The failure kinds are what the case workflow acts on:
//   - transient (network, timeout, 5xx, 408, 429): a plain Error, retried by Temporal with
//     backoff; its message starts `province <code> unreachable:` or `province <code> answered <status>`;
//   - a permanent refusal (any other 4xx): non-retryable `ProvinceRefused`, details
//     `[{ status, reason, problemType }]`, so staff see the province's reason;
//   - an answer that breaks the contract: non-retryable `ProvinceResponseInvalid`, naming the fields.
// Every attempt is timed and every failure counted by kind (ProvinceCallMetrics, worker/metrics.ts),
// per province and operation: the one place all province traffic passes.
import { ApplicationFailure } from '@temporalio/common';
import type { Counter, Histogram } from 'prom-client';
import type { z } from 'zod';
import type { ProvinceEndpoint } from '../config/index.js';
import { describeIssues, problemBodySchema } from '../contracts/province.js';
import { signRequest } from '../crypto/signing.js';
import { redactIdNumbers } from '../crypto/pii.js';
import { traceProvinceCall } from '../clients/tracing.js';

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

/**
 * Where the gateway counts its calls (worker/metrics.ts): every attempt's duration, and the
 * failed ones by kind. Labelled by province code and operation name only, never by a path with ids.
 */
export interface ProvinceCallMetrics {
  duration: Histogram<'province' | 'operation'>;
  errors: Counter<'province' | 'operation' | 'kind'>;
}

/** How a call failed, as the metrics count it; 408 and 429 (`throttled`) are retried like a 5xx. */
export type ProvinceCallFailure = 'unreachable' | '5xx' | 'throttled' | 'refused' | 'invalid';

export function createProvinceGateway(endpoints: readonly ProvinceEndpoint[], metrics?: ProvinceCallMetrics): ProvinceGateway {
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
      const started = performance.now();
      const counted = (failure?: ProvinceCallFailure) => countCall(metrics, provinceCode, req, started, failure);
      let status: number;
      let text: string;
      try {
        // With tracing on, a span of its own and the W3C `traceparent` in `headers` (clients/tracing.ts).
        const call = { provinceCode, operation: operationOf(req), method: req.method, url, headers };
        const res = await traceProvinceCall(call, () =>
          fetch(url, {
            method: req.method,
            headers,
            body,
            signal: req.signal ? AbortSignal.any([req.signal, timeout]) : timeout,
          }),
        );
        status = res.status;
        text = await res.text();
      } catch (e) {
        // Cancelled by the activity's owner: let the cancellation through untouched.
        if (req.signal?.aborted) throw e;
        counted('unreachable');
        throw new Error(`province ${provinceCode} unreachable: ${what}: ${(e as Error).message}`);
      }

      const json = parseJson(text);
      if (status >= 200 && status < 300) {
        const parsed = schema.safeParse(json.ok ? json.value : undefined);
        counted(parsed.success ? undefined : 'invalid');
        if (parsed.success) return parsed.data;
        const why = json.ok ? describeIssues(parsed.error) : 'the body is not JSON';
        throw ApplicationFailure.nonRetryable(`province ${provinceCode} answered ${what} with an invalid body: ${why}`, PROVINCE_RESPONSE_INVALID, { status });
      }

      if (onStatus) {
        const claimed = onStatus({ status, body: json.ok ? json.value : text });
        if (claimed !== undefined) {
          counted();
          return claimed;
        }
      }
      const problem = problemBodySchema.safeParse(json.ok ? json.value : undefined);
      const reason = redactIdNumbers(problem.success ? (problem.data.detail ?? problem.data.title ?? '') : text).slice(0, 500);
      const message = `province ${provinceCode} answered ${status} to ${what}${reason ? `: ${reason}` : ''}`;
      counted(status >= 500 ? '5xx' : status === 429 || status === 408 ? 'throttled' : 'refused');
      if (status >= 500 || status === 429 || status === 408) throw new Error(message);
      const refusal: ProvinceRefusal = { status, reason, problemType: problem.success ? (problem.data.type ?? null) : null };
      throw ApplicationFailure.nonRetryable(message, PROVINCE_REFUSED, refusal);
    },
  };
}

/** The operations of the protocol (docs/province-protocol.md), told apart by method and path template. */
const OPERATIONS: readonly (readonly [ProvinceRequest['method'], RegExp, string])[] = [
  ['POST', /^\/cases$/, 'create_case'],
  ['GET', /^\/cases$/, 'find_case'],
  ['GET', /^\/cases\/[^/]+$/, 'case_status'],
  ['POST', /^\/cases\/[^/]+\/submit$/, 'submit_case'],
  ['PUT', /^\/cases\/[^/]+\/materials\/[^/]+$/, 'upload_material'],
  ['POST', /^\/cases\/[^/]+\/corrections\/[^/]+\/answer$/, 'answer_correction'],
  ['POST', /^\/cases\/[^/]+\/messages$/, 'send_liaison_message'],
  ['PUT', /^\/cases\/[^/]+\/messages\/[^/]+\/files\/[^/]+$/, 'upload_liaison_file'],
  ['POST', /^\/cases\/[^/]+\/revoke$/, 'revoke_case'],
  ['POST', /^\/cases\/[^/]+\/withdraw$/, 'withdraw_case'],
  ['POST', /^\/elicences\/verify$/, 'verify_elicence'],
];

/** The operation's name, a label with no id in it: one of OPERATIONS, `upload_supplement`, or `other`. */
export function operationOf(req: Pick<ProvinceRequest, 'method' | 'path'>): string {
  const [pathname = '', query = ''] = req.path.split('?');
  const found = OPERATIONS.find(([method, pattern]) => method === req.method && pattern.test(pathname))?.[2] ?? 'other';
  return found === 'upload_material' && /(^|&)revision=/.test(query) ? 'upload_supplement' : found;
}

function countCall(metrics: ProvinceCallMetrics | undefined, province: string, req: ProvinceRequest, started: number, failure?: ProvinceCallFailure): void {
  if (!metrics) return;
  const operation = operationOf(req);
  metrics.duration.observe({ province, operation }, (performance.now() - started) / 1000);
  if (failure) metrics.errors.inc({ province, operation, kind: failure });
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  if (text === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
