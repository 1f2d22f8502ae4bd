// Prometheus metrics. One registry per app instance: tests build many apps in one process, and
// prom-client's global registry would refuse the second registration of a metric name.
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  casesSubmitted: Counter<'item_code'>;
  provinceCallbacks: Counter<'region' | 'type' | 'outcome'>;
}

export type CallbackOutcome = 'accepted' | 'duplicate' | 'case_closed' | 'unauthorized' | 'invalid' | 'unknown_case' | 'unavailable';

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
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
  };
}
