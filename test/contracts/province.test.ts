// The protocol contract itself (contracts/province.ts): the event schema that the callback route,
// the status poll and the simulator share, and the one signed string.
import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  caseStatusResponseSchema,
  correctionAnswerRequestSchema,
  describeIssues,
  provinceEventSchema,
  signedString,
  supplementQuerySchema,
} from '../../contracts/province.js';
import { sha256Hex, signRequest, verifyRequest } from '../../crypto/signing.js';

const caseId = randomUUID();
const at = '2026-11-25T08:00:00.000Z';
const certificate = { certificateId: 'c-1', issuer: '四川省政务服务中心', sha256: 'A'.repeat(64), issuedAt: at };

function paths(value: unknown): string[] {
  const result = provinceEventSchema.safeParse(value);
  return result.success ? [] : result.error.issues.map((i) => i.path.join('.')).sort();
}

describe('province events', () => {
  it('When each event type carries its data, then it parses, keeping only the fields of its type', () => {
    const approved = provinceEventSchema.parse({ eventId: 'e-1', caseId, type: 'case.approved', at, data: { provinceCaseId: 'p-1', certificate: { ...certificate, extra: 1 }, note: 'x' }, extra: true });
    expect(approved).toEqual({ eventId: 'e-1', caseId, type: 'case.approved', at, data: { provinceCaseId: 'p-1', certificate: { ...certificate, sha256: 'a'.repeat(64) } } });
    expect(provinceEventSchema.parse({ eventId: 'e-2', caseId, type: 'case.rejected', at, data: { reasons: ['材料不全'] } }).data).toEqual({ reasons: ['材料不全'] });
    expect(provinceEventSchema.parse({ eventId: 'e-3', caseId, type: 'delivery.mailed', at, data: { trackingNumber: '1151000000001' } }).data).toEqual({ trackingNumber: '1151000000001' });
    expect(provinceEventSchema.parse({ eventId: 'e-4', caseId, type: 'delivery.received', at, data: { signedBy: '本人' } }).data).toEqual({ signedBy: '本人' });
    expect(provinceEventSchema.parse({ eventId: 'e-5', caseId, type: 'case.accepted', at, data: {} }).data).toEqual({});
  });

  it('When strings carry control characters or are too long, then every such field is named', () => {
    expect(paths({ eventId: 'e\u00001', caseId, type: 'delivery.received', at, data: { signedBy: '张\u0007三', trackingNumber: '1'.repeat(65) } })).toEqual([
      'data.signedBy',
      'data.trackingNumber',
      'eventId',
    ]);
  });

  it('When a certificate has no issuer or a rejection no reason, then the data field is named', () => {
    const { issuer: _issuer, ...noIssuer } = certificate;
    expect(paths({ eventId: 'e-1', caseId, type: 'case.approved', at, data: { certificate: noIssuer } })).toEqual(['data.certificate.issuer']);
    expect(paths({ eventId: 'e-1', caseId, type: 'case.rejected', at, data: { reasons: [] } })).toEqual(['data.reasons']);
    expect(paths({ eventId: 'e-1', caseId, type: 'delivery.mailed', at, data: {} })).toEqual(['data.trackingNumber']);
  });

  it('When the envelope and the data are both wrong, then both are named in one answer', () => {
    expect(paths({ eventId: '', caseId: 'x', type: 'case.rejected', at: 'yesterday', data: { reasons: 'no' } })).toEqual(['at', 'caseId', 'data.reasons', 'eventId']);
    expect(paths({ eventId: 'e-1', caseId, type: 'case.teleported', at, data: {} })).toEqual(['type']);
  });

  it('When a poll answer holds a bad event, then the path names the event', () => {
    const result = caseStatusResponseSchema.safeParse({ provinceCaseId: 'p-1', caseId, status: 'approved', events: [{ eventId: 'e-1', caseId, type: 'case.approved', at, data: { certificate: { ...certificate, issuer: '' } } }] });
    expect(result.success).toBe(false);
    expect(describeIssues(result.error!)).toMatch(/^events\.0\.data\.certificate\.issuer: /);
  });
});

describe('correction and procedure events', () => {
  const deficiency = { materialCode: 'resident-id-card', problem: '扫描件不清晰', needed: '清晰的彩色扫描件' };
  const event = (type: string, data: unknown) => ({ eventId: 'e-1', caseId, type, at, data });

  it('When a correction notice lists its deficiencies, then it parses keeping only the defined fields', () => {
    const parsed = provinceEventSchema.parse(event('review.correction_required', { noticeId: 'p-1-bz1', deficiencies: [{ ...deficiency, extra: 1 }], note: 'x' }));
    expect(parsed.data).toEqual({ noticeId: 'p-1-bz1', deficiencies: [deficiency] });
  });

  it('When a notice has no deficiency, too many, one material twice, or a bad string, then each field is named', () => {
    expect(paths(event('review.correction_required', { noticeId: 'n', deficiencies: [] }))).toEqual(['data.deficiencies']);
    expect(paths(event('review.correction_required', { noticeId: 'n', deficiencies: Array.from({ length: 51 }, (_, i) => ({ ...deficiency, materialCode: `m-${i}` })) }))).toEqual(['data.deficiencies']);
    expect(paths(event('review.correction_required', { noticeId: 'n', deficiencies: [deficiency, deficiency] }))).toEqual(['data.deficiencies.1.materialCode']);
    expect(paths(event('review.correction_required', { noticeId: 'has space', deficiencies: [{ ...deficiency, problem: '模糊\u0000', needed: '' }] }))).toEqual([
      'data.deficiencies.0.needed',
      'data.deficiencies.0.problem',
      'data.noticeId',
    ]);
  });

  it('When a procedure starts and ends, then kind, reason, expectedEnd and noticeRef are checked', () => {
    const started = { procedureId: 'p-1-proc1', kind: 'expert_review', reason: '需组织专家评审', expectedEnd: '2026-12-10', noticeRef: '川政服告〔2026〕12号' };
    expect(provinceEventSchema.parse(event('review.procedure_started', started)).data).toEqual(started);
    expect(provinceEventSchema.parse(event('review.procedure_started', { procedureId: 'p', kind: 'hearing', reason: '听证' })).data).toEqual({ procedureId: 'p', kind: 'hearing', reason: '听证' });
    expect(paths(event('review.procedure_started', { ...started, kind: 'meditation' }))).toEqual(['data.kind']);
    expect(paths(event('review.procedure_started', { ...started, expectedEnd: '2026-02-30', reason: undefined }))).toEqual(['data.expectedEnd', 'data.reason']);
    expect(provinceEventSchema.parse(event('review.procedure_ended', { procedureId: 'p', result: '合格' })).data).toEqual({ procedureId: 'p', result: '合格' });
    expect(paths(event('review.procedure_ended', { result: 'x'.repeat(1001) }))).toEqual(['data.procedureId', 'data.result']);
  });

  it('When a correction answer or a supplement revision is malformed, then the field is named', () => {
    const item = { materialCode: 'resident-id-card', sha256: 'a'.repeat(64), revision: 1 };
    expect(correctionAnswerRequestSchema.parse({ items: [item] })).toEqual({ items: [item] });
    const issues = (value: unknown) => correctionAnswerRequestSchema.safeParse(value).error?.issues.map((i) => i.path.join('.')).sort() ?? [];
    expect(issues({ items: [] })).toEqual(['items']);
    expect(issues({ items: [item, item] })).toEqual(['items.1.materialCode']);
    expect(issues({ items: [{ ...item, revision: 0, sha256: 'xyz' }] })).toEqual(['items.0.revision', 'items.0.sha256']);

    expect(supplementQuerySchema.parse({ revision: '1' })).toEqual({ revision: 1 });
    expect(supplementQuerySchema.parse({ revision: '99' })).toEqual({ revision: 99 });
    for (const bad of ['0', '01', '100', '-1', '1.5', '', ' 1']) expect(supplementQuerySchema.safeParse({ revision: bad }).success, bad).toBe(false);
  });
});

describe('the signed string', () => {
  it('When a request is signed, then its signature is the HMAC of signedString, and verification accepts exactly that', () => {
    const body = JSON.stringify({ caseId });
    const now = 1_790_000_000_000;
    const headers = signRequest('s3cret', 'post', '/cases?x=1', body, now);
    const timestamp = String(now / 1000);
    const expected = `v1=${createHmac('sha256', 's3cret').update(signedString(timestamp, 'POST', '/cases?x=1', sha256Hex(body))).digest('hex')}`;

    expect(signedString(timestamp, 'post', '/cases?x=1', 'h')).toBe(`${timestamp}.POST./cases?x=1.h`);
    expect(headers['x-tongban-signature']).toBe(expected);
    const request = { method: 'POST', path: '/cases?x=1', body, timestamp, signature: expected };
    expect(verifyRequest('s3cret', request, now)).toBeNull();
    expect(verifyRequest('s3cret', { ...request, path: '/cases?x=2' }, now)).toBe('mismatch');
  });
});
