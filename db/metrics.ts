// What the case gauges of /metrics read (api/metrics.ts): the open cases by handling province,
// stage, SLA state and correction rounds, the flagged cases by kind, and the four-eyes approvals
// waiting for a decision. Scraped every few seconds by every api instance, so each query reads
// only open or flagged rows through a partial index, never the whole of `cases`:
//   - open cases: an index-only scan of cases_open_metrics (migration 025), about 60,000 entries at
//     the read benchmark's million cases (6 % open), grouped in memory;
//   - flagged cases: the partial index cases_stuck (001, WHERE needs_intervention), a few thousand
//     heap rows at most;
//   - approvals: the partial unique index case_approvals_open (022, pending or deciding).
// The caller caches the result (api/metrics.ts), so a scrape storm costs one round of these.
import type { Queryable } from './cases.js';

export interface OpenCaseCount {
  /** The handling side's province (xx0000). */
  province: string;
  stage: string;
  /** green | yellow | red, or none while the clock has not started. */
  slaState: string;
  /** Correction notices so far from each side, 3 standing for three or more. */
  receivingRounds: number;
  handlingRounds: number;
  cases: number;
}

export interface InterventionCount {
  province: string;
  /** Intervention.kind (unreachable | refused | projection), `unknown` when an old flag has none. */
  kind: string;
  cases: number;
}

export interface PendingApprovalCount {
  /** record-offline | reroute */
  action: string;
  approvals: number;
  /** When the oldest of them was asked for. */
  oldestRequestedAt: Date;
}

export interface CaseMetricsSnapshot {
  openCases: OpenCaseCount[];
  interventions: InterventionCount[];
  pendingApprovals: PendingApprovalCount[];
}

export async function readCaseMetrics(db: Queryable): Promise<CaseMetricsSnapshot> {
  // The rounds are capped in SQL so the groups stay few (the roll-up of 021 buckets them alike).
  const open = await db.query<{ province: string; stage: string; sla_state: string; receiving_rounds: number; handling_rounds: number; cases: number }>(
    `SELECT handling_province AS province, stage, coalesce(sla_state, 'none') AS sla_state,
            least(coalesce((correction_rounds->>'receiving')::int, 0), 3) AS receiving_rounds,
            least(coalesce((correction_rounds->>'handling')::int, 0), 3) AS handling_rounds,
            count(*)::int AS cases
       FROM cases
      WHERE status IN ('active', 'awaiting_supplement')
      GROUP BY 1, 2, 3, 4, 5`,
  );
  const flagged = await db.query<{ province: string; kind: string; cases: number }>(
    `SELECT handling_province AS province, coalesce(intervention->>'kind', 'unknown') AS kind, count(*)::int AS cases
       FROM cases
      WHERE needs_intervention AND status IN ('active', 'awaiting_supplement')
      GROUP BY 1, 2`,
  );
  const approvals = await db.query<{ action: string; approvals: number; oldest: Date }>(
    `SELECT action, count(*)::int AS approvals, min(requested_at) AS oldest
       FROM case_approvals
      WHERE status IN ('pending', 'deciding')
      GROUP BY action`,
  );
  return {
    openCases: open.rows.map((r) => ({
      province: r.province,
      stage: r.stage,
      slaState: r.sla_state,
      receivingRounds: r.receiving_rounds,
      handlingRounds: r.handling_rounds,
      cases: r.cases,
    })),
    interventions: flagged.rows.map((r) => ({ province: r.province, kind: r.kind, cases: r.cases })),
    pendingApprovals: approvals.rows.map((r) => ({ action: r.action, approvals: r.approvals, oldestRequestedAt: r.oldest })),
  };
}
