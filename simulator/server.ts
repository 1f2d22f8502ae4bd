// The province simulator: one HTTP server playing several provinces' gateways, implementing the
// province side of docs/province-protocol.md (requests parsed with contracts/province.ts), plus
// the unsigned /_admin controls for tests. With `stateFile`, its state survives restarts
// (simulator/persistence.ts). Beside the provinces it mounts two outside services, the
// video-meeting service under /video and the SMS gateway under /sms (simulator/video.ts,
// simulator/sms.ts; memory only), with admin controls under /_admin/video and /_admin/sms, and
// the data-sharing hub under /datahub (simulator/datahub.ts; signed, memory only), with its
// controls under /_admin/datahub.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { z } from 'zod';
import {
  correctionAnswerRequestSchema,
  createCaseRequestSchema,
  findCaseQuerySchema,
  licenceVerifyRequestSchema,
  liaisonMessageRequestSchema,
  supplementQuerySchema,
  withdrawRequestSchema,
  revokeRequestSchema,
} from '../contracts/province.js';
import type { DatahubRecord, DatahubSource } from '../contracts/datahub.js';
import type { VideoRoom } from '../contracts/video.js';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, sha256Hex, verifyRequest, type SignatureProblem } from '../crypto/signing.js';
import { PROVINCES } from '../domain/regions.js';
import { DEFAULT_CALLBACK_RETRY, type CallbackRetryPolicy } from './callbacks.js';
import { registerElicences, type LicenceKeys } from './elicences.js';
import { StateFile, restoreInto, snapshotOf } from './persistence.js';
import { PROBLEM_CONTENT_TYPE, ProblemError, parseJsonBody } from './problem.js';
import { Province, ProvinceSimulation, subjectOfCase, type Outcome, type RecordedRequest } from './province.js';
import { liaisonMessageData, liaisonWriteSchema, receiveLiaisonFile, receiveLiaisonMessage, type LiaisonCallbackEvent, type LiaisonReceived } from './liaison.js';
import { scenarioRuleSchema, scenarioSchema, type Operation, type Scenario, type ScenarioRule, type Subject } from './scenarios.js';
import { checkApiKey } from './serviceHttp.js';
import { DATAHUB_PREFIX, DataHub, datahubRoutes, registerDatahubAdminRoutes, type DatahubQueryLog, type DatahubScenario, type PutDatahubRecord } from './datahub.js';
import { SmsGateway, registerSmsAdminRoutes, smsRoutes, type SmsDeliveryOutcome, type SmsRecord, type SmsScenario } from './sms.js';
import { VideoMeetings, registerVideoAdminRoutes, videoRoutes, type VideoScenario } from './video.js';

export type { Scenario, ScenarioRule, RuleMatch } from './scenarios.js';
export type { RecordedRequest, ProvinceCallbackEvent, CaseStatusBody, ProvinceCaseStatus } from './province.js';
export { SCENARIOS } from './scenarios.js';
export type { CallbackRetryPolicy } from './callbacks.js';
export type { VideoScenario } from './video.js';
export type { SmsDeliveryOutcome, SmsRecord, SmsScenario } from './sms.js';
export type { DatahubQueryLog, DatahubScenario, PutDatahubRecord } from './datahub.js';

export interface SimulatorOptions {
  provinces: { code: string; name?: string; secret: string }[];
  /** Default 127.0.0.1: the admin API is unsigned, so keep it on loopback. */
  host?: string;
  /** 0 = ephemeral. */
  port?: number;
  /** Time from submit to decision, default 1500 (and from the last answer or procedure end to the decision). */
  reviewDelayMs?: number;
  /** Scenarios `correction`, `correction-2`: time from submit, or from an answer with a round to go, to the notice; default 1000. */
  correctionDelayMs?: number;
  /** Scenario `procedure`: time from submit to the procedure's start, and from its start to its end; default 1000. */
  procedureDelayMs?: number;
  /** Mail: time from approval to delivery.mailed and again to delivery.received, default 1000. */
  deliveryDelayMs?: number;
  /** Extra latency in the 'slow' scenario, default 3000. */
  slowMs?: number;
  /**
   * How a callback that did not get a 2xx is retried: backoff from 1 s doubling, capped at 10 min,
   * for 24 h (DEFAULT_CALLBACK_RETRY in simulator/callbacks.ts); tests shorten it.
   */
  callbackRetry?: Partial<CallbackRetryPolicy>;
  /**
   * Keep the provinces' state in this file across restarts (npm start passes
   * `<DATA_DIR>/simulator/state.json`); without it, state lives in memory only.
   */
  stateFile?: string;
  /** Fastify's logger option, default false. */
  logger?: FastifyServerOptions['logger'];
  /**
   * Per province code, its issuing authority's SM2 key pair for electronic licences
   * (simulator/elicences.ts); a province without one gets a new pair at start (memory only).
   */
  licenceKeys?: LicenceKeys;

  // The outside services (simulator/video.ts, simulator/sms.ts)
  /** The bearer API key of the video-meeting service and the SMS gateway (16–256 printable ASCII); default random. */
  serviceApiKey?: string;
  /** SMS: time from acceptance to the carrier's delivery report, default 1000. */
  smsDeliveryDelayMs?: number;
  /** The data-sharing hub's HMAC signing secret (the province protocol's signatures); default random. */
  datahubSecret?: string;
}

export interface Simulator {
  url: string;
  /** `${url}/provinces/${code}` */
  baseUrlFor(code: string): string;
  setScenario(code: string, scenario: Scenario): void;
  addRule(rule: ScenarioRule): void;
  /** Ends the rules with exactly this match. */
  removeRules(match: ScenarioRule['match']): void;
  /**
   * The authority's own staff submit a case for review in their system, not through the gateway
   * (what a step recorded as done offline, 线下办理, stands for).
   */
  submitInProvince(code: string, caseId: string): void;
  requests(code: string): RecordedRequest[];
  /** Forgets everything: the provinces' state and rules, the rooms, the messages, the hub's queries and put records, every scenario. */
  reset(): void;
  /** The public key (04 ‖ x ‖ y hex) of a province's issuing authority: what tongban registers to verify its licences. */
  licencePublicKey(code: string): string;
  close(): Promise<void>;
  /** Liaison messages the authority received for a tongban case. */
  liaisonReceived(code: string, caseId: string): LiaisonReceived[];
  /** The status of the authority's case for a tongban case id, or null when it has none (for tests). */
  caseStatus(code: string, caseId: string): string | null;
  /** The authority writes to the window (a signed `liaison.message` callback); returns the event. */
  writeLiaison(code: string, caseId: string, write: { body: string; inReplyTo?: string; author?: string; messageId?: string }): LiaisonCallbackEvent;
  /** The authority acknowledges a message it received (a signed `liaison.acknowledged` callback). */
  acknowledgeLiaison(code: string, caseId: string, messageId: string, by?: string): LiaisonCallbackEvent;

  // The outside services (simulator/video.ts, simulator/sms.ts)
  /** The bearer API key both services require (`Authorization: Bearer <key>`). */
  serviceApiKey: string;
  /** `${url}/video` */
  videoBaseUrl: string;
  /** `${url}/sms` */
  smsBaseUrl: string;
  setVideoScenario(scenario: VideoScenario): void;
  /** The meeting took place: the room becomes `held` with a recording (of the booked length unless given). */
  holdRoom(roomId: string, opts?: { durationSeconds?: number }): VideoRoom;
  /** Nobody came: the room becomes `missed`. */
  missRoom(roomId: string): VideoRoom;
  setSmsScenario(scenario: SmsScenario): void;
  /** What the carrier reports for messages accepted from now on (default `delivered`). */
  setSmsDelivery(outcome: SmsDeliveryOutcome): void;
  /** Every message the gateway accepted, in order, with its idempotency key, full number and text. */
  smsMessages(): SmsRecord[];

  // The data-sharing hub (simulator/datahub.ts)
  /** The secret the hub's requests are signed with (crypto/signing.ts `signRequest`). */
  datahubSecret: string;
  /** `${url}/datahub` */
  datahubBaseUrl: string;
  /** `down`: every /datahub call answers 503; `no-record`: every query answers `found: false`. */
  setDatahubScenario(scenario: DatahubScenario): void;
  /** From now on, the identity's record of `source` is this one, or none (`null`); returns the record. */
  putDatahubRecord(idNumber: string, source: DatahubSource, record: PutDatahubRecord): DatahubRecord | null;
  /** Every query the hub answered, in order, replays included (marked), with the full identity number. */
  datahubQueries(): DatahubQueryLog[];
}

const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

const SIGNATURE_DETAILS: Record<SignatureProblem, string> = {
  missing: `missing: ${TIMESTAMP_HEADER} and ${SIGNATURE_HEADER} are required`,
  stale: 'stale: the timestamp is more than 300 s away from the province clock',
  mismatch: 'mismatch: the signature does not match the request',
};

interface CodeParams {
  code: string;
}
interface CaseParams extends CodeParams {
  provinceCaseId: string;
}
interface MaterialParams extends CaseParams {
  materialCode: string;
}
interface NoticeParams extends CaseParams {
  noticeId: string;
}

/** What a request is about: rules match on `subject`; 'flaky' alternates per `flakyKey`. */
interface Target {
  subject: Subject;
  flakyKey: string;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const provinces = buildProvinces(opts.provinces);
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: BODY_LIMIT_BYTES });
  const stateFile = opts.stateFile ? new StateFile(opts.stateFile) : null;
  const saved = stateFile?.load() ?? null;
  const simulation: ProvinceSimulation = new ProvinceSimulation(provinces, {
    reviewDelayMs: opts.reviewDelayMs ?? 1500,
    correctionDelayMs: opts.correctionDelayMs ?? 1000,
    procedureDelayMs: opts.procedureDelayMs ?? 1000,
    deliveryDelayMs: opts.deliveryDelayMs ?? 1000,
    slowMs: opts.slowMs ?? 3000,
    callbackRetry: { ...DEFAULT_CALLBACK_RETRY, ...opts.callbackRetry },
    onCallbackGivenUp: (event, url) => app.log.warn({ eventId: event.eventId, caseId: event.caseId, url }, 'callback not delivered; giving up'),
    onChange: () => stateFile?.schedule(() => snapshotOf(simulation)),
  });

  acceptRawBodies(app);
  app.setErrorHandler(sendProblem);
  app.setNotFoundHandler((request, reply) => sendProblem(new ProblemError(404, 'not-found', 'Not found', `no route ${request.method} ${request.url}`), request, reply));
  await app.register(async (scope) => registerProvinceRoutes(scope, simulation, provinces));

  // The outside services: their own routes, state and admin controls; `url` is read only once listening.
  const serviceApiKey = checkApiKey(opts.serviceApiKey ?? randomBytes(24).toString('base64url'));
  const video = new VideoMeetings(() => url);
  const sms = new SmsGateway({ deliveryDelayMs: opts.smsDeliveryDelayMs ?? 1000 });
  await app.register(videoRoutes, { prefix: '/video', video, apiKey: serviceApiKey });
  await app.register(smsRoutes, { prefix: '/sms', sms, apiKey: serviceApiKey });
  registerVideoAdminRoutes(app, video);
  registerSmsAdminRoutes(app, sms);
  // The data-sharing hub: signed like the provinces, with its own secret.
  const datahubSecret = opts.datahubSecret ?? randomBytes(32).toString('base64url');
  if (!datahubSecret) throw new Error('datahubSecret must not be empty');
  const datahub = new DataHub();
  await app.register(datahubRoutes, { prefix: DATAHUB_PREFIX, datahub, secret: datahubSecret });
  registerDatahubAdminRoutes(app, datahub);
  const resetAll = (): void => {
    simulation.reset();
    video.reset();
    sms.reset();
    datahub.reset();
  };

  registerAdminRoutes(app, simulation, resetAll);
  const elicences = registerElicences(app, simulation, opts.licenceKeys);
  registerLiaisonAdminRoutes(app, simulation);

  const host = opts.host ?? '127.0.0.1';
  await app.listen({ host, port: opts.port ?? 0 });
  const url = `http://${urlHost(host)}:${(app.server.address() as AddressInfo).port}`;
  // Resumed once listening: a rearmed review may call back at once.
  if (saved) simulation.resume(restoreInto(provinces, saved));

  return {
    url,
    baseUrlFor: (code) => `${url}/provinces/${code}`,
    setScenario: (code, scenario) => simulation.setScenario(code, scenario),
    addRule: (rule) => simulation.addRule(rule),
    removeRules: (match) => simulation.removeRules(match),
    submitInProvince: (code, caseId) => {
      const province = simulation.province(code);
      const simCase = [...province.state.cases.values()].find((c) => c.request.caseId === caseId);
      if (!simCase) throw new Error(`province ${code} has no case ${caseId}`);
      simulation.submit(province, simCase);
    },
    requests: (code) => [...simulation.province(code).state.requests],
    reset: resetAll,
    licencePublicKey: (code) => elicences.publicKey(code),
    close: async () => {
      simulation.dispose();
      sms.dispose();
      await app.close();
      await stateFile?.close();
    },
    serviceApiKey,
    videoBaseUrl: `${url}/video`,
    smsBaseUrl: `${url}/sms`,
    setVideoScenario: (scenario) => video.setScenario(scenario),
    holdRoom: (roomId, holdOpts) => video.hold(roomId, holdOpts?.durationSeconds),
    missRoom: (roomId) => video.miss(roomId),
    setSmsScenario: (scenario) => sms.setScenario(scenario),
    setSmsDelivery: (outcome) => sms.setDeliveryOutcome(outcome),
    smsMessages: () => sms.all(),
    datahubSecret,
    datahubBaseUrl: `${url}${DATAHUB_PREFIX}`,
    setDatahubScenario: (scenario) => datahub.setScenario(scenario),
    putDatahubRecord: (idNumber, source, record) => datahub.putRecord(idNumber, source, record),
    datahubQueries: () => datahub.all(),
    liaisonReceived: (code, caseId) => [...simulation.caseByTongbanId(code, caseId).liaison],
    caseStatus: (code, caseId) => {
      try {
        return simulation.caseByTongbanId(code, caseId).status;
      } catch {
        return null;
      }
    },
    writeLiaison: (code, caseId, write) => simulation.emitLiaison(simulation.province(code), simulation.caseByTongbanId(code, caseId), 'liaison.message', liaisonMessageData(write)),
    acknowledgeLiaison: (code, caseId, messageId, by) =>
      simulation.emitLiaison(simulation.province(code), simulation.caseByTongbanId(code, caseId), 'liaison.acknowledged', { messageId, ...(by ? { by } : {}) }),
  };
}

function buildProvinces(list: SimulatorOptions['provinces']): Map<string, Province> {
  if (list.length === 0) throw new Error('the simulator needs at least one province');
  const provinces = new Map<string, Province>();
  for (const { code, name, secret } of list) {
    if (provinces.has(code)) throw new Error(`province ${code} is listed twice`);
    if (!secret) throw new Error(`province ${code} has no secret`);
    provinces.set(code, new Province(code, name ?? PROVINCES[code] ?? code, secret));
  }
  return provinces;
}

/** Signatures cover the exact body bytes and materials are binary, so every body stays a Buffer. */
function acceptRawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
}

function registerProvinceRoutes(scope: FastifyInstance, simulation: ProvinceSimulation, provinces: ReadonlyMap<string, Province>): void {
  scope.addHook('preHandler', async (request) => authenticate(simulation, request));
  scope.addHook('onResponse', async (request, reply) => recordRequest(provinces, request, reply));

  scope.post<{ Params: CodeParams }>('/provinces/:code/cases', async (request, reply) => {
    const province = simulation.province(request.params.code);
    const body = parseJsonBody(rawBody(request), createCaseRequestSchema);
    const target = { subject: { ...subjectOfCase(body), operation: 'create' as const }, flakyKey: caseFlakyKey(body.caseId) };
    return respond(simulation, province, target, reply, () =>
      simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () => simulation.createCase(province, body)),
    );
  });

  // An original, or with `?revision=N` a supplement answering an open correction notice.
  scope.put<{ Params: MaterialParams; Querystring: Record<string, unknown> }>('/provinces/:code/cases/:provinceCaseId/materials/:materialCode', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params, 'material');
    const revision = supplementRevision(request.query);
    return respond(simulation, province, target, reply, () =>
      simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () =>
        simulation.uploadMaterial(simulation.caseOf(province, request.params.provinceCaseId), request.params.materialCode, rawBody(request), header(request, 'x-content-sha256'), revision),
      ),
    );
  });

  scope.post<{ Params: NoticeParams }>('/provinces/:code/cases/:provinceCaseId/corrections/:noticeId/answer', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params);
    return respond(simulation, province, target, reply, () => {
      const simCase = simulation.caseOf(province, request.params.provinceCaseId);
      const body = parseJsonBody(rawBody(request), correctionAnswerRequestSchema);
      return simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () => simulation.answerCorrection(province, simCase, request.params.noticeId, body));
    });
  });

  scope.post<{ Params: CaseParams }>('/provinces/:code/cases/:provinceCaseId/submit', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params, 'submit');
    return respond(simulation, province, target, reply, () =>
      simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () =>
        simulation.submit(province, simulation.caseOf(province, request.params.provinceCaseId)),
      ),
    );
  });

  scope.post<{ Params: CaseParams }>('/provinces/:code/cases/:provinceCaseId/withdraw', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params);
    return respond(simulation, province, target, reply, () => {
      const simCase = simulation.caseOf(province, request.params.provinceCaseId);
      parseJsonBody(rawBody(request), withdrawRequestSchema);
      return simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () => simulation.withdraw(simCase));
    });
  });

  scope.post<{ Params: CaseParams }>('/provinces/:code/cases/:provinceCaseId/revoke', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params);
    return respond(simulation, province, target, reply, () => {
      const simCase = simulation.caseOf(province, request.params.provinceCaseId);
      parseJsonBody(rawBody(request), revokeRequestSchema);
      return simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () => simulation.revoke(simCase));
    });
  });

  scope.get<{ Params: CodeParams }>('/provinces/:code/cases', async (request, reply) => {
    const province = simulation.province(request.params.code);
    const query = findCaseQuerySchema.safeParse(request.query);
    if (!query.success) throw new ProblemError(400, 'malformed-query', 'Malformed query', z.prettifyError(query.error));
    const target = { subject: { operation: 'case' as const, caseId: query.data.caseId }, flakyKey: caseFlakyKey(query.data.caseId) };
    return respond(simulation, province, target, reply, () => simulation.findCase(province, query.data.caseId));
  });

  scope.get<{ Params: CaseParams }>('/provinces/:code/cases/:provinceCaseId', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params);
    return respond(simulation, province, target, reply, () => ({
      status: 200,
      body: simulation.status(simulation.caseOf(province, request.params.provinceCaseId)),
    }));
  });

  // Work liaison (工作联络): the window's messages and their attachments (simulator/liaison.ts).
  scope.post<{ Params: CaseParams }>('/provinces/:code/cases/:provinceCaseId/messages', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params);
    return respond(simulation, province, target, reply, () => {
      const simCase = simulation.caseOf(province, request.params.provinceCaseId);
      const body = parseJsonBody(rawBody(request), liaisonMessageRequestSchema);
      return simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () => {
        const outcome = receiveLiaisonMessage(simCase, body);
        simulation.changed();
        return outcome;
      });
    });
  });

  scope.put<{ Params: CaseParams & { messageId: string; position: string } }>('/provinces/:code/cases/:provinceCaseId/messages/:messageId/files/:position', async (request, reply) => {
    const { province, target } = caseTarget(simulation, request.params);
    return respond(simulation, province, target, reply, () => {
      const simCase = simulation.caseOf(province, request.params.provinceCaseId);
      return simulation.idempotent(province, idempotencyKey(request), fingerprint(request), () => {
        const outcome = receiveLiaisonFile(simCase, request.params.messageId, Number(request.params.position), rawBody(request));
        simulation.changed();
        return outcome;
      });
    });
  });

  scope.post<{ Params: CodeParams }>('/provinces/:code/elicences/verify', async (request, reply) => {
    const province = simulation.province(request.params.code);
    const body = parseJsonBody(rawBody(request), licenceVerifyRequestSchema);
    const target = { subject: { operation: 'elicence-verify' as const, applicantName: body.holderName }, flakyKey: `elicence:${body.holderIdNumber}` };
    return respond(simulation, province, target, reply, (scenario) => simulation.verifyLicence(province, body, scenario));
  });
}

/** Liaison controls: what the authority received, and its messages and acknowledgements to the window. */
function registerLiaisonAdminRoutes(app: FastifyInstance, simulation: ProvinceSimulation): void {
  type Params = CodeParams & { caseId: string };
  app.get<{ Params: Params }>('/_admin/provinces/:code/cases/:caseId/liaison', async (request) => simulation.caseByTongbanId(request.params.code, request.params.caseId).liaison);
  app.post<{ Params: Params }>('/_admin/provinces/:code/cases/:caseId/liaison', async (request, reply) => {
    const write = parseJsonBody(rawBody(request), liaisonWriteSchema);
    const province = simulation.province(request.params.code);
    const simCase = simulation.caseByTongbanId(request.params.code, request.params.caseId);
    return reply.code(202).send(simulation.emitLiaison(province, simCase, 'liaison.message', liaisonMessageData(write)));
  });
  app.post<{ Params: Params & { messageId: string } }>('/_admin/provinces/:code/cases/:caseId/liaison/:messageId/ack', async (request, reply) => {
    const { by } = parseJsonBody(rawBody(request).length ? rawBody(request) : Buffer.from('{}'), z.object({ by: z.string().max(200).optional() }));
    const province = simulation.province(request.params.code);
    const simCase = simulation.caseByTongbanId(request.params.code, request.params.caseId);
    return reply.code(202).send(simulation.emitLiaison(province, simCase, 'liaison.acknowledged', { messageId: request.params.messageId, ...(by ? { by } : {}) }));
  });
}

/** `reset` forgets everything, the outside services' state included. */
function registerAdminRoutes(app: FastifyInstance, simulation: ProvinceSimulation, reset: () => void): void {
  app.put<{ Params: CodeParams }>('/_admin/provinces/:code/scenario', async (request) => {
    const { scenario } = parseJsonBody(rawBody(request), z.object({ scenario: scenarioSchema }));
    simulation.setScenario(request.params.code, scenario);
    return { code: request.params.code, scenario };
  });

  app.post('/_admin/rules', async (request, reply) => {
    const rule = parseJsonBody(rawBody(request), scenarioRuleSchema);
    simulation.addRule(rule);
    return reply.code(201).send(rule);
  });

  app.get<{ Params: CodeParams }>('/_admin/provinces/:code/requests', async (request) => simulation.province(request.params.code).state.requests);

  app.delete('/_admin/state', async (_request, reply) => {
    reset();
    return reply.code(204).send();
  });
}

/**
 * Applies the scenario around a route's work: 'down' and 'flaky' answer 503 instead, 'slow'
 * delays whatever the response is (after the work is done, like a gateway that is slow to answer).
 */
async function respond(simulation: ProvinceSimulation, province: Province, target: Target, reply: FastifyReply, run: (scenario: Scenario) => Outcome): Promise<unknown> {
  const scenario = simulation.scenarioFor(province, target.subject);
  try {
    simulation.admit(province, scenario, target.flakyKey);
    const outcome = run(scenario);
    reply.code(outcome.status);
    if (outcome.replayed) reply.header('idempotent-replayed', 'true');
    return outcome.body;
  } finally {
    if (scenario === 'slow') await simulation.slowDown();
  }
}

/** A request about a case the province does not know still gets its scenario (by province default). */
function caseTarget(simulation: ProvinceSimulation, params: CaseParams, operation: Operation = 'case'): { province: Province; target: Target } {
  const province = simulation.province(params.code);
  const simCase = province.state.cases.get(params.provinceCaseId);
  const target = simCase
    ? { subject: { ...subjectOfCase(simCase.request), operation }, flakyKey: caseFlakyKey(simCase.request.caseId) }
    : { subject: { operation }, flakyKey: `unknown-case:${params.provinceCaseId}` };
  return { province, target };
}

/** The `revision` of a supplement upload, undefined for an original; 400 when it is not 1–99. */
function supplementRevision(query: Record<string, unknown>): number | undefined {
  if (query.revision === undefined) return undefined;
  const parsed = supplementQuerySchema.safeParse(query);
  if (!parsed.success) throw new ProblemError(400, 'malformed-query', 'Malformed query', z.prettifyError(parsed.error));
  return parsed.data.revision;
}

function caseFlakyKey(caseId: string): string {
  return `case:${caseId}`;
}

function authenticate(simulation: ProvinceSimulation, request: FastifyRequest): void {
  const province = simulation.province(provinceCodeOf(request) ?? '');
  const problem = verifyRequest(province.secret, {
    method: request.method,
    path: request.url,
    body: rawBody(request),
    timestamp: header(request, TIMESTAMP_HEADER),
    signature: header(request, SIGNATURE_HEADER),
  });
  if (problem) throw new ProblemError(401, 'invalid-signature', 'Invalid signature', SIGNATURE_DETAILS[problem]);
}

function recordRequest(provinces: ReadonlyMap<string, Province>, request: FastifyRequest, reply: FastifyReply): void {
  const province = provinces.get(provinceCodeOf(request) ?? '');
  if (!province) return;
  // `replayed`: answered from the idempotency store, nothing done again (the fault tests count
  // the requests that did something, per key).
  const recorded: RecordedRequest & { replayed: boolean } = {
    method: request.method,
    path: request.url,
    idempotencyKey: header(request, 'idempotency-key') ?? null,
    ...(header(request, 'traceparent') ? { traceparent: header(request, 'traceparent') } : {}),
    status: reply.statusCode,
    at: new Date(Date.now() - reply.elapsedTime).toISOString(),
    replayed: reply.getHeader('idempotent-replayed') === 'true',
  };
  province.state.requests.push(recorded);
}

function sendProblem(error: FastifyError | ProblemError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = error instanceof ProblemError ? error : problemFromFastify(error);
  if (!(error instanceof ProblemError) && problem.status >= 500) request.log.error(error);
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem.toJSON());
}

function problemFromFastify(error: FastifyError): ProblemError {
  const status = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 600 ? error.statusCode : 500;
  return status === 500 ? new ProblemError(500, 'internal', 'Internal error', 'the simulator failed') : new ProblemError(status, 'bad-request', 'Bad request', error.message);
}

function idempotencyKey(request: FastifyRequest): string {
  const key = header(request, 'idempotency-key');
  if (!key) throw new ProblemError(400, 'missing-idempotency-key', 'Missing Idempotency-Key', 'state-changing requests must carry an Idempotency-Key header');
  return key;
}

/** Same key with a different request (method, path or body bytes) is a conflict. */
function fingerprint(request: FastifyRequest): string {
  return sha256Hex(`${request.method} ${request.url} ${sha256Hex(rawBody(request))}`);
}

function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}

function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function provinceCodeOf(request: FastifyRequest): string | undefined {
  return (request.params as Partial<CodeParams> | undefined)?.code;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
