// The console's actions on a case, its four-eyes approvals, notes and bulk retries (api/staffActions.ts,
// api/bulkActions.ts). Each action has its own route and body, so a bad body is a 400 naming every
// bad field and the role gate comes from the one policy table (domain/policy.ts).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { allowedRoles } from '../../domain/policy.js';
import { FOUR_EYES_ACTIONS, STAFF_ACTIONS } from '../../domain/staffActions.js';
import { staffOf } from '../auth.js';
import { bulkProgress, startBulkRetry } from '../bulkActions.js';
import { problems } from '../problem.js';
import {
  actionPreviewSchema,
  approvalDecisionSchema,
  approvalListSchema,
  approvalParams,
  approvalSchema,
  bulkParams,
  bulkProgressSchema,
  bulkRetrySchema,
  bulkStartedSchema,
  caseApprovalListSchema,
  caseIdParams,
  caseNotesSchema,
  pendingApprovalsQuery,
  staffActionBodies,
  staffActionResultSchema,
} from '../schemas.js';
import { actionPolicy, caseApprovals, caseNotes, decideApproval, pendingApprovals, previewAction, runStaffAction, type ActionDeps } from '../staffActions.js';
import { secured } from './common.js';

export interface ActionRouteOptions {
  updateTimeoutMs: number;
}

const SUMMARIES: Record<(typeof STAFF_ACTIONS)[number], string> = {
  retry: 'Retry the step the case is stuck on',
  'record-offline': 'Ask to record the stuck step as done outside the system, with evidence (four eyes: 202 + approvalId)',
  reroute: 'Ask to send the case to another handling authority (改派; four eyes: 202 + approvalId; receiving side)',
  extend: 'Ask to extend the time limit (art. 42; approved by a supervisor of the handling side)',
  withdraw: 'Withdraw the case on the applicant’s request',
  reassign: 'Hand the case to a colleague of your side',
  note: 'Add a note to the case (the reason is the note)',
};

export const actionRoutes: FastifyPluginAsyncZod<ActionRouteOptions> = async (app, opts) => {
  const deps = (): ActionDeps => ({ pool: app.pool, temporal: app.temporal, updateTimeoutMs: opts.updateTimeoutMs, config: app.config, secrets: app.secrets, calendar: app.calendar });

  for (const action of STAFF_ACTIONS) {
    app.post(
      `/cases/:caseId/actions/${action}`,
      {
        config: { roles: allowedRoles(actionPolicy(action)), caseAction: actionPolicy(action) },
        schema: {
          ...secured,
          tags: ['actions'],
          summary: SUMMARIES[action],
          description: 'An action that does not fit the case’s state is refused with a 409 saying why. Every action is audited with its actor and reason.',
          params: caseIdParams,
          body: staffActionBodies[action],
          response: { 200: staffActionResultSchema, 202: approvalSchema, ...problems(400, 401, 403, 404, 409, 503) },
        },
      },
      async (request, reply) => {
        const answer = await runStaffAction(deps(), staffOf(request), request.params.caseId, action, request.body);
        if (answer.status === 202) reply.header('location', `/v1/cases/${answer.body.caseId}/approvals/${answer.body.approvalId}`);
        return reply.code(answer.status).send(answer.body);
      },
    );
  }

  for (const action of FOUR_EYES_ACTIONS) {
    app.post(
      `/cases/:caseId/actions/${action}/preview`,
      {
        config: { roles: allowedRoles(actionPolicy(action)), caseAction: actionPolicy(action) },
        schema: {
          ...secured,
          tags: ['actions'],
          summary: `What a ${action} would do to the deadlines and to the other office (changes nothing)`,
          params: caseIdParams,
          body: staffActionBodies[action],
          response: { 200: actionPreviewSchema, ...problems(400, 401, 403, 404, 409) },
        },
      },
      async (request) => previewAction(deps(), staffOf(request), request.params.caseId, action, request.body),
    );
  }

  app.get(
    '/cases/:caseId/approvals',
    {
      config: { roles: allowedRoles('case.read') },
      schema: { ...secured, tags: ['actions'], summary: 'The four-eyes requests of a case, newest first', params: caseIdParams, response: { 200: caseApprovalListSchema, ...problems(401, 403, 404) } },
    },
    async (request) => caseApprovals(deps(), staffOf(request), request.params.caseId),
  );

  app.post(
    '/cases/:caseId/approvals/:approvalId',
    {
      config: { roles: allowedRoles('case.approveOffline'), caseAction: 'case.approveOffline' },
      schema: {
        ...secured,
        tags: ['actions'],
        summary: 'Approve or refuse a four-eyes request (a supervisor of the deciding side, not the requester)',
        description:
          'The requester deciding their own request gets 403. An approval is carried out at once; 409 when the case no longer allows it (the request ends failed) or it is already decided; 503 when the case did not answer (the request stays pending).',
        params: approvalParams,
        body: approvalDecisionSchema,
        response: { 200: approvalSchema, ...problems(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request) => decideApproval(deps(), staffOf(request), request.params.caseId, request.params.approvalId, request.body),
  );

  app.get(
    '/approvals',
    {
      config: { roles: allowedRoles('case.read') },
      schema: {
        ...secured,
        tags: ['actions'],
        summary: 'The requests waiting for a decision by a supervisor of your region, oldest first (empty for other roles)',
        querystring: pendingApprovalsQuery,
        response: { 200: approvalListSchema, ...problems(400, 401, 403) },
      },
    },
    async (request) => pendingApprovals(deps(), staffOf(request), request.query.limit),
  );

  app.get(
    '/cases/:caseId/notes',
    {
      config: { roles: allowedRoles('case.read') },
      schema: { ...secured, tags: ['actions'], summary: 'Staff notes on the case and who is assigned it on each side', params: caseIdParams, response: { 200: caseNotesSchema, ...problems(401, 403, 404) } },
    },
    async (request) => caseNotes(deps(), staffOf(request), request.params.caseId),
  );

  app.post(
    '/bulk/retry',
    {
      config: { roles: allowedRoles('case.retry') },
      schema: {
        ...secured,
        tags: ['actions'],
        summary: 'Retry many stuck cases together (e.g. after a province was down); follow the progress at GET /v1/bulk/{bulkId}',
        body: bulkRetrySchema,
        response: { 202: bulkStartedSchema, ...problems(400, 401, 403) },
      },
    },
    async (request, reply) => {
      const started = await startBulkRetry(deps(), staffOf(request), request.body.caseIds, request.body.reason, request.log);
      return reply.code(202).header('location', `/v1/bulk/${started.bulkId}`).send(started);
    },
  );

  app.get(
    '/bulk/:bulkId',
    {
      config: { roles: allowedRoles('case.retry') },
      schema: { ...secured, tags: ['actions'], summary: 'The progress of a bulk retry (its requester only)', params: bulkParams, response: { 200: bulkProgressSchema, ...problems(401, 403, 404) } },
    },
    async (request) => bulkProgress(deps(), staffOf(request), request.params.bulkId, request.log),
  );
};
