// The handling authority's side of work liaison (工作联络) in the simulator: it receives the
// window's messages and their attachments (hash-checked), and through the admin API writes to the
// window or acknowledges a message, by signed callback to `<callbackUrl>/liaison`
// (contracts/province.ts `liaisonEventSchema`).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { LiaisonMessageRequest } from '../contracts/province.js';
import { sha256Hex } from '../crypto/signing.js';
import { ProblemError } from './problem.js';
import type { Outcome, SimCase } from './province.js';

export interface LiaisonReceived {
  messageId: string;
  body: string;
  sentAt: string;
  inReplyTo: string | null;
  receivedAt: string;
  files: { position: number; sha256: string; size: number; contentType: string; receivedAt: string | null }[];
}

export interface LiaisonCallbackEvent {
  eventId: string;
  caseId: string;
  type: 'liaison.message' | 'liaison.acknowledged';
  at: string;
  data: Record<string, unknown>;
}

/** `POST …/cases/{provinceCaseId}/messages`: 201 with the receipt; a repeat of the message is 200. */
export function receiveLiaisonMessage(simCase: SimCase, body: LiaisonMessageRequest): Outcome & { replayStatus: number } {
  const known = simCase.liaison.find((m) => m.messageId === body.messageId);
  if (known) return { status: 200, replayStatus: 200, body: { messageId: known.messageId, receivedAt: known.receivedAt } };
  const received: LiaisonReceived = {
    messageId: body.messageId,
    body: body.body,
    sentAt: body.sentAt,
    inReplyTo: body.inReplyTo ?? null,
    receivedAt: new Date().toISOString(),
    files: body.files.map((f) => ({ ...f, receivedAt: null })),
  };
  simCase.liaison.push(received);
  return { status: 201, replayStatus: 200, body: { messageId: received.messageId, receivedAt: received.receivedAt } };
}

/** `PUT …/messages/{messageId}/files/{position}`: the bytes of a declared attachment, checked against its hash. */
export function receiveLiaisonFile(simCase: SimCase, messageId: string, position: number, bytes: Buffer): Outcome & { replayStatus: number } {
  const message = simCase.liaison.find((m) => m.messageId === messageId);
  if (!message) throw new ProblemError(404, 'unknown-message', 'Unknown message', `no message ${messageId} in case ${simCase.provinceCaseId}`);
  const file = message.files.find((f) => f.position === position);
  if (!file) throw new ProblemError(404, 'unknown-attachment', 'Unknown attachment', `message ${messageId} declares no attachment ${position}`);
  const sha256 = sha256Hex(bytes);
  if (sha256 !== file.sha256.toLowerCase()) {
    throw new ProblemError(422, 'hash-mismatch', 'Hash mismatch', `attachment ${position} of message ${messageId}: the bytes hash to ${sha256}, the message declared ${file.sha256}`);
  }
  const first = file.receivedAt === null;
  file.receivedAt ??= new Date().toISOString();
  return { status: first ? 201 : 200, replayStatus: 200, body: { messageId, position, sha256, size: bytes.length, receivedAt: file.receivedAt } };
}

/** The admin API's request to write to the window: a new message id unless given. */
export const liaisonWriteSchema = z.object({ body: z.string().min(1).max(5000), inReplyTo: z.uuid().optional(), author: z.string().max(200).optional(), messageId: z.uuid().optional() });

export function liaisonMessageData(write: z.infer<typeof liaisonWriteSchema>): Record<string, unknown> {
  return { messageId: write.messageId ?? randomUUID(), body: write.body, ...(write.inReplyTo ? { inReplyTo: write.inReplyTo } : {}), ...(write.author ? { author: write.author } : {}) };
}
