// Building and submitting cases over HTTP, as a window clerk's system would.
import { randomUUID } from 'node:crypto';
import { idCheckCharacter } from '../domain/idNumber.js';

/**
 * The applicant's data submitCase uses unless told otherwise. Listed (with the addresses tests
 * post results to) so the personal-data scan (harness/piiScan.ts) looks for them in clear after a
 * run; the scan also collects every other applicant name and address the test sources spell out.
 */
export const FIXTURE_APPLICANT = { name: '张三', phone: '13800138000' } as const;
export const FIXTURE_NAMES: readonly string[] = [FIXTURE_APPLICANT.name, '李四', '王五'];
export const FIXTURE_ADDRESSES: readonly string[] = ['广州市天河区体育西路 1 号', '四川省成都市武侯区人民南路四段1号'];

/** A valid GB 11643 number for a birth date and sequence (the check character computed). */
export function validIdNumber(first17 = '11010519491231002'): string {
  return first17 + idCheckCharacter(first17);
}

/** The same number with a different (wrong) check character. */
export function wrongCheckDigit(id: string): string {
  const last = id.slice(-1);
  return id.slice(0, -1) + (last === '0' ? '1' : '0');
}

/** A small but real PDF: the magic bytes the upload checks, plus unique content. */
export function samplePdf(label: string = randomUUID()): Buffer {
  return Buffer.from(`%PDF-1.4\n% tongban test material ${label}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
}

export async function uploadFile(apiUrl: string, token: string, bytes: Buffer, contentType = 'application/pdf', fileName = 'material.pdf') {
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: contentType }), fileName);
  const res = await fetch(`${apiUrl}/v1/files`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  return { status: res.status, body: (await res.json()) as { fileId: string; sha256: string; size: number; contentType: string } };
}

export interface SubmitOptions {
  itemCode?: string;
  applicantName?: string;
  receivingRegion?: string;
  handlingRegion?: string;
  delivery?: { method: 'window' | 'mail' | 'electronic'; address?: string };
  materialCodes?: string[];
  /** Files uploaded before, named per material (instead of uploading one per material). */
  materials?: { materialCode: string; fileId: string }[];
  /** 视频会商收件: hold the case at the precheck until a consultation has its outcome. */
  consultBeforeAcceptance?: boolean;
  /** The application's fields the item declares (e.g. a joint item's originRegion). */
  fields?: Record<string, string>;
}

const ITEM_MATERIALS: Record<string, string[]> = {
  'pension-transfer': ['transfer-application', 'resident-id-card', 'contribution-certificate'],
  'medical-filing': ['filing-form', 'resident-id-card'],
  'housing-fund-transfer': ['transfer-application', 'resident-id-card', 'deposit-proof'],
};

async function uploadOnePerMaterial(apiUrl: string, token: string, materialCodes: readonly string[]) {
  const materials: { materialCode: string; fileId: string }[] = [];
  for (const materialCode of materialCodes) {
    const up = await uploadFile(apiUrl, token, samplePdf(`${materialCode}-${randomUUID()}`));
    if (up.status !== 201) throw new Error(`upload failed: ${up.status} ${JSON.stringify(up.body)}`);
    materials.push({ materialCode, fileId: up.body.fileId });
  }
  return materials;
}

/** Uploads one PDF per material (unless given files) and submits the case; returns the response and the request body. */
export async function submitCase(apiUrl: string, token: string, opts: SubmitOptions = {}) {
  const itemCode = opts.itemCode ?? 'pension-transfer';
  const materials = opts.materials ?? (await uploadOnePerMaterial(apiUrl, token, opts.materialCodes ?? ITEM_MATERIALS[itemCode] ?? []));
  const body = {
    itemCode,
    applicant: { name: opts.applicantName ?? FIXTURE_APPLICANT.name, idNumber: validIdNumber(), phone: FIXTURE_APPLICANT.phone },
    receivingRegion: opts.receivingRegion ?? '440100',
    handlingRegion: opts.handlingRegion ?? '510000',
    channel: 'window',
    materials,
    delivery: opts.delivery ?? { method: 'electronic' },
    ...(opts.consultBeforeAcceptance ? { consultBeforeAcceptance: true } : {}),
    ...(opts.fields ? { fields: opts.fields } : {}),
  };
  const key = randomUUID();
  const res = await fetch(`${apiUrl}/v1/cases`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as { caseId: string; status: string; stage: string };
  return { status: res.status, body: json, request: body, idempotencyKey: key };
}

export async function getJson<T = Record<string, unknown>>(url: string, token: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as T };
}

export async function postJson<T = Record<string, unknown>>(url: string, token: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}
