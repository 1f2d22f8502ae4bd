// Prometheus metrics. One registry per app instance: tests build many apps in one process, and
// prom-client's global registry would refuse the second registration of a metric name.
//
// The api's registry: request durations, intake and callbacks, the callback lag, and the case
// gauges read from PostgreSQL at scrape time (db/metrics.ts, cached for CASE_GAUGES_TTL_MS so a
// scrape storm costs one round of queries). The worker has its own registry (worker/metrics.ts:
// province calls, projection lag), and both are served by `startMetricsServer` below. Labels are
// bounded on purpose: province codes, stages, SLA states, kinds, route templates; never a case
// id or anything of an applicant's. What each metric means and the alerts over them:
// docs/operations.md "Metrics and alerts".
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { readCaseMetrics, type CaseMetricsSnapshot } from '../db/metrics.js';
import { CASE_STAGES } from '../domain/case.js';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  casesSubmitted: Counter<'item_code'>;
  provinceCallbacks: Counter<'region' | 'type' | 'outcome'>;
  /** From the province's event time (`at`) to tongban accepting the callback. */
  callbackLag: Histogram<'province' | 'type'>;
}

export type CallbackOutcome = 'accepted' | 'duplicate' | 'case_closed' | 'unauthorized' | 'invalid' | 'unknown_case' | 'unavailable';

/** How long one reading of the case gauges serves scrapes. */
export const CASE_GAUGES_TTL_MS = 5_000;

/** Seconds: a callback normally arrives within seconds; a province's queue can hold it for hours. */
const CALLBACK_LAG_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

export interface MetricsOptions {
  /** With a pool, the case gauges (open cases, interventions, approvals) are read at scrape time. */
  pool?: pg.Pool;
  caseGaugesTtlMs?: number;
}

export function createMetrics(opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics: Metrics = {
    registry,
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Duration of HTTP requests, by route template',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    casesSubmitted: new Counter({
      name: 'tongban_cases_submitted_total',
      help: 'Cases accepted at intake (idempotent replays are not counted)',
      labelNames: ['item_code'],
      registers: [registry],
    }),
    provinceCallbacks: new Counter({
      name: 'tongban_province_callbacks_total',
      help: 'Province callbacks received, by outcome',
      labelNames: ['region', 'type', 'outcome'],
      registers: [registry],
    }),
    callbackLag: new Histogram({
      name: 'tongban_callback_lag_seconds',
      help: 'From the event time a province reports to tongban accepting its callback (new events only; duplicates are not observed)',
      labelNames: ['province', 'type'],
      buckets: CALLBACK_LAG_BUCKETS,
      registers: [registry],
    }),
  };
  if (opts.pool) registerCaseGauges(registry, opts.pool, opts.caseGaugesTtlMs ?? CASE_GAUGES_TTL_MS);
  return metrics;
}

/** The stages an open case can be in (a closed case is `closed`). */
const OPEN_STAGES = CASE_STAGES.filter((s) => s !== 'closed');
const SLA_STATES = ['green', 'yellow', 'red', 'none'] as const;
const INTERVENTION_KINDS = ['unreachable', 'refused', 'projection', 'unknown'] as const;
const APPROVAL_ACTIONS = ['record-offline', 'reroute'] as const;
const ROUNDS = ['0', '1', '2', '3+'] as const;

/**
 * The gauges read from PostgreSQL. Each scrape sets them afresh from one cached reading; for
 * every province with an open case, every stage × SLA state is set (0 when none), so an alert
 * comparing a count with its value an hour ago sees a series even when it was zero.
 */
function registerCaseGauges(registry: Registry, pool: pg.Pool, ttlMs: number): void {
  const read = cached(() => readCaseMetrics(pool), ttlMs);
  const up = new Gauge({ name: 'tongban_case_metrics_up', help: '1 when the case gauges could be read from PostgreSQL at this scrape, 0 when not (they are then absent)', registers: [registry], collect: () => refresh() });
  const openCases = new Gauge({
    name: 'tongban_open_cases',
    help: 'Open cases (active or awaiting a supplement) by handling province, stage and SLA state (none: the clock has not started)',
    labelNames: ['province', 'stage', 'sla_state'],
    registers: [registry],
    collect: () => refresh(),
  });
  const rounds = new Gauge({
    name: 'tongban_open_cases_by_correction_rounds',
    help: 'Open cases by handling province, the side that asked for corrections and how many notices it sent (3+: three or more)',
    labelNames: ['province', 'side', 'rounds'],
    registers: [registry],
    collect: () => refresh(),
  });
  const interventions = new Gauge({
    name: 'tongban_open_interventions',
    help: 'Open cases flagged for a person (needsIntervention), by handling province and kind: unreachable, refused, projection (unknown: flagged before kinds existed)',
    labelNames: ['province', 'kind'],
    registers: [registry],
    collect: () => refresh(),
  });
  const approvals = new Gauge({
    name: 'tongban_pending_approvals',
    help: 'Four-eyes approvals (record-offline, reroute) waiting for a supervisor, by action',
    labelNames: ['action'],
    registers: [registry],
    collect: () => refresh(),
  });
  const oldestApproval = new Gauge({
    name: 'tongban_oldest_pending_approval_age_seconds',
    help: 'Age of the oldest approval waiting for a supervisor, by action (0 when none waits)',
    labelNames: ['action'],
    registers: [registry],
    collect: () => refresh(),
  });

  const gauges = [openCases, rounds, interventions, approvals, oldestApproval];
  const apply = (s: CaseMetricsSnapshot) => {
    for (const g of gauges) g.reset();
    const provinces = new Set(s.openCases.map((r) => r.province));
    for (const province of provinces) {
      for (const stage of OPEN_STAGES) for (const sla of SLA_STATES) openCases.set({ province, stage, sla_state: sla }, 0);
      for (const side of ['receiving', 'handling']) for (const r of ROUNDS) rounds.set({ province, side, rounds: r }, 0);
      for (const kind of INTERVENTION_KINDS) interventions.set({ province, kind }, 0);
    }
    for (const r of s.openCases) {
      // A stage or state outside the known lists (a newer writer) is still counted, under `other`.
      const stage = (OPEN_STAGES as readonly string[]).includes(r.stage) ? r.stage : 'other';
      const sla = (SLA_STATES as readonly string[]).includes(r.slaState) ? r.slaState : 'other';
      openCases.inc({ province: r.province, stage, sla_state: sla }, r.cases);
      rounds.inc({ province: r.province, side: 'receiving', rounds: ROUNDS[r.receivingRounds] ?? '3+' }, r.cases);
      rounds.inc({ province: r.province, side: 'handling', rounds: ROUNDS[r.handlingRounds] ?? '3+' }, r.cases);
    }
    for (const r of s.interventions) {
      const kind = (INTERVENTION_KINDS as readonly string[]).includes(r.kind) ? r.kind : 'unknown';
      interventions.inc({ province: r.province, kind }, r.cases);
    }
    for (const action of APPROVAL_ACTIONS) {
      approvals.set({ action }, 0);
      oldestApproval.set({ action }, 0);
    }
    const now = Date.now();
    for (const r of s.pendingApprovals) {
      approvals.set({ action: r.action }, r.approvals);
      oldestApproval.set({ action: r.action }, Math.max(0, (now - r.oldestRequestedAt.getTime()) / 1000));
    }
  };

  // prom-client calls every metric's collect before serialising it: each asks for the reading
  // (one query round per TTL, shared) and applies it unless it is the reading already applied.
  let applied: unknown = null;
  async function refresh(): Promise<void> {
    let reading: CaseMetricsSnapshot | { failed: unknown };
    try {
      reading = await read();
    } catch (err) {
      reading = { failed: err };
    }
    const identity = 'failed' in reading ? reading.failed : reading;
    if (identity === applied) return;
    applied = identity;
    if ('failed' in reading) {
      for (const g of gauges) g.reset();
      up.set(0);
    } else {
      apply(reading);
      up.set(1);
    }
  }
}

/**
 * `read`, called at most once per `ttlMs`: callers within that time (or while a reading is under
 * way) share its result. A failure is kept for the same time, so a database in trouble is not
 * asked again by every scrape.
 */
export function cached<T>(read: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let current: { value: Promise<T>; until: number } | null = null;
  return () => {
    const now = Date.now();
    if (current && now < current.until) return current.value;
    const value = read();
    const entry = { value, until: Number.POSITIVE_INFINITY };
    current = entry;
    const settle = () => {
      entry.until = Date.now() + ttlMs;
    };
    value.then(settle, settle);
    return value;
  };
}

/** The URL a listening server is reached at (a wildcard address shown as loopback). */
export function urlOf(address: AddressInfo): string {
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${shownHost === '0.0.0.0' ? '127.0.0.1' : shownHost === '[::]' ? '[::1]' : shownHost}:${address.port}`;
}

export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string;
  close(): Promise<void>;
}

/**
 * A tiny server of GET /metrics from `registry` and 404 for anything else: the api's on
 * METRICS_PORT and the worker's on WORKER_METRICS_PORT, for a scraper inside the network (no token).
 */
export async function startMetricsServer(
  registry: Registry,
  opts: { host: string; port: number; onError: (err: unknown) => void },
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => {
        opts.onError(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    url: `${urlOf(server.address() as AddressInfo)}/metrics`,
    close: () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      return closed;
    },
  };
}
