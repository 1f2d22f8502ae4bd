// The worker's Prometheus registry: what its activities see of the world. Activities run in the
// worker process, not the api's, so the worker serves its own /metrics (WORKER_METRICS_PORT, by
// api/metrics.ts's startMetricsServer). Temporal's own worker metrics come from the Core runtime's
// exporter on TEMPORAL_METRICS_PORT instead (installTemporalRuntime in worker/system.ts).
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import type { ProvinceCallMetrics } from '../activities/gateway.js';
import type { ProjectionMetrics } from '../activities/projection.js';

export interface WorkerMetrics {
  registry: Registry;
  provinceCalls: ProvinceCallMetrics;
  projection: ProjectionMetrics;
}

export function createWorkerMetrics(): WorkerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    provinceCalls: {
      duration: new Histogram({
        name: 'tongban_province_call_duration_seconds',
        help: 'One HTTP call to a province system (one attempt), by province and operation, whatever its outcome; _count is every call made',
        labelNames: ['province', 'operation'],
        // A province answers in tens of milliseconds to seconds; the timeout (PROVINCE_CALL_TIMEOUT_MS) is 30 s.
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers: [registry],
      }),
      errors: new Counter({
        name: 'tongban_province_call_errors_total',
        help: 'Province calls that failed, by kind: unreachable (network, timeout), 5xx, throttled (408, 429), refused (another 4xx), invalid (an answer breaking the protocol)',
        labelNames: ['province', 'operation', 'kind'],
        registers: [registry],
      }),
    },
    projection: {
      lag: new Histogram({
        name: 'tongban_projection_lag_seconds',
        help: 'From a case event in its workflow (the event time) to its row committed in PostgreSQL',
        // Normally milliseconds; retries while PostgreSQL is away double their wait up to 30 s each.
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
        registers: [registry],
      }),
    },
  };
}
