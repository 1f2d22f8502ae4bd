// Work liaison (工作联络): one message thread per case between the receiving window and the handling
// authority. Staff of either side write to the other side and acknowledge what they were sent; the
// authority's own system writes and acknowledges by signed callback (contracts/province.ts
// `liaisonEventSchema`). A message to the handling side is also forwarded to that system by a
// workflow of its own (workflows/liaison/forwardLiaisonMessage.ts). A message not acknowledged
// within LIAISON_REPLY_HOURS office hours is overdue: the thread says so, and the stuck-case
// reasons read it (db/liaison.ts `unacknowledgedMessages`).
import { randomUUID } from 'node:crypto';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type pg from 'pg';
import { caseTiming, type Config } from '../config/index.js';
import type { LiaisonEvent } from '../contracts/province.js';
import { writeAudit } from '../db/audit.js';
import { handlingRegionOf } from '../db/callbacks.js';
import { findFiles } from '../db/files.js';
import { appendHandoff } from '../db/handoffs.js';
import { acknowledgeMessage, deleteMessage, findMessage, insertMessage, listMessages, type LiaisonMessage, type LiaisonSide } from '../db/liaison.js';
import { withTransaction } from '../db/transaction.js';
import type { WorkingCalendar } from '../domain/calendar.js';
import { CalendarRangeError } from '../domain/calendar.js';
import { officeHoursBetween, parseOfficeHours } from '../domain/officeHours.js';
import { sidesOf } from '../domain/policy.js';
import { provinceOf, regionCovers } from '../domain/regions.js';
import type { forwardLiaisonMessageWorkflow } from '../workflows/index.js';
import { CASE_TASK_QUEUE, liaisonWorkflowId, type ForwardLiaisonInput } from '../workflows/messages.js';
import type { StaffClaims } from './auth.js';
import { recordCaseReads } from './accessLog.js';
import { authorizeCaseAction } from './caseReads.js';
import { problem, type FieldError } from './problem.js';

export interface LiaisonDeps {
  pool: pg.Pool;
  temporal: Client;
  config: Config;
  calendar: WorkingCalendar;
}

export interface MessageBody {
  to: LiaisonSide;
  body: string;
  fileIds?: string[] | undefined;
  inReplyTo?: string | undefined;
}

/** A message as the api shows it: with whether it waits for an acknowledgement, and for how long. */
export interface MessageView extends LiaisonMessage {
  /** Office hours it has waited without an acknowledgement (null once acknowledged, or when the calendar does not reach). */
  waitingOfficeHours: number | null;
  /** Unacknowledged past LIAISON_REPLY_HOURS office hours. */
  overdue: boolean;
}

export function viewOf(deps: Pick<LiaisonDeps, 'config' | 'calendar'>, m: LiaisonMessage, now = new Date()): MessageView {
  if (m.acknowledgedAt) return { ...m, waitingOfficeHours: null, overdue: false };
  let waiting: number | null = null;
  try {
    waiting = Math.round(officeHoursBetween(deps.calendar, parseOfficeHours(deps.config.OFFICE_HOURS), new Date(m.sentAt), now) * 100) / 100;
  } catch (e) {
    if (!(e instanceof CalendarRangeError)) throw e;
  }
  return { ...m, waitingOfficeHours: waiting, overdue: waiting !== null && waiting >= deps.config.LIAISON_REPLY_HOURS };
}

const otherSide = (side: LiaisonSide): LiaisonSide => (side === 'receiving' ? 'handling' : 'receiving');

/**
 * Records a staff member's message to the other side and, for the handling side, starts its
 * forwarding. With an Idempotency-Key a retry returns the same message; if the forwarding cannot be
 * started the message is taken back (503), so a retry with the key does both.
 */
export async function postMessage(deps: LiaisonDeps, staff: StaffClaims, caseId: string, body: MessageBody, idempotencyKey: string | null): Promise<{ message: MessageView; created: boolean }> {
  const header = await authorizeCaseAction(deps.pool, staff, caseId, 'case.message');
  const from = otherSide(body.to);
  const on = sidesOf(staff, header);
  if (!on[from]) {
    throw problem(403, `only the ${from} side (${from === 'receiving' ? header.receivingRegion : header.handlingRegion}) may write to the ${body.to} side; a token for region ${staff.region} is not on it`);
  }
  const errors: FieldError[] = [];
  const fileIds = body.fileIds ?? [];
  const files = new Map((await findFiles(deps.pool, fileIds)).filter((f) => regionCovers(staff.region, f.uploadedRegion)).map((f) => [f.fileId, f]));
  fileIds.forEach((id, i) => {
    if (!files.has(id)) errors.push({ path: `fileIds.${i}`, message: `no uploaded file ${id}` });
    if (fileIds.indexOf(id) !== i) errors.push({ path: `fileIds.${i}`, message: `${id} is attached twice` });
  });
  if (body.inReplyTo) {
    const original = await findMessage(deps.pool, caseId, body.inReplyTo);
    if (!original) errors.push({ path: 'inReplyTo', message: `no message ${body.inReplyTo} in this case` });
    else if (original.to !== from) errors.push({ path: 'inReplyTo', message: `message ${body.inReplyTo} was written to the ${original.to} side, not to yours` });
  }
  if (errors.length) throw problem(400, 'the message cannot be sent as written', { errors });

  const message = {
    messageId: randomUUID(),
    caseId,
    from,
    to: body.to,
    author: staff.sub,
    authorRole: staff.role,
    authorRegion: staff.region,
    body: body.body,
    inReplyTo: body.inReplyTo ?? null,
    sentAt: new Date().toISOString(),
    idempotencyKey: idempotencyKey ?? randomUUID(),
    files: fileIds.map((id, position) => {
      const f = files.get(id)!;
      return { position, fileId: id, sha256: f.sha256, size: f.size, contentType: f.contentType };
    }),
  };
  const stored = await withTransaction(deps.pool, async (client) => {
    const result = await insertMessage(client, message);
    if (result.created && body.to === 'receiving') {
      // Within tongban the window has the attachments as soon as they are written: each a hand-off.
      for (const f of result.message.files) {
        await appendHandoff(client, caseId, {
          kind: 'liaison_attachment', ref: `liaison:${result.message.messageId}:${f.position}`, from: 'handling', to: 'receiving',
          what: [{ messageId: result.message.messageId, position: f.position, sha256: f.sha256, size: f.size }], sentAt: result.message.sentAt, acknowledgedAt: null,
        });
      }
    }
    if (result.created) {
      await writeAudit(client, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.message', caseId, detail: { messageId: result.message.messageId, to: body.to, files: fileIds.length } });
    }
    return result;
  });
  if (stored.message.body !== body.body || stored.message.to !== body.to) throw problem(409, 'this Idempotency-Key was already used for a different message', { slug: 'idempotency-key-reused' });
  if (stored.message.to === 'handling' && !stored.message.forwardedAt) {
    try {
      await startForwarding(deps, header.handlingRegion, stored.message);
    } catch (e) {
      if (stored.created) await deleteMessage(deps.pool, stored.message.messageId).catch(() => undefined);
      throw Object.assign(problem(503, 'the message could not be passed on to the handling authority; retry (with the same Idempotency-Key)', { headers: { 'retry-after': '5' } }), { cause: e });
    }
  }
  return { message: viewOf(deps, stored.message), created: stored.created };
}

async function startForwarding(deps: LiaisonDeps, handlingRegion: string, m: LiaisonMessage): Promise<void> {
  const timing = caseTiming(deps.config);
  const input: ForwardLiaisonInput = {
    caseId: m.caseId,
    provinceCode: provinceOf(handlingRegion),
    message: {
      messageId: m.messageId,
      body: m.body,
      sentAt: m.sentAt,
      ...(m.inReplyTo ? { inReplyTo: m.inReplyTo } : {}),
      files: m.files.map((f) => ({ position: f.position, sha256: f.sha256, size: f.size, contentType: f.contentType })),
    },
    files: m.files.map((f) => ({ position: f.position, sha256: f.sha256, contentType: f.contentType })),
    // Looks again for the province's case as often as a case polls a silent province at first.
    timing: { callTimeoutMs: timing.callTimeoutMs, retryInitialIntervalMs: timing.retryInitialIntervalMs, retryMaximumIntervalMs: timing.retryMaximumIntervalMs, firstLookMs: timing.statusPollAfterMs },
  };
  try {
    await deps.temporal.workflow.start<typeof forwardLiaisonMessageWorkflow>('forwardLiaisonMessageWorkflow', { workflowId: liaisonWorkflowId(m.messageId), taskQueue: CASE_TASK_QUEUE, args: [input] });
  } catch (e) {
    if (!(e instanceof WorkflowExecutionAlreadyStartedError)) throw e;
  }
}

export async function getThread(deps: LiaisonDeps, staff: StaffClaims, caseId: string): Promise<{ caseId: string; messages: MessageView[] }> {
  const header = await authorizeCaseAction(deps.pool, staff, caseId, 'case.read');
  // The offices' free text about the applicant is personal data: the read is audited first.
  await recordCaseReads(deps.pool, staff, 'messages', [header]);
  const now = new Date();
  return { caseId, messages: (await listMessages(deps.pool, caseId)).map((m) => viewOf(deps, m, now)) };
}

/** The addressed side acknowledges a message; the first acknowledgement stands. */
export async function acknowledge(deps: LiaisonDeps, staff: StaffClaims, caseId: string, messageId: string): Promise<MessageView> {
  const header = await authorizeCaseAction(deps.pool, staff, caseId, 'case.message');
  const message = await findMessage(deps.pool, caseId, messageId);
  if (!message) throw problem(404, `no message ${messageId} in case ${caseId}`);
  if (!sidesOf(staff, header)[message.to]) throw problem(403, `the message was written to the ${message.to} side; only that side acknowledges it`);
  const acked = await withTransaction(deps.pool, async (client) => {
    const now = await acknowledgeMessage(client, caseId, messageId, staff.sub, new Date().toISOString());
    if (now?.acknowledgedBy === staff.sub && !message.acknowledgedAt) {
      await writeAudit(client, { actor: staff.sub, role: staff.role, region: staff.region, action: 'case.acknowledgeMessage', caseId, detail: { messageId } });
    }
    return now!;
  });
  return viewOf(deps, acked);
}

/** A liaison callback from the handling authority's system; 'duplicate' when its event was seen. */
export async function receiveLiaisonEvent(pool: pg.Pool, regionCode: string, event: LiaisonEvent): Promise<'accepted' | 'duplicate'> {
  const handling = await handlingRegionOf(pool, event.caseId);
  if (!handling || provinceOf(handling) !== regionCode) throw problem(404, `no case ${event.caseId} for province ${regionCode}`);
  const author = `province:${regionCode}`;
  if (event.type === 'liaison.acknowledged') {
    const message = await findMessage(pool, event.caseId, event.data.messageId);
    if (!message || message.to !== 'handling') {
      throw problem(400, 'the acknowledged message is not one written to the handling side of this case', { errors: [{ path: 'data.messageId', message: `no message ${event.data.messageId} to the handling side of case ${event.caseId}` }] });
    }
    if (message.acknowledgedAt) return 'duplicate';
    await acknowledgeMessage(pool, event.caseId, message.messageId, event.data.by ? `${author} (${event.data.by})` : author, event.at);
    return 'accepted';
  }
  if (event.data.inReplyTo) {
    const original = await findMessage(pool, event.caseId, event.data.inReplyTo);
    if (!original || original.to !== 'handling') {
      throw problem(400, 'the message answers no message written to the handling side of this case', { errors: [{ path: 'data.inReplyTo', message: `no message ${event.data.inReplyTo} to the handling side of case ${event.caseId}` }] });
    }
  }
  // One transaction: the answer and the acknowledgement it gives appear together.
  const { created } = await withTransaction(pool, (client) => insertMessage(client, {
    messageId: event.data.messageId,
    caseId: event.caseId,
    from: 'handling',
    to: 'receiving',
    author,
    authorRole: null,
    authorRegion: regionCode,
    body: event.data.body,
    inReplyTo: event.data.inReplyTo ?? null,
    sentAt: event.at,
    idempotencyKey: event.eventId,
    files: [],
  })).catch((e: unknown) => {
    // The province reused a messageId for another event: a conflict, not a new message.
    if (e instanceof Error && /case_messages_pkey/.test(e.message)) throw problem(409, `message ${event.data.messageId} already exists`);
    throw e;
  });
  return created ? 'accepted' : 'duplicate';
}

