// Bulk retry (POST /v1/bulk/retry): the cases stuck for one reason (a province that was down) retried
// together. The request is stored with one row per case (db/staffActions.ts) and answered at once
// (202); the instance that took it works through the cases a few at a time under a lease it renews,
// so if it dies another instance resumes the rest when anyone asks for the progress. Each case is
// retried exactly as a single retry would be: its own authorisation (a case the requester may not
// retry fails with the reason, and one they cannot see reads "no such case"), its own audit row.
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { writeAudit } from '../db/audit.js';
import { finishBulkItem, findBulk, insertBulk, leaseBulk, releaseBulkLease, renewBulkLease, type Bulk } from '../db/staffActions.js';
import type { StaffRole } from '../domain/case.js';
import type { StaffClaims } from './auth.js';
import { runCaseCommand, type CommandDeps } from './caseCommands.js';
import { AppError, problem } from './problem.js';

/** How many cases one bulk retry may name. */
export const BULK_MAX_CASES = 500;
/** Cases retried at once: each waits on its workflow's update. */
const CONCURRENCY = 4;
const LEASE_SECONDS = 30;

export interface BulkView {
  bulkId: string;
  action: 'retry';
  reason: string;
  requestedBy: string;
  createdAt: string;
  total: number;
  done: number;
  failed: number;
  pending: number;
  items: { caseId: string; status: 'pending' | 'done' | 'failed'; httpStatus: number | null; detail: string | null }[];
}

function viewOf(b: Bulk): BulkView {
  const count = (s: string) => b.items.filter((i) => i.status === s).length;
  return {
    bulkId: b.bulkId,
    action: b.action,
    reason: b.reason,
    requestedBy: b.actor,
    createdAt: b.createdAt,
    total: b.items.length,
    done: count('done'),
    failed: count('failed'),
    pending: count('pending'),
    items: b.items,
  };
}

export async function startBulkRetry(deps: CommandDeps, staff: StaffClaims, caseIds: string[], reason: string, log: FastifyBaseLogger): Promise<{ bulkId: string; total: number }> {
  const unique = [...new Set(caseIds)];
  const bulkId = randomUUID();
  await insertBulk(deps.pool, { bulkId, action: 'retry', reason, actor: staff.sub, role: staff.role, region: staff.region }, unique);
  await writeAudit(deps.pool, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.bulk-retry', reason, detail: { bulkId, total: unique.length } });
  resume(deps, bulkId, log);
  return { bulkId, total: unique.length };
}

/** The progress; only its requester reads it (anyone else: 404). Resumes work a dead instance left. */
export async function bulkProgress(deps: CommandDeps, staff: StaffClaims, bulkId: string, log: FastifyBaseLogger): Promise<BulkView> {
  const bulk = await findBulk(deps.pool, bulkId);
  if (!bulk || bulk.actor !== staff.sub) throw problem(404, `no bulk action ${bulkId}`);
  const view = viewOf(bulk);
  if (view.pending > 0) resume(deps, bulkId, log);
  return view;
}

/** Works through the pending cases if no other instance holds the lease; never throws. */
function resume(deps: CommandDeps, bulkId: string, log: FastifyBaseLogger): void {
  void work(deps, bulkId).catch((e: unknown) => log.error({ err: e, bulkId }, 'bulk retry stopped; another request for its progress resumes it'));
}

async function work(deps: CommandDeps, bulkId: string): Promise<void> {
  if (!(await leaseBulk(deps.pool, bulkId, LEASE_SECONDS))) return;
  try {
    const bulk = (await findBulk(deps.pool, bulkId))!;
    const staff: StaffClaims = { sub: bulk.actor, role: bulk.role as StaffRole, region: bulk.region };
    const queue = bulk.items.filter((i) => i.status === 'pending').map((i) => i.caseId);
    const renew = setInterval(() => void renewBulkLease(deps.pool, bulkId, LEASE_SECONDS).catch(() => undefined), (LEASE_SECONDS * 1000) / 3);
    try {
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let caseId = queue.shift(); caseId; caseId = queue.shift()) {
            try {
              await runCaseCommand(deps, staff, caseId, { kind: 'retry', reason: bulk.reason });
              await finishBulkItem(deps.pool, bulkId, caseId, 'done', 200, null);
            } catch (e) {
              // A workflow that did not answer may still retry: left pending for the next pass.
              if (e instanceof AppError && e.status === 503) continue;
              const status = e instanceof AppError ? e.status : 500;
              await finishBulkItem(deps.pool, bulkId, caseId, 'failed', status, e instanceof AppError ? e.message : 'the retry failed; see the server log');
            }
          }
        }),
      );
    } finally {
      clearInterval(renew);
    }
  } finally {
    await releaseBulkLease(deps.pool, bulkId);
  }
}
