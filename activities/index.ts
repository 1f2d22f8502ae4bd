// Everything a case workflow does to the world. Built by createActivities(deps) in the worker;
// workflows import only the type. Idempotency keys arrive from the workflow, derived from the
// case and the step, so every retry of a call carries the same key.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Pool } from 'pg';
import type { ProvinceEndpoint } from '../config/index.js';
import type { CaseEvent, CaseInput, CaseState, ProvinceEvent } from '../domain/case.js';
import { applyCaseEvent, insertCase, type PiiKeys } from '../db/cases.js';
import type { MaterialsStore } from '../materials/store.js';
import { MaterialNotFoundError } from '../materials/store.js';
import { createProvinceGateway, type ProvinceGateway } from './province.js';

/** What the projection activities need: they run on the case queue, next to the database. */
export interface ProjectionDeps {
  pool: Pool;
  pii: PiiKeys;
}

/** What the province activities need: they may run in a province's own network, without our database. */
export interface ProvinceDeps {
  store: MaterialsStore;
  provinces: readonly ProvinceEndpoint[];
  /** Per-attempt timeout of a province HTTP call. */
  callTimeoutMs: number;
  gateway?: ProvinceGateway;
}

export type ActivityDeps = ProjectionDeps & ProvinceDeps;

export interface ProvinceCall {
  caseId: string;
  provinceCode: string;
  idempotencyKey: string;
}

export interface ELicenceCheck {
  materialCode: string;
  licenceType: string;
  valid: boolean;
  licenceNumber?: string;
  issuer?: string;
  reason?: string;
}

export interface ProvinceCaseStatus {
  provinceCaseId: string;
  status: string;
  events: Omit<ProvinceEvent, 'via'>[];
}

export function createProjectionActivities(deps: ProjectionDeps) {
  return {
    /** Projection: the case row (created from the input on the first event) and one event row. */
    async recordCaseEvent(args: { event: CaseEvent; state: CaseState; input?: CaseInput }): Promise<void> {
      const client = await deps.pool.connect();
      try {
        await client.query('BEGIN');
        if (args.input) await insertCase(client, args.input, deps.pii);
        await applyCaseEvent(client, args.event, args.state);
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
  };
}

export function createProvinceActivities(deps: ProvinceDeps) {
  const gateway = deps.gateway ?? createProvinceGateway(deps.provinces);
  const call = <T>(provinceCode: string, req: Omit<Parameters<ProvinceGateway['call']>[1], 'timeoutMs' | 'signal'>) =>
    gateway.call<T>(provinceCode, { ...req, timeoutMs: deps.callTimeoutMs, signal: Context.current().cancellationSignal });

  return {
    async verifyELicence(args: { provinceCode: string; materialCode: string; licenceType: string; holderName: string; holderIdNumber: string; sha256: string }): Promise<ELicenceCheck> {
      const res = await call<{ valid: boolean; licenceNumber?: string; issuer?: string; reason?: string }>(args.provinceCode, {
        method: 'POST',
        path: '/elicences/verify',
        json: { licenceType: args.licenceType, holderIdNumber: args.holderIdNumber, holderName: args.holderName, sha256: args.sha256 },
      });
      return { materialCode: args.materialCode, licenceType: args.licenceType, valid: res.valid, licenceNumber: res.licenceNumber, issuer: res.issuer, reason: res.reason };
    },

    async createProvinceCase(args: ProvinceCall & { input: CaseInput }): Promise<{ provinceCaseId: string }> {
      const { input } = args;
      return call(args.provinceCode, {
        method: 'POST',
        path: '/cases',
        idempotencyKey: args.idempotencyKey,
        json: {
          caseId: input.caseId,
          itemCode: input.item.code,
          itemVersion: input.item.version,
          receivingRegion: input.receivingRegion,
          handlingRegion: input.handlingRegion,
          channel: input.channel,
          applicant: input.applicant,
          materials: input.materials.map(({ materialCode, sha256, size, contentType }) => ({ materialCode, sha256, size, contentType })),
          delivery: input.delivery,
          callbackUrl: input.callbackUrl,
        },
      });
    },

    /** Reads the material from the content-addressed store and sends it; the hash is checked on both sides. */
    async uploadMaterial(args: ProvinceCall & { provinceCaseId: string; materialCode: string; sha256: string; contentType: string }): Promise<{ sha256: string; size: number }> {
      let bytes: Buffer;
      try {
        bytes = await deps.store.read(args.sha256);
      } catch (e) {
        if (e instanceof MaterialNotFoundError) throw ApplicationFailure.nonRetryable(e.message, 'MaterialMissing');
        throw e;
      }
      return call(args.provinceCode, {
        method: 'PUT',
        path: `/cases/${encodeURIComponent(args.provinceCaseId)}/materials/${encodeURIComponent(args.materialCode)}`,
        idempotencyKey: args.idempotencyKey,
        bytes,
        contentType: args.contentType,
        headers: { 'x-content-sha256': args.sha256 },
      });
    },

    async submitProvinceCase(args: ProvinceCall & { provinceCaseId: string }): Promise<{ status: string }> {
      return call(args.provinceCode, { method: 'POST', path: `/cases/${encodeURIComponent(args.provinceCaseId)}/submit`, idempotencyKey: args.idempotencyKey, json: {} });
    },

    async getProvinceCaseStatus(args: { provinceCode: string; provinceCaseId: string }): Promise<ProvinceCaseStatus> {
      return call(args.provinceCode, { method: 'GET', path: `/cases/${encodeURIComponent(args.provinceCaseId)}` });
    },

    async withdrawProvinceCase(args: ProvinceCall & { provinceCaseId: string; reason: string }): Promise<{ status: string }> {
      return call(args.provinceCode, {
        method: 'POST',
        path: `/cases/${encodeURIComponent(args.provinceCaseId)}/withdraw`,
        idempotencyKey: args.idempotencyKey,
        json: { reason: args.reason },
      });
    },
  };
}

export function createActivities(deps: ActivityDeps) {
  return { ...createProjectionActivities(deps), ...createProvinceActivities(deps) };
}

/** The type workflows proxy; each worker registers only the part its queues need. */
export type Activities = ReturnType<typeof createActivities>;
export type ProjectionActivities = ReturnType<typeof createProjectionActivities>;
export type ProvinceActivities = ReturnType<typeof createProvinceActivities>;
