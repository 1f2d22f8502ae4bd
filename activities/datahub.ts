// tongban's client of the data-sharing hub (数据共享交换平台, contracts/datahub.ts): the activity that
// fetches a 免提交 material at precheck. It asks the hub for the applicant's record of the
// material's source, downloads the record's bytes, checks them against the record's hash and size,
// keeps them in the materials store like an upload (content-addressed) and registers them as a file
// of the receiving region, so the transfer sends them to the handling authority like any material.
// The case records the fetch (`material.fetched`) and the hand-off ledger takes it from there.
//
// Failure kinds, as the case workflow's step() acts on them:
//   - transient (network, timeout, 5xx, 408, 429, a download that does not hash to the record):
//     a plain Error, retried within the case's retry budget; past it the case waits for a person;
//   - a refusal (any other 4xx): non-retryable `DatahubRefused` with `[{ status, reason }]`;
//   - an answer that breaks the contract: non-retryable `DatahubResponseInvalid`;
//   - no hub configured: non-retryable `DatahubNotConfigured`.
// `found: false` is not a failure: the applicant brings the paper (the precheck's notice says so).
// The query's request id is the idempotency key the workflow derived (`<caseId>:datahub:<code>`),
// so every retry is one query in the hub's log. Runs on the case queue (worker/system.ts).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { z } from 'zod';
import { datahubQueryRequestSchema, datahubQueryResponseSchema, type DatahubSource } from '../contracts/datahub.js';
import { describeIssues, problemBodySchema } from '../contracts/province.js';
import { nameBasedUuid } from '../crypto/ids.js';
import { redactIdNumbers } from '../crypto/pii.js';
import { signRequest } from '../crypto/signing.js';
import { registerFetchedFile } from '../db/files.js';
import type { MaterialRef } from '../domain/case.js';
import type { MaterialsStore } from '../materials/store.js';

export const DATAHUB_REFUSED = 'DatahubRefused';
export const DATAHUB_RESPONSE_INVALID = 'DatahubResponseInvalid';
export const DATAHUB_NOT_CONFIGURED = 'DatahubNotConfigured';

export interface DatahubEndpoint {
  /** e.g. `https://hub.example/datahub` (the simulator's `datahubBaseUrl`). */
  baseUrl: string;
  secret: string;
}

export interface DatahubDeps {
  pool: Pool;
  store: MaterialsStore;
  hub: DatahubEndpoint | null;
  callTimeoutMs: number;
  /** The largest record tongban keeps (the upload limit). */
  maxBytes: number;
}

export interface SharedDataRequest {
  caseId: string;
  materialCode: string;
  source: DatahubSource;
  idNumber: string;
  /** Why tongban asks, for the hub's audit log (e.g. `跨省通办 企业职工基本养老保险关系转移接续 预审`). */
  purpose: string;
  /** The file is registered as the receiving window's. */
  receivingRegion: string;
  idempotencyKey: string;
}

export interface SharedRecordMeta {
  recordId: string;
  source: DatahubSource;
  issuer: string;
  issuedAt: string;
}

export type SharedDataResult = { found: true; material: MaterialRef; record: SharedRecordMeta } | { found: false; reason: string };

export function createDatahubActivities(deps: DatahubDeps) {
  async function send(method: 'GET' | 'POST', path: string, json: unknown): Promise<{ status: number; body: Buffer; contentType: string }> {
    const hub = deps.hub;
    if (!hub) throw ApplicationFailure.nonRetryable('no data-sharing hub is configured (DATAHUB_URL, DATAHUB_SECRET)', DATAHUB_NOT_CONFIGURED);
    const base = new URL(hub.baseUrl.replace(/\/$/, '') + '/');
    // Record paths are absolute on the hub's origin; query paths are below its base URL.
    const url = path.startsWith('/') ? new URL(path, base.origin) : new URL(path, base);
    const body = json === undefined ? '' : JSON.stringify(json);
    const headers: Record<string, string> = { ...signRequest(hub.secret, method, url.pathname + url.search, body) };
    if (json !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(url, { method, headers, body: json === undefined ? undefined : body, signal: AbortSignal.timeout(deps.callTimeoutMs) });
      return { status: res.status, body: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? '' };
    } catch (e) {
      throw new Error(`data-sharing hub unreachable: ${method} ${url.pathname}: ${(e as Error).message}`);
    }
  }

  function refusalOrRetry(what: string, status: number, body: Buffer): never {
    const parsed = problemBodySchema.safeParse(parseJson(body.toString('utf8')));
    const reason = redactIdNumbers(parsed.success ? (parsed.data.detail ?? parsed.data.title ?? '') : body.toString('utf8').slice(0, 300));
    if (status >= 500 || status === 408 || status === 429) throw new Error(`data-sharing hub answered ${what} with ${status}: ${reason}`);
    throw ApplicationFailure.nonRetryable(`data-sharing hub refused ${what} with ${status}: ${reason}`, DATAHUB_REFUSED, { status, reason });
  }

  function parsed<S extends z.ZodType>(what: string, schema: S, body: Buffer): z.output<S> {
    const r = schema.safeParse(parseJson(body.toString('utf8')));
    if (!r.success) throw ApplicationFailure.nonRetryable(`data-sharing hub answered ${what} outside the contract: ${describeIssues(r.error)}`, DATAHUB_RESPONSE_INVALID);
    return r.data;
  }

  return {
    /** The applicant's record of the material's source, kept and registered as a file; or why the hub has none. */
    async fetchSharedMaterial(req: SharedDataRequest): Promise<SharedDataResult> {
      const query = datahubQueryRequestSchema.parse({ requestId: req.idempotencyKey, source: req.source, idNumber: req.idNumber, purpose: req.purpose, caseId: req.caseId });
      const what = 'POST records/query';
      const res = await send('POST', 'records/query', query);
      if (res.status !== 200) refusalOrRetry(what, res.status, res.body);
      const answer = parsed(what, datahubQueryResponseSchema, res.body);
      if (!answer.found) return { found: false, reason: answer.reason };
      const { record } = answer;
      if (record.source !== req.source) throw ApplicationFailure.nonRetryable(`data-sharing hub answered a ${req.source} query with a ${record.source} record`, DATAHUB_RESPONSE_INVALID);
      if (record.size > deps.maxBytes) throw ApplicationFailure.nonRetryable(`the hub's record ${record.recordId} is ${record.size} bytes, above the ${deps.maxBytes}-byte limit`, DATAHUB_REFUSED, { status: 413, reason: 'record too large' });

      const download = await send('GET', record.downloadPath, undefined);
      if (download.status !== 200) refusalOrRetry(`GET ${record.downloadPath}`, download.status, download.body);
      const sha256 = createHash('sha256').update(download.body).digest('hex');
      // A corrupted or truncated download: fetched again on the next attempt.
      if (sha256 !== record.sha256.toLowerCase() || download.body.length !== record.size) {
        throw new Error(`the download of hub record ${record.recordId} hashes to ${sha256} (${download.body.length} bytes), not to the record's ${record.sha256} (${record.size} bytes)`);
      }
      const stored = await deps.store.put(Readable.from([download.body]), { maxBytes: deps.maxBytes });
      const fileId = fetchedFileId(req.caseId, req.materialCode, record.recordId);
      await registerFetchedFile(deps.pool, {
        fileId,
        sha256: stored.sha256,
        size: stored.size,
        contentType: record.contentType,
        fileName: `${record.source}-${record.recordId}`,
        uploadedBy: 'system:datahub',
        uploadedRegion: req.receivingRegion,
      });
      return {
        found: true,
        material: { materialCode: req.materialCode, fileId, sha256: stored.sha256, size: stored.size, contentType: record.contentType },
        record: { recordId: record.recordId, source: record.source, issuer: record.issuer, issuedAt: record.issuedAt },
      };
    },
  };
}

export type DatahubActivities = ReturnType<typeof createDatahubActivities>;

/** One file id per (case, material, record): a retried fetch registers the same file. */
export function fetchedFileId(caseId: string, materialCode: string, recordId: string): string {
  return nameBasedUuid(`tongban-datahub-file\n${caseId}\n${materialCode}\n${recordId}`);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
