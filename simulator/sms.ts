// The SMS gateway tongban notifies applicants through (contracts/sms.ts,
// docs/outside-services.md), simulated under /sms. Its point is idempotency: a send repeated
// with the same key, one after another or all at once, never makes a second message, and tests
// count the messages per key through `GET /_admin/sms/messages`, which also shows the full number
// and text that the public status read masks or leaves out.
//
// Scenarios say how the gateway answers (`ok`, `down`: 503 to every call, `flaky`: every other
// request about the same key or message 503, starting with the first); the delivery outcome
// says what the carrier reports `deliveryDelayMs` after acceptance (`delivered` or `failed`).
// Memory only: unlike the provinces' cases, messages do not survive a restart of the simulator.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { z } from 'zod';
import {
  IDEMPOTENCY_KEY_REUSED_SLUG,
  UNAUTHORIZED_SLUG,
  UNAVAILABLE_SLUG,
  UNKNOWN_MESSAGE_SLUG,
  sendSmsRequestSchema,
  type SendSmsRequest,
  type SendSmsResponse,
  type SmsMessage,
  type SmsStatus,
} from '../contracts/sms.js';
import { maskPhone } from '../domain/idNumber.js';
import { ProblemError } from './problem.js';
import { Scheduler } from './scheduler.js';
import { IdempotencyStore, fingerprintOf, parseServiceBody, rawBodyOf, requireApiKey, sendAnswer, type Answer } from './serviceHttp.js';

export const SMS_SCENARIOS = ['ok', 'down', 'flaky'] as const;
export type SmsScenario = (typeof SMS_SCENARIOS)[number];

export const SMS_DELIVERY_OUTCOMES = ['delivered', 'failed'] as const;
export type SmsDeliveryOutcome = (typeof SMS_DELIVERY_OUTCOMES)[number];

const FAILURE_REASON = 'UNDELIV: 用户号码停机或不在服务区，短信未送达';

/** A message as the gateway keeps it: what `GET /_admin/sms/messages` lists, for tests. */
export interface SmsRecord {
  messageId: string;
  idempotencyKey: string;
  /** In full, unlike the public status read. */
  to: string;
  template: string;
  text: string;
  caseId?: string;
  status: SmsStatus;
  acceptedAt: string;
  deliveredAt?: string;
  failedAt?: string;
  failureReason?: string;
  /** How many repeats of its key were answered from the store (nothing sent for them). */
  replays: number;
}

export interface SmsGatewayOptions {
  /** From acceptance to the carrier's report. */
  deliveryDelayMs: number;
}

export class SmsGateway {
  scenario: SmsScenario = 'ok';
  deliveryOutcome: SmsDeliveryOutcome = 'delivered';
  private readonly messages = new Map<string, SmsRecord>();
  private readonly sends = new IdempotencyStore<SendSmsResponse>(
    (key) => new ProblemError(409, IDEMPOTENCY_KEY_REUSED_SLUG, 'Idempotency key reused', `idempotencyKey ${key} was first used with a different message; nothing was sent`),
  );
  private readonly flakyCounts = new Map<string, number>();
  private scheduler = new Scheduler();

  constructor(private readonly options: SmsGatewayOptions) {}

  /** Throws the 503 of the `down` scenario. */
  admitAny(): void {
    if (this.scenario === 'down') throw unavailable('the SMS gateway is down');
  }

  /** Throws the 503 of the `flaky` scenario on the 1st, 3rd, 5th … request about `key`. */
  admit(key: string): void {
    if (this.scenario !== 'flaky') return;
    const count = (this.flakyCounts.get(key) ?? 0) + 1;
    this.flakyCounts.set(key, count);
    if (count % 2 === 1) throw unavailable('the SMS gateway failed this request (flaky); nothing was sent');
  }

  setScenario(scenario: SmsScenario): void {
    this.scenario = scenario;
  }

  /** What the carrier reports for messages accepted from now on. */
  setDeliveryOutcome(outcome: SmsDeliveryOutcome): void {
    this.deliveryOutcome = outcome;
  }

  /** `POST /sms/messages`: one message per key; a repeat answers the first acceptance and sends nothing. */
  send(request: SendSmsRequest): Answer<SendSmsResponse> {
    const answer = this.sends.answer(request.idempotencyKey, fingerprintOf(request), () => {
      const record: SmsRecord = {
        messageId: `sms-${randomBytes(8).toString('hex')}`,
        idempotencyKey: request.idempotencyKey,
        to: request.to,
        template: request.template,
        text: request.text,
        ...(request.caseId !== undefined ? { caseId: request.caseId } : {}),
        status: 'accepted',
        acceptedAt: new Date().toISOString(),
        replays: 0,
      };
      this.messages.set(record.messageId, record);
      const outcome = this.deliveryOutcome;
      this.scheduler.after(this.options.deliveryDelayMs, () => settle(record, outcome));
      return { status: 202, body: { messageId: record.messageId, status: 'accepted' } };
    });
    if (answer.replayed) this.messages.get(answer.body.messageId)!.replays++;
    return answer;
  }

  /** `GET /sms/messages/{messageId}`: the status, with the number masked and without the text. */
  message(messageId: string): SmsMessage {
    const record = this.messages.get(messageId);
    if (!record) throw new ProblemError(404, UNKNOWN_MESSAGE_SLUG, 'Unknown message', `no message ${messageId}`);
    const fields = {
      messageId: record.messageId,
      to: maskPhone(record.to),
      template: record.template,
      ...(record.caseId !== undefined ? { caseId: record.caseId } : {}),
      acceptedAt: record.acceptedAt,
    };
    if (record.status === 'delivered') return { ...fields, status: 'delivered', deliveredAt: record.deliveredAt! };
    if (record.status === 'failed') return { ...fields, status: 'failed', failedAt: record.failedAt!, failureReason: record.failureReason! };
    return { ...fields, status: 'accepted' };
  }

  /** Every message in the order accepted, in full (copies). */
  all(): SmsRecord[] {
    return [...this.messages.values()].map((record) => ({ ...record }));
  }

  reset(): void {
    this.scheduler.dispose();
    this.scheduler = new Scheduler();
    this.scenario = 'ok';
    this.deliveryOutcome = 'delivered';
    this.messages.clear();
    this.sends.clear();
    this.flakyCounts.clear();
  }

  dispose(): void {
    this.scheduler.dispose();
  }
}

function settle(record: SmsRecord, outcome: SmsDeliveryOutcome): void {
  const at = new Date().toISOString();
  record.status = outcome;
  if (outcome === 'delivered') {
    record.deliveredAt = at;
  } else {
    record.failedAt = at;
    record.failureReason = FAILURE_REASON;
  }
}

function unavailable(detail: string): ProblemError {
  return new ProblemError(503, UNAVAILABLE_SLUG, 'Service unavailable', detail);
}

// ---------------------------------------------------------------------------------------------
// HTTP

export interface SmsRoutesOptions {
  sms: SmsGateway;
  apiKey: string;
}

/** The gateway's routes, mounted by simulator/server.ts with `prefix: '/sms'`. */
export const smsRoutes: FastifyPluginAsync<SmsRoutesOptions> = async (scope, { sms, apiKey }) => {
  // Down means down: every call, authenticated or not.
  scope.addHook('onRequest', async () => sms.admitAny());
  scope.addHook('onRequest', async (request, reply) => requireApiKey(request, reply, { apiKey, realm: 'sms', slug: UNAUTHORIZED_SLUG }));

  scope.post('/messages', async (request, reply) => {
    const body = parseServiceBody(rawBodyOf(request), sendSmsRequestSchema);
    sms.admit(`send:${body.idempotencyKey}`);
    return sendAnswer(reply, sms.send(body));
  });

  scope.get<{ Params: { messageId: string } }>('/messages/:messageId', async (request) => {
    sms.admit(`read:${request.params.messageId}`);
    return sms.message(request.params.messageId);
  });
};

/** The unsigned `/_admin/sms/…` controls for tests (loopback only, like the provinces' admin API). */
export function registerSmsAdminRoutes(app: FastifyInstance, sms: SmsGateway): void {
  app.get('/_admin/sms/messages', async () => sms.all());

  app.post('/_admin/sms/scenario', async (request) => {
    const { scenario } = parseServiceBody(rawBodyOf(request), z.object({ scenario: z.enum(SMS_SCENARIOS) }));
    sms.setScenario(scenario);
    return { scenario };
  });

  app.post('/_admin/sms/delivery', async (request) => {
    const { outcome } = parseServiceBody(rawBodyOf(request), z.object({ outcome: z.enum(SMS_DELIVERY_OUTCOMES) }));
    sms.setDeliveryOutcome(outcome);
    return { outcome };
  });
}
