// The database side of forwarding a liaison message (workflows/liaison/forwardLiaisonMessage.ts):
// where the province's case is, and what reached the province's system (each attachment also an
// entry in the hand-off ledger). Runs on the case queue, next to the database.
import type { Pool } from 'pg';
import { appendHandoff } from '../db/handoffs.js';
import { markFileForwarded, markForwardFailed, markMessageForwarded, provinceCaseIdOf } from '../db/liaison.js';
import { withTransaction } from '../db/transaction.js';

export function createLiaisonActivities(deps: { pool: Pool }) {
  return {
    /** The province's case id, or null while the case has not reached the handling authority. */
    async liaisonProvinceCaseId(args: { caseId: string }): Promise<string | null> {
      return provinceCaseIdOf(deps.pool, args.caseId);
    },
    async markLiaisonForwarded(args: { messageId: string; at: string }): Promise<void> {
      await markMessageForwarded(deps.pool, args.messageId, args.at);
    },
    /** The province's system has the attachment: marked on the message and entered in the hand-off ledger (once). */
    async markLiaisonFileForwarded(args: { messageId: string; position: number; at: string }): Promise<void> {
      await withTransaction(deps.pool, async (client) => {
        const file = await markFileForwarded(client, args.messageId, args.position, args.at);
        if (!file) return;
        await appendHandoff(client, file.caseId, {
          kind: 'liaison_attachment',
          ref: `liaison:${args.messageId}:${args.position}`,
          from: 'receiving',
          to: 'handling',
          what: [{ messageId: args.messageId, position: args.position, sha256: file.sha256, size: file.size }],
          sentAt: file.sentAt,
          acknowledgedAt: file.forwardedAt,
        });
      });
    },
    async markLiaisonForwardFailed(args: { messageId: string; error: string }): Promise<void> {
      await markForwardFailed(deps.pool, args.messageId, args.error);
    },
  };
}

export type LiaisonActivities = ReturnType<typeof createLiaisonActivities>;
