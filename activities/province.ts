// The province activities: every call tongban makes to a handling province's system, through the
// signed gateway (activities/gateway.ts). They run on the per-province task queues and may run in
// a province's own network, so they need no database. Idempotency keys arrive from the workflow,
// derived from the case and the step, so every retry of a call carries the same key.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ProvinceEndpoint } from '../config/index.js';
import type { CaseInput, ProvinceEvent } from '../domain/case.js';
import type { MaterialsStore } from '../materials/store.js';
import { MaterialNotFoundError } from '../materials/store.js';
import { createProvinceGateway, type ProvinceGateway } from './gateway.js';

/** What the province activities need: they may run in a province's own network, without our database. */
export interface ProvinceDeps {
  store: MaterialsStore;
  provinces: readonly ProvinceEndpoint[];
  /** Per-attempt timeout of a province HTTP call. */
  callTimeoutMs: number;
  gateway?: ProvinceGateway;
}

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

export type ProvinceActivities = ReturnType<typeof createProvinceActivities>;
