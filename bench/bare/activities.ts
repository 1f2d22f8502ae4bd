// The bare twin's activities: the same province calls as tongban's (the gateway's signed HTTP
// and the protocol's schemas, activities/gateway.ts and contracts/province.ts), reading the
// materials from files as tongban reads its store; the local activities do nothing, standing in
// for the bookkeeping tongban does at those points.
import fs from 'node:fs';
import path from 'node:path';
import { createProvinceGateway } from '../../activities/gateway.js';
import type { ProvinceEndpoint } from '../../config/index.js';
import { createCaseResponseSchema, licenceVerifyResponseSchema, materialReceiptSchema, submitResponseSchema } from '../../contracts/province.js';
import type { BareCaseInput } from './workflows.js';

export function createBareLocalActivities() {
  return {
    async note(_step: string): Promise<void> {},
  };
}
export type BareLocalActivities = ReturnType<typeof createBareLocalActivities>;

export function createBareProvinceActivities(endpoints: ProvinceEndpoint[], materialsDir: string) {
  const gateway = createProvinceGateway(endpoints);
  const timeoutMs = 30_000;
  return {
    async verifyELicence(args: { provinceCode: string; holderName: string; holderIdNumber: string; sha256: string }) {
      const res = await gateway.call(
        args.provinceCode,
        { method: 'POST', path: '/elicences/verify', timeoutMs, json: { licenceType: 'resident-id-card', holderIdNumber: args.holderIdNumber, holderName: args.holderName, sha256: args.sha256 } },
        licenceVerifyResponseSchema,
      );
      return { valid: res.valid };
    },
    async createProvinceCase(args: BareCaseInput & { idempotencyKey: string }) {
      const res = await gateway.call(
        args.provinceCode,
        {
          method: 'POST',
          path: '/cases',
          timeoutMs,
          idempotencyKey: args.idempotencyKey,
          json: {
            caseId: args.caseId,
            itemCode: 'pension-transfer',
            itemVersion: 1,
            receivingRegion: '440100',
            handlingRegion: args.provinceCode,
            channel: 'window',
            applicant: args.applicant,
            materials: args.materials,
            delivery: { method: 'electronic' },
            callbackUrl: args.callbackUrl,
          },
        },
        createCaseResponseSchema,
      );
      return { provinceCaseId: res.provinceCaseId };
    },
    async uploadMaterial(args: { provinceCode: string; provinceCaseId: string; materialCode: string; sha256: string; contentType: string; idempotencyKey: string }) {
      const bytes = await fs.promises.readFile(path.join(materialsDir, args.sha256));
      const res = await gateway.call(
        args.provinceCode,
        {
          method: 'PUT',
          path: `/cases/${encodeURIComponent(args.provinceCaseId)}/materials/${encodeURIComponent(args.materialCode)}`,
          timeoutMs,
          idempotencyKey: args.idempotencyKey,
          bytes,
          contentType: args.contentType,
          headers: { 'x-content-sha256': args.sha256 },
        },
        materialReceiptSchema,
      );
      return { sha256: res.sha256, size: res.size };
    },
    async submitProvinceCase(args: { provinceCode: string; provinceCaseId: string; idempotencyKey: string }) {
      const res = await gateway.call(
        args.provinceCode,
        { method: 'POST', path: `/cases/${encodeURIComponent(args.provinceCaseId)}/submit`, timeoutMs, idempotencyKey: args.idempotencyKey, json: {} },
        submitResponseSchema,
      );
      return { status: res.status };
    },
  };
}
export type BareProvinceActivities = ReturnType<typeof createBareProvinceActivities>;
