// The authorisation matrix (issue 10, "Hostile input"): every route the api registers × every
// kind of caller (each staff role in each region around a case, no token, an expired, a forged and
// an unsigned token, a console session without its CSRF token), fired at a real stack (Temporal
// dev server, PostgreSQL, simulator over HTTP), and each answer compared with what
// docs/security.md and docs/staff-actions.md say it must be.
//
// The expectations are a declarative table written here from those documents, not imported from
// domain/policy.ts, so a policy bug shows as a cell that differs. Which side of the case each
// caller's region is on is also written out (not computed with regionCovers). Routes are collected
// with the api's onRoute seam, so a route added later without a row here fails the test by name.
//
// Mutating routes are fired twice: with an empty body (who may not act must get 401/403/404 before
// the body is even looked at; a 400 there is a finding) and with a minimal valid-looking body (the
// checks made once the body is known). Lists, the search, the stuck list and its live stream, the
// pending approvals and the SLA report are then read by every caller: a case out of the caller's
// scope never appears.
import { randomUUID } from 'node:crypto';
import type { RouteOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app.js';
import { issueToken, SESSION_COOKIE, TOKEN_AUDIENCE, TOKEN_ISSUER } from '../../api/auth.js';
import { createStaffSessions } from '../../api/session.js';
import type { CaseState, StaffRole } from '../../domain/case.js';
import { samplePdf, submitCase, uploadFile, validIdNumber } from '../../harness/cases.js';
import { caseWorkflowId, getStateQuery } from '../../workflows/messages.js';
import { itemDefinition, uniqueItemCode } from '../support/items.js';
import { eventually, startTestStack, type TestStack } from '../support/testStack.js';

// ---- who: the callers --------------------------------------------------------------------------

/** Every StaffRole of domain/case.ts, written out: a role added there and not here fails below. */
const ROLES = ['clerk', 'approver', 'supervisor', 'manager', 'item_admin'] as const satisfies readonly StaffRole[];

/** The matrix case: received in Guangzhou (440100), handled by Sichuan (510000). */
const RECEIVING = '440100';
const HANDLING = '510000';

type CallerSide = 'receiving' | 'handling' | 'neither';
/** Each caller region and the side of the matrix case it is on, as docs/security.md defines a side (the token's region covers the case's region). */
const REGIONS: Record<string, { side: CallerSide; what: string }> = {
  '440100': { side: 'receiving', what: 'the receiving city' },
  '440000': { side: 'receiving', what: 'the receiving province (parent)' },
  '510000': { side: 'handling', what: 'the handling province' },
  '510100': { side: 'neither', what: 'a city of the handling province (does not cover the province-level handling region)' },
  '440300': { side: 'neither', what: 'a sibling city in the receiving province' },
  '330000': { side: 'neither', what: 'an unrelated province' },
};

/** The other-province case: received in Hangzhou (330100), handled by Hunan (430000); only 330000 of the regions above covers either side. */
const OTHER = { receiving: '330100', handling: '430000', visibleTo: ['330000'] };

type Caller =
  | { kind: 'staff'; name: string; role: StaffRole; region: string; headers: Record<string, string> }
  | { kind: 'anonymous' | 'expired' | 'forged' | 'unsigned' | 'malformed'; name: string; headers: Record<string, string> }
  /** A console session (supervisor of 440000) without the CSRF header: like the bearer supervisor on GET, 403 on anything else. */
  | { kind: 'cookie'; name: string; role: StaffRole; region: string; headers: Record<string, string> };

// ---- what: the expected answer per route ---------------------------------------------------------

type Side = 'receiving' | 'handling' | 'either';
type Rule =
  /** No login; a credential changes nothing: every caller gets what the anonymous caller gets. */
  | { kind: 'public' }
  /** Province callbacks: only a province's HMAC signature opens them; a staff credential is nothing there (401). */
  | { kind: 'province' }
  /** Sign-in routes: 503 on this stack, which has no identity platform (docs/security.md: without OIDC_ISSUER every /auth route answers 503). */
  | { kind: 'sign-in' }
  /** A staff route about no one case: the roles listed, else 403. `bearerOnly`: the cookie is not accepted (401). */
  | { kind: 'staff'; roles: readonly StaffRole[]; subResource?: boolean; bearerOnly?: boolean; body?: Body }
  /**
   * A route on the matrix case: the role gate first (403), then the side (neither: 404; the wrong
   * one: 403). `sideFromBody`: the side asked for depends on the body (a message's addressee, the
   * step recorded offline), so with an empty body either side may get its 400.
   */
  | { kind: 'case'; roles: readonly StaffRole[]; side: Side; subResource?: boolean; sideFromBody?: boolean; body?: Body }
  /** Intake: the side is the body's receivingRegion, so an empty body may be a 400 for a role that may take cases in. */
  | { kind: 'intake'; body: Body }
  /** The evaluation: the applicant with the query code and no login, or receiving-side staff (clerk, supervisor) with a token. */
  | { kind: 'applicant-or-staff'; body: Body };

type Body = () => { json?: unknown; form?: () => FormData; headers?: Record<string, string> };

const READERS = ['clerk', 'approver', 'supervisor'] as const;
const ALL_STAFF = ROLES;
const WINDOW = ['clerk', 'supervisor'] as const;
const reason = { reason: '授权矩阵测试' };

/** Set in beforeAll: ids the bodies refer to. */
const ctx = { evidenceFileId: '', intakeFiles: [] as { materialCode: string; fileId: string }[] };

/**
 * Every route, as docs/security.md (staff by role and side; the manager and item admin reading no
 * case, 403 before anything is looked up; the public routes; the codec) and docs/staff-actions.md
 * (each action's roles and side) state it. The body is a minimal valid-looking one.
 */
const RULES: Record<string, Rule> = {
  // The public: health, the OpenAPI page, the console's static pages, the applicant's and anyone's routes.
  'GET /': { kind: 'public' },
  'GET /docs': { kind: 'public' },
  'GET /docs/static/index.html': { kind: 'public' },
  'GET /docs/static/swagger-initializer.js': { kind: 'public' },
  'GET /docs/json': { kind: 'public' },
  'GET /docs/yaml': { kind: 'public' },
  'GET /docs/static/*': { kind: 'public' },
  'GET /healthz': { kind: 'public' },
  'GET /readyz': { kind: 'public' },
  'GET /console': { kind: 'public' },
  'GET /console/*': { kind: 'public' },
  'GET /console/config.json': { kind: 'public' },
  'GET /console/vendor/echarts.min.js': { kind: 'public' },
  'GET /v1/progress/:caseId': { kind: 'public' },
  'GET /v1/guide/:code': { kind: 'public' },
  'POST /v1/verify': { kind: 'public' },
  // The Web UI's CORS preflight carries no credential.
  'OPTIONS /v1/codec/*': { kind: 'public' },
  'POST /v1/province-callbacks/:regionCode': { kind: 'province' },
  'POST /v1/province-callbacks/:regionCode/liaison': { kind: 'province' },
  'GET /auth/login': { kind: 'sign-in' },
  'GET /auth/callback': { kind: 'sign-in' },
  'GET /auth/me': { kind: 'sign-in' },
  'POST /auth/logout': { kind: 'sign-in' },
  // /metrics: a supervisor's or manager's bearer token (docs/security.md, "Anyone else on the network").
  'GET /metrics': { kind: 'staff', roles: ['supervisor', 'manager'], bearerOnly: true },

  // Intake: clerk, supervisor of the receiving side (the body's receivingRegion).
  'POST /v1/cases': {
    kind: 'intake',
    body: () => ({
      json: {
        itemCode: 'pension-transfer',
        applicant: { name: '矩阵收件', idNumber: validIdNumber('44010619900101123'), phone: '13900139000' },
        receivingRegion: RECEIVING,
        handlingRegion: HANDLING,
        channel: 'window',
        materials: ctx.intakeFiles,
        delivery: { method: 'electronic' },
      },
      headers: { 'idempotency-key': randomUUID() },
    }),
  },
  // Reads of cases: clerk, approver, supervisor (a manager and an item admin read no case: 403).
  'GET /v1/cases': { kind: 'staff', roles: READERS },
  'GET /v1/cases/stuck/events': { kind: 'staff', roles: READERS },
  'GET /v1/approvals': { kind: 'staff', roles: READERS },
  // The follow-up queue carries the applicants' comments (docs/security.md: an audited read of personal data).
  'GET /v1/follow-ups': { kind: 'staff', roles: READERS },
  'GET /v1/cases/:caseId': { kind: 'case', roles: READERS, side: 'either' },
  'GET /v1/cases/:caseId/deadlines': { kind: 'case', roles: READERS, side: 'either' },
  'GET /v1/cases/:caseId/handoffs': { kind: 'case', roles: READERS, side: 'either' },
  'GET /v1/cases/:caseId/messages': { kind: 'case', roles: READERS, side: 'either' },
  // No evaluation yet: 404 for those who may read it.
  'GET /v1/cases/:caseId/evaluation': { kind: 'case', roles: READERS, side: 'either', subResource: true },
  'GET /v1/cases/:caseId/approvals': { kind: 'case', roles: READERS, side: 'either' },
  'GET /v1/cases/:caseId/notes': { kind: 'case', roles: READERS, side: 'either' },
  'GET /v1/cases/:caseId/access-log': { kind: 'case', roles: ['supervisor'], side: 'either' },

  // Commands (docs/security.md's table, docs/staff-actions.md's table).
  'POST /v1/cases/:caseId/withdraw': { kind: 'case', roles: WINDOW, side: 'receiving', body: () => ({ json: reason }) },
  'POST /v1/cases/:caseId/actions/withdraw': { kind: 'case', roles: WINDOW, side: 'receiving', body: () => ({ json: reason }) },
  'POST /v1/cases/:caseId/delivery-confirmation': { kind: 'case', roles: WINDOW, side: 'receiving', body: () => ({ json: { method: 'window' } }) },
  'POST /v1/cases/:caseId/supplements': {
    kind: 'case',
    roles: WINDOW,
    side: 'receiving',
    body: () => ({ json: { noticeId: 'notice-matrix', items: [{ materialCode: 'resident-id-card', fileId: ctx.evidenceFileId }] } }),
  },
  'POST /v1/cases/:caseId/retry': { kind: 'case', roles: READERS, side: 'either', body: () => ({ json: reason }) },
  'POST /v1/cases/:caseId/actions/retry': { kind: 'case', roles: READERS, side: 'either', body: () => ({ json: reason }) },
  'POST /v1/cases/:caseId/originals': {
    kind: 'case',
    roles: WINDOW,
    side: 'receiving',
    body: () => ({ json: { trackingNumber: 'SF-MATRIX-0001', materialCodes: ['transfer-application'] } }),
  },
  'POST /v1/cases/:caseId/originals/:trackingNumber/received': { kind: 'case', roles: ['approver', 'supervisor'], side: 'handling', subResource: true, body: () => ({ json: {} }) },
  'POST /v1/cases/:caseId/extensions': { kind: 'case', roles: ['approver'], side: 'handling', body: () => ({ json: { days: 5, reason: '授权矩阵测试' } }) },
  'POST /v1/cases/:caseId/actions/extend': { kind: 'case', roles: ['approver'], side: 'handling', body: () => ({ json: { days: 5, reason: '授权矩阵测试' } }) },
  'POST /v1/cases/:caseId/extensions/:extensionId/decision': {
    kind: 'case',
    roles: ['supervisor'],
    side: 'handling',
    subResource: true,
    body: () => ({ json: { approve: false, reason: '授权矩阵测试' } }),
  },
  // Written to the handling side: the writer must be on the receiving side (the side opposite `to`).
  'POST /v1/cases/:caseId/messages': { kind: 'case', roles: READERS, side: 'receiving', sideFromBody: true, body: () => ({ json: { to: 'handling', body: '授权矩阵测试' } }) },
  // Acknowledging a message written to one's own side: either side, the message unknown here.
  'POST /v1/cases/:caseId/messages/:messageId/ack': { kind: 'case', roles: READERS, side: 'either', subResource: true, body: () => ({ json: {} }) },
  'POST /v1/cases/:caseId/consultations': {
    kind: 'case',
    roles: READERS,
    side: 'either',
    body: () => ({ json: { topic: '授权矩阵测试', participants: [{ side: 'receiving' }, { side: 'handling' }], proposedTimes: [new Date(Date.now() + 3_600_000).toISOString()] } }),
  },
  'POST /v1/cases/:caseId/consultations/:id/outcome': {
    kind: 'case',
    roles: READERS,
    side: 'either',
    subResource: true,
    body: () => ({ json: { held: true, minutes: '授权矩阵测试', agreed: 'continue' } }),
  },
  'POST /v1/cases/:caseId/evaluation': {
    kind: 'applicant-or-staff',
    body: () => ({ json: { level: '满意', channel: 'window' } }),
  },
  // Closing a 差评's follow-up: a supervisor of the side it concerns (none exists on the matrix case).
  'POST /v1/cases/:caseId/evaluation/follow-up': {
    kind: 'case',
    roles: ['supervisor'],
    side: 'either',
    subResource: true,
    body: () => ({ json: { revisit: '授权矩阵测试', rectification: '授权矩阵测试', outcome: 'resolved' } }),
  },
  'POST /v1/cases/:caseId/actions/note': { kind: 'case', roles: READERS, side: 'either', body: () => ({ json: { reason: '授权矩阵测试' } }) },
  'POST /v1/cases/:caseId/actions/reassign': { kind: 'case', roles: READERS, side: 'either', body: () => ({ json: { assignee: 'colleague-matrix', reason: '授权矩阵测试' } }) },
  // record-offline of createProvinceCase: a step of the receiving side (docs/staff-actions.md).
  'POST /v1/cases/:caseId/actions/record-offline': {
    kind: 'case',
    roles: READERS,
    side: 'receiving',
    sideFromBody: true,
    body: () => ({ json: { step: 'createProvinceCase', evidenceFileId: ctx.evidenceFileId, provinceCaseId: 'SC-MATRIX-1', reason: '授权矩阵测试' } }),
  },
  'POST /v1/cases/:caseId/actions/record-offline/preview': {
    kind: 'case',
    roles: READERS,
    side: 'receiving',
    sideFromBody: true,
    body: () => ({ json: { step: 'createProvinceCase', evidenceFileId: ctx.evidenceFileId, provinceCaseId: 'SC-MATRIX-1', reason: '授权矩阵测试' } }),
  },
  'POST /v1/cases/:caseId/actions/reroute': { kind: 'case', roles: WINDOW, side: 'receiving', body: () => ({ json: { handlingRegion: '430000', reason: '授权矩阵测试' } }) },
  'POST /v1/cases/:caseId/actions/reroute/preview': { kind: 'case', roles: WINDOW, side: 'receiving', body: () => ({ json: { handlingRegion: '430000', reason: '授权矩阵测试' } }) },
  // Deciding a four-eyes request: a supervisor of the request's side (unknown request here: a refusal, so nothing moves).
  'POST /v1/cases/:caseId/approvals/:approvalId': { kind: 'case', roles: ['supervisor'], side: 'either', subResource: true, body: () => ({ json: { approve: false, reason: '授权矩阵测试' } }) },
  // Bulk retry: the retry's roles; each case then authorised on its own.
  'POST /v1/bulk/retry': { kind: 'staff', roles: READERS, body: () => ({ json: { caseIds: [randomUUID()], reason: '授权矩阵测试' } }) },
  'GET /v1/bulk/:bulkId': { kind: 'staff', roles: READERS, subResource: true },

  // Files: staff who handle cases upload.
  'POST /v1/files': { kind: 'staff', roles: READERS, body: () => ({ form: () => pdfForm() }) },
  // The item catalog: every staff role reads, item admins write (version 999 does not exist: nothing is published or retired).
  'GET /v1/items': { kind: 'staff', roles: ALL_STAFF },
  'GET /v1/items/:code': { kind: 'staff', roles: ALL_STAFF },
  'GET /v1/items/:code/versions': { kind: 'staff', roles: ALL_STAFF },
  'GET /v1/items/:code/versions/:version': { kind: 'staff', roles: ALL_STAFF, subResource: true },
  'GET /v1/items/:code/diff': { kind: 'staff', roles: ALL_STAFF },
  'POST /v1/items': { kind: 'staff', roles: ['item_admin'], body: () => ({ json: { code: `matrix-${randomUUID().slice(0, 8)}` } }) },
  'POST /v1/items/:code/versions/:version/publish': { kind: 'staff', roles: ['item_admin'], subResource: true, body: () => ({ json: reason }) },
  'POST /v1/items/:code/versions/:version/retire': { kind: 'staff', roles: ['item_admin'], subResource: true, body: () => ({ json: reason }) },
  // Any staff member counts working days.
  'GET /v1/calendar/add-working-days': { kind: 'staff', roles: ALL_STAFF },
  // Figures, no citizen: supervisors and managers.
  'GET /v1/reports/sla': { kind: 'staff', roles: ['supervisor', 'manager'] },
  'GET /v1/evaluations/report': { kind: 'staff', roles: ['supervisor', 'manager'] },
  // The codec: supervisors and approvers; what they may open is decided per workflow (test/api/codec.test.ts).
  'POST /v1/codec/decode': { kind: 'staff', roles: ['supervisor', 'approver'], body: () => ({ json: { payloads: [] } }) },
  'POST /v1/codec/encode': { kind: 'staff', roles: ['supervisor', 'approver'], body: () => ({ json: { payloads: [] } }) },
};

/** Values for path parameters: the matrix case, and sub-resources that do not exist (so nothing a cell does sticks). */
function fillPath(url: string, caseId: string): string {
  const today = new Date().toISOString().slice(0, 10);
  const filled = url
    .replace(':caseId', caseId)
    .replace(':approvalId', randomUUID())
    .replace(':messageId', randomUUID())
    .replace(':bulkId', randomUUID())
    .replace(':extensionId', 'ext-matrix')
    .replace(':trackingNumber', 'SF-MATRIX-0001')
    .replace(':regionCode', HANDLING)
    .replace(':code', 'pension-transfer')
    .replace(':version', '999')
    .replace(/:id\b/, 'consultation-matrix')
    .replace(/\*$/, 'matrix.txt');
  // Queries the routes need to be answerable at all (the matrix is about who, not what).
  const query: Record<string, string> = {
    '/v1/calendar/add-working-days': `from=${today}&days=1`,
    '/v1/reports/sla': `from=${today}&to=${nextDay(today)}`,
    '/v1/evaluations/report': `from=${today}&to=${nextDay(today)}`,
    '/v1/items/pension-transfer/diff': 'from=1&to=1',
    [`/v1/progress/${caseId}`]: 'code=0000000000',
  };
  return query[filled] ? `${filled}?${query[filled]}` : filled;
}

function nextDay(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
}

function pdfForm(): FormData {
  const form = new FormData();
  form.append('file', new Blob([samplePdf(`matrix-${randomUUID()}`)], { type: 'application/pdf' }), 'matrix.pdf');
  return form;
}

// ---- the expected answer of one cell --------------------------------------------------------------

/** What an allowed caller may get: done, refused by the case's state, or a body problem (the matrix's bodies are minimal). */
const ALLOWED = [200, 201, 202, 204, 400, 409, 415, 422];

interface Expected {
  statuses: readonly number[];
  /** The caller may act: a 400 is fine. Otherwise anything but 401/403/404 is a finding. */
  allowed: boolean;
}

function expected(rule: Rule, caller: Caller, method: string, emptyBody: boolean): Expected | 'as-anonymous' {
  const deny = (status: number): Expected => ({ statuses: [status], allowed: false });
  const allow = (sub = false): Expected => ({ statuses: sub ? [...ALLOWED, 404] : ALLOWED, allowed: true });
  if (rule.kind === 'public') return 'as-anonymous';
  if (rule.kind === 'province') return deny(401);
  if (rule.kind === 'sign-in') return deny(503);
  if (rule.kind === 'applicant-or-staff') {
    // Without a bearer token it is the applicant's route: the body (no query code: 400 or 401) decides.
    if (caller.kind === 'anonymous' || caller.kind === 'cookie') return { statuses: [400, 401, 404], allowed: true };
    if (caller.kind !== 'staff') return deny(401);
    return caseCell({ kind: 'case', roles: WINDOW, side: 'receiving' }, caller.role, caller.region, emptyBody);
  }
  if (caller.kind !== 'staff' && caller.kind !== 'cookie') return deny(401);
  if (caller.kind === 'cookie') {
    if (rule.kind === 'staff' && rule.bearerOnly) return deny(401);
    if (method !== 'GET') return deny(403);
  }
  const { role, region } = caller;
  if (rule.kind === 'staff') return rule.roles.includes(role) ? allow(rule.subResource) : deny(403);
  if (rule.kind === 'intake') {
    if (!WINDOW.includes(role as (typeof WINDOW)[number])) return deny(403);
    // The receiving region is in the body: only with a body can a region be refused.
    if (emptyBody) return { statuses: [400], allowed: true };
    return REGIONS[region]!.side === 'receiving' ? allow() : deny(403);
  }
  return caseCell(rule, role, region, emptyBody);

  function caseCell(r: Extract<Rule, { kind: 'case' }>, role: StaffRole, region: string, noBody: boolean): Expected {
    if (!r.roles.includes(role)) return deny(403);
    const on = REGIONS[region]!.side;
    if (on === 'neither') return deny(404);
    if (r.side !== 'either' && r.side !== on && !(r.sideFromBody && noBody)) return deny(403);
    return allow(r.subResource);
  }
}

// ---- firing -------------------------------------------------------------------------------------

interface Answer {
  status: number;
  body: string;
}

async function fire(baseUrl: string, method: string, path: string, caller: Caller, body: ReturnType<Body> | 'empty' | null): Promise<Answer> {
  const headers: Record<string, string> = { ...caller.headers };
  let payload: string | FormData | undefined;
  if (body === 'empty') {
    headers['content-type'] = 'application/json';
    payload = '{}';
  } else if (body?.form) {
    payload = body.form();
  } else if (body?.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body.json);
  } else if (method === 'POST') {
    headers['content-type'] = 'application/json';
    payload = '{}';
  }
  Object.assign(headers, body !== 'empty' ? body?.headers : {});
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 30_000);
  try {
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload, redirect: 'manual', signal: abort.signal });
    if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
      // The live stuck list never ends: its first event is the answer.
      return { status: res.status, body: await firstEvent(res) };
    }
    return { status: res.status, body: await res.text() };
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}

/** The data of the first `event: stuck` of a server-sent event stream. */
async function firstEvent(res: Response): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    const match = /event: (\w+)\ndata: (.*)\n\n/.exec(text);
    if (match) {
      await reader.cancel();
      return match[1] === 'stuck' ? match[2]! : `(${match[1]}) ${match[2]}`;
    }
  }
}

/** Findings grouped by route, body and answer, callers listed: one line per problem, not per cell. */
function groupFindings(lines: string[]): string[] {
  const groups = new Map<string, string[]>();
  for (const line of lines) {
    const m = /^(.*?): (?:expected (\S+); )?(\w+) (\S+) \[(\w+) body\] as (.+?): got (\d+)/.exec(line);
    const key = m ? `${m[1]}: ${m[3]} ${m[4]!.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, ':id')} [${m[5]} body] expected ${m[2] ?? '-'}, got ${m[7]}` : line;
    groups.set(key, [...(groups.get(key) ?? []), m ? m[6]! : '']);
  }
  return [...groups].map(([key, who]) => `  ${key} — ${who.length} caller(s): ${who.sort().join(', ')}`);
}

async function inParallel<T>(items: readonly T[], width: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await run(items[next++]!);
    }),
  );
}

// ---- the stack and the cases ---------------------------------------------------------------------

let stack: TestStack;
let routes: { method: string; url: string }[] = [];
let callers: Caller[] = [];
let matrixCase = '';
let otherCase = '';

const stateOf = (caseId: string) => stack.client.workflow.getHandle(caseWorkflowId(caseId)).query(getStateQuery);

/** A case whose handling province is down for it: it waits on createProvinceCase for a person (stays open, in the stuck list). */
async function stuckCase(name: string, itemCode: string, receiving: string, handling: string): Promise<string> {
  stack.simulator.addRule({ match: { province: handling, operation: 'case', applicantName: name }, scenario: 'down' });
  const clerk = await stack.token('clerk', receiving);
  const materialCodes = itemDefinition(itemCode).materials.filter((m) => m.required).map((m) => m.code);
  const { status, body } = await submitCase(stack.apiUrl, clerk, { itemCode, materialCodes, applicantName: name, receivingRegion: receiving, handlingRegion: handling });
  expect(status, JSON.stringify(body)).toBe(201);
  await eventually(() => stateOf(body.caseId), (s: CaseState) => s.needsIntervention?.step === 'createProvinceCase', 30_000, `${name} stuck`);
  return body.caseId;
}

/**
 * The two cases run items of their own, published here, so the SLA report grouped by item names
 * each case's group and no other: other test files write cases to the same database, and a group
 * by province pair or region would also hold theirs (a 440100→510100 case is rightly in a 510100
 * supervisor's 440000-510000 pair).
 */
const MATRIX_ITEM = uniqueItemCode('matrix-item');
const OTHER_ITEM = uniqueItemCode('matrix-other-item');

async function publishItem(code: string): Promise<void> {
  const admin = { authorization: `Bearer ${await stack.token('item_admin', '110000')}`, 'content-type': 'application/json' };
  const draft = await fetch(`${stack.apiUrl}/v1/items`, { method: 'POST', headers: admin, body: JSON.stringify(itemDefinition(code)) });
  expect(draft.status, await draft.clone().text()).toBe(201);
  const published = await fetch(`${stack.apiUrl}/v1/items/${code}/versions/1/publish`, { method: 'POST', headers: admin, body: JSON.stringify({ reason: '授权矩阵测试的事项' }) });
  expect(published.status, await published.clone().text()).toBe(200);
}

async function bearer(claims: { role: StaffRole; region: string }, secret: string, ttl = 600): Promise<string> {
  return issueToken(secret, { sub: `matrix-${claims.role}-${claims.region}`, ...claims }, ttl);
}

beforeAll(async () => {
  // The public routes are rate-limited per address; every request here comes from one.
  stack = await startTestStack({ env: { PUBLIC_RATE_LIMIT_PER_MINUTE: '1000000' } });
  // Routes as the api registers them (the stack's api is the same buildApp with the same config).
  const seen: { method: string; url: string }[] = [];
  const probe = await buildApp({
    config: stack.config,
    secrets: stack.secrets,
    pool: stack.pool,
    temporal: stack.client,
    logger: false,
    onRoute: (r: RouteOptions) => {
      for (const method of [r.method].flat()) if (method !== 'HEAD') seen.push({ method, url: r.url });
    },
  });
  await probe.ready();
  await probe.close();
  routes = [...new Map(seen.map((r) => [`${r.method} ${r.url}`, r])).values()];

  await Promise.all([publishItem(MATRIX_ITEM), publishItem(OTHER_ITEM)]);
  [matrixCase, otherCase] = await Promise.all([
    stuckCase('矩阵甲', MATRIX_ITEM, RECEIVING, HANDLING),
    stuckCase('矩阵乙', OTHER_ITEM, OTHER.receiving, OTHER.handling),
  ]);
  const clerkGz = await stack.token('clerk', RECEIVING);
  ctx.evidenceFileId = (await uploadFile(stack.apiUrl, clerkGz, samplePdf('matrix-evidence'))).body.fileId;
  for (const materialCode of ['transfer-application', 'resident-id-card', 'contribution-certificate']) {
    ctx.intakeFiles.push({ materialCode, fileId: (await uploadFile(stack.apiUrl, clerkGz, samplePdf(`matrix-${materialCode}`))).body.fileId });
  }
  // A pending four-eyes request on each case, for the pending-approvals list.
  for (const [caseId, region] of [
    [matrixCase, RECEIVING],
    [otherCase, OTHER.receiving],
  ] as const) {
    const res = await fetch(`${stack.apiUrl}/v1/cases/${caseId}/actions/reroute`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await stack.token('clerk', region)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ handlingRegion: '440000', reason: '授权矩阵测试的改派申请' }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
  }

  const secret = stack.secrets.jwtSecret;
  callers = [
    { kind: 'anonymous', name: 'no credential', headers: {} },
    // Signed right, but expired an hour ago.
    { kind: 'expired', name: 'expired token', headers: { authorization: `Bearer ${await bearer({ role: 'supervisor', region: RECEIVING }, secret, -3600)}` } },
    { kind: 'forged', name: 'token signed with another key', headers: { authorization: `Bearer ${await bearer({ role: 'supervisor', region: RECEIVING }, `${secret}-forged`)}` } },
    { kind: 'unsigned', name: 'alg=none token', headers: { authorization: `Bearer ${unsignedToken()}` } },
    { kind: 'malformed', name: 'malformed Authorization', headers: { authorization: 'Basic c3VwZXJ2aXNvcjp4' } },
  ];
  for (const role of ROLES) {
    for (const region of Object.keys(REGIONS)) {
      callers.push({ kind: 'staff', name: `${role}@${region}`, role, region, headers: { authorization: `Bearer ${await bearer({ role, region }, secret)}` } });
    }
  }
  const sessions = createStaffSessions(stack.pool, stack.config);
  const session = await sessions.create({ sub: 'matrix-cookie-supervisor', role: 'supervisor', region: '440000' }, { issuer: 'matrix', idToken: null });
  callers.push({ kind: 'cookie', name: 'session supervisor@440000 without CSRF token', role: 'supervisor', region: '440000', headers: { cookie: `${SESSION_COOKIE}=${session.cookieValue}` } });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
});

/** A token with `alg: none`: signed by no one. */
function unsignedToken(): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'x', role: 'supervisor', region: RECEIVING, iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, exp: now + 600 })}.`;
}

// ---- the tests ----------------------------------------------------------------------------------

describe('the authorisation matrix', () => {
  it('has an expectation for every route the api registers, and none for a route that is gone', () => {
    const keys = new Set(routes.map((r) => `${r.method} ${r.url}`));
    expect(routes.length).toBeGreaterThan(50);
    expect([...keys].filter((k) => !(k in RULES)), 'routes without a row in RULES').toEqual([]);
    expect(
      Object.keys(RULES).filter((k) => !keys.has(k)),
      'rows of RULES for routes the api does not have',
    ).toEqual([]);
  });

  // Before the matrix: its commands (a withdrawal, retries) move the matrix case on.
  it('never shows a case from outside the caller’s scope in a list, the search, the stuck list, its live stream, the pending approvals or the SLA report', async () => {
    const readers = callers.filter((c): c is Extract<Caller, { kind: 'staff' }> => c.kind === 'staff' && (READERS as readonly string[]).includes(c.role));
    const problems: string[] = [];
    const today = new Date().toISOString().slice(0, 10);
    await inParallel(readers, 4, async (caller) => {
      const seesMatrix = REGIONS[caller.region]!.side !== 'neither';
      const seesOther = OTHER.visibleTo.includes(caller.region);
      const get = async (path: string) => {
        const answer = await fire(stack.apiUrl, 'GET', path, caller, null);
        if (answer.status !== 200) problems.push(`${caller.name} GET ${path}: ${answer.status} ${answer.body.slice(0, 200)}`);
        return answer.body;
      };
      const views: Record<string, string> = {
        list: await get('/v1/cases?limit=100'),
        search: await get(`/v1/cases?idNumber=${validIdNumber()}&limit=100`),
        'stuck list': await get('/v1/cases?stuck=true&limit=100'),
        'stuck stream': await get('/v1/cases/stuck/events'),
      };
      for (const [view, body] of Object.entries(views)) {
        if (body.includes(matrixCase) !== seesMatrix) problems.push(`${view} of ${caller.name} ${seesMatrix ? 'lacks' : 'LEAKS'} the 440100→510000 case`);
        if (body.includes(otherCase) !== seesOther) problems.push(`${view} of ${caller.name} ${seesOther ? 'lacks' : 'LEAKS'} the 330100→430000 case`);
      }
      // Pending approvals: the supervisors of the request's (receiving) side decide.
      const pending = await get('/v1/approvals');
      const decidesMatrix = caller.role === 'supervisor' && REGIONS[caller.region]!.side === 'receiving';
      if (pending.includes(matrixCase) && !decidesMatrix) problems.push(`pending approvals of ${caller.name} LEAK the 440100→510000 case's request`);
      if (pending.includes(otherCase) && !(caller.role === 'supervisor' && seesOther)) problems.push(`pending approvals of ${caller.name} LEAK the 330100→430000 case's request`);
      if (caller.role === 'supervisor') {
        const report = JSON.parse(await get(`/v1/reports/sla?from=${today}&to=${nextDay(today)}&groupBy=item`)) as { groups: { key: string }[] };
        const keys = report.groups.map((g) => g.key);
        // Each case is the only one of its item (MATRIX_ITEM, OTHER_ITEM), so its group appears exactly when the caller sees the case.
        for (const [what, item, sees] of [
          ['440100→510000 case', MATRIX_ITEM, seesMatrix],
          ['330100→430000 case', OTHER_ITEM, seesOther],
        ] as const) {
          if (keys.includes(item) !== sees) problems.push(`SLA report of ${caller.name} ${sees ? 'lacks' : 'LEAKS'} the ${what}'s item group ${item}: ${keys.join(', ')}`);
        }
      }
    });
    console.log(`scoped reads: ${readers.length} callers × list, search, stuck list, stuck stream, pending approvals, SLA report; problems ${problems.length}`);
    expect(problems).toEqual([]);
  }, 300_000);

  it('answers every route × caller as docs/security.md and docs/staff-actions.md say: 401 without an identity, 403 for a role or side that may not, 404 for a caller on neither side', async () => {
    const cells: { method: string; url: string; caller: Caller; body: 'empty' | 'valid' }[] = [];
    for (const r of routes) {
      if (!(`${r.method} ${r.url}` in RULES)) continue;
      for (const caller of callers) {
        cells.push({ ...r, caller, body: 'valid' });
        if (r.method !== 'GET' && r.method !== 'OPTIONS') cells.push({ ...r, caller, body: 'empty' });
      }
    }
    // The anonymous answer of each public cell, which every other caller must match.
    const anonymous = new Map<string, Answer>();
    const findings: string[] = [];
    const leaks: string[] = [];
    let checked = 0;
    const fireCell = async (cell: (typeof cells)[number], caseId = matrixCase) => {
      const rule = RULES[`${cell.method} ${cell.url}`]!;
      const body = cell.body === 'empty' ? 'empty' : 'body' in rule && rule.body ? rule.body() : null;
      const path = fillPath(cell.url, caseId);
      return { path, answer: await fire(stack.apiUrl, cell.method, path, cell.caller, body) };
    };
    // Public cells: the anonymous answer first.
    for (const r of routes.filter((x) => RULES[`${x.method} ${x.url}`]?.kind === 'public')) {
      const { answer } = await fireCell({ ...r, caller: callers[0]!, body: 'valid' });
      anonymous.set(`${r.method} ${r.url}`, answer);
    }
    // Reads first, then the commands (a withdrawal moves the case on; the cells after it may be 409s).
    cells.sort((a, b) => Number(a.method !== 'GET') - Number(b.method !== 'GET'));
    await inParallel(cells, 6, async (cell) => {
      const key = `${cell.method} ${cell.url}`;
      const rule = RULES[key]!;
      const { path, answer } = await fireCell(cell);
      checked += 1;
      const where = `${cell.method} ${path} [${cell.body} body] as ${cell.caller.name}: got ${answer.status} ${answer.body.slice(0, 240)}`;
      if (answer.status >= 500 && !(rule.kind === 'sign-in' && answer.status === 503)) findings.push(`5xx: ${where}`);
      const want = expected(rule, cell.caller, cell.method, cell.body === 'empty');
      if (want === 'as-anonymous') {
        const base = anonymous.get(key)!;
        if (answer.status !== base.status) findings.push(`public route answers a credential differently (anonymous: ${base.status}): ${where}`);
        return;
      }
      if (!want.statuses.includes(answer.status)) {
        const kind = !want.allowed && answer.status < 300 ? 'LEAK' : !want.allowed && answer.status === 400 ? 'body looked at before the caller was refused' : 'unexpected';
        const line = `${kind}: expected ${want.statuses.join('/')}; ${where}`;
        if (kind === 'LEAK') leaks.push(line);
        else findings.push(line);
      }
      // A caller on neither side learns nothing: the same answer as for a case that does not exist.
      if (!want.allowed && want.statuses[0] === 404 && cell.url.includes(':caseId')) {
        if (answer.body.includes(RECEIVING) || answer.body.includes(HANDLING) || answer.body.includes('矩阵')) leaks.push(`404 names the case's regions or applicant: ${where}`);
        const unknown = await fireCell(cell, randomUUID());
        checked += 1;
        if (unknown.answer.status !== answer.status) findings.push(`a hidden case answers ${answer.status}, an unknown one ${unknown.answer.status}: ${where}`);
      }
    });
    console.log(
      `authorisation matrix: ${routes.length} routes × ${callers.length} callers (${ROLES.length} roles × ${Object.keys(REGIONS).length} regions, ${callers.length - ROLES.length * Object.keys(REGIONS).length} without a valid identity or CSRF token); ${checked} requests checked; leaks ${leaks.length}; other findings ${findings.length}`,
    );
    for (const line of groupFindings([...leaks, ...findings])) console.log(line);
    expect(leaks, 'leaks').toEqual([]);
    expect(findings, 'findings').toEqual([]);
  }, 600_000);
});
