// The texts of the SMS sent to applicants (activities/notifications.ts), one per template. Pure.
// They name the item, the masked name and what to do next, and carry the receipt's query code
// where the applicant will want to look the case up; never the identity number, the phone number or
// an address (the sender refuses a text that holds an identity number: crypto/pii.ts).

export const SMS_TEMPLATES = [
  'correction_notice',
  'supplement_reminder',
  'decision_approved',
  'decision_rejected',
  'result_ready',
  'pickup_reminder',
  'evaluation_invitation',
] as const;
export type SmsTemplate = (typeof SMS_TEMPLATES)[number];

export interface SmsContext {
  itemName: string;
  /** Masked (李*). */
  applicantName: string;
  queryCode: string;
  /** Material code → name, for notices. */
  materialNames: ReadonlyMap<string, string>;
  params: Record<string, unknown>;
}

const SIGNATURE = '【跨省通办】';

export function smsText(template: SmsTemplate, ctx: SmsContext): string {
  const hello = `${SIGNATURE}${ctx.applicantName}您好，您申请的“${ctx.itemName}”`;
  const p = ctx.params;
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  switch (template) {
    case 'correction_notice': {
      const codes = Array.isArray(p.materials) ? (p.materials as unknown[]).map(String) : [];
      const names = codes.map((c) => ctx.materialNames.get(c) ?? c).join('、');
      const due = str(p.supplementDue);
      return `${hello}需补正材料：${names}。请${due ? `于${due}前` : '尽快'}到受理窗口一次性补齐。查询码${ctx.queryCode}。`;
    }
    case 'supplement_reminder':
      return `${hello}补正材料的截止日期为${str(p.supplementDue)}，请尽快到受理窗口提交，逾期将终止办理。查询码${ctx.queryCode}。`;
    case 'decision_approved':
      return `${hello}已准予许可，办理结果将按您选择的方式送达。查询码${ctx.queryCode}。`;
    case 'decision_rejected':
      return `${hello}办理地作出了不予许可的决定，理由可到受理窗口查询；如有异议，可依法申请行政复议或者提起行政诉讼。`;
    case 'result_ready':
      if (p.method === 'window') return `${hello}办理结果已送达受理窗口，请携带身份证件和回执领取。查询码${ctx.queryCode}。`;
      if (p.method === 'mail') return `${hello}办理结果已邮寄，运单号${str(p.trackingNumber)}，请注意查收。`;
      return `${hello}电子证照已签发${p.licenceId ? `（标识${str(p.licenceId)}）` : ''}，可在政务服务平台查看，真伪可公开核验。`;
    case 'pickup_reminder':
      return `${hello}办理结果已在受理窗口等候${String(p.workingDays ?? '')}个工作日，请携带身份证件和回执尽快领取。`;
    case 'evaluation_invitation':
      return `${hello}已办理结束。欢迎对本次服务作出评价（好差评），评价时请使用查询码${ctx.queryCode}。`;
  }
}

/** The message a case event gives the applicant, if any: template, what it is about (part of its key), and its params. */
export function smsForEvent(event: { type: string; data: Record<string, unknown> }): { template: SmsTemplate; ref: string; params: Record<string, unknown> } | null {
  const d = event.data;
  switch (event.type) {
    case 'correction.notice_issued': {
      const materials = Array.isArray(d.deficiencies) ? (d.deficiencies as { materialCode: string }[]).map((x) => x.materialCode) : [];
      return { template: 'correction_notice', ref: String(d.noticeId), params: { noticeId: d.noticeId, materials, supplementDue: d.supplementDue ?? null } };
    }
    case 'decision.approved':
      return { template: 'decision_approved', ref: 'decision', params: {} };
    case 'decision.rejected':
      return { template: 'decision_rejected', ref: 'decision', params: {} };
    case 'delivery.awaiting':
      return d.method === 'window' ? { template: 'result_ready', ref: 'window', params: { method: 'window' } } : null;
    case 'delivery.mailed':
      return { template: 'result_ready', ref: 'mail', params: { method: 'mail', trackingNumber: d.trackingNumber ?? null } };
    case 'delivery.issued': {
      const certificate = (d.certificate ?? null) as { certificateId?: string; licence?: { licenceId?: string } } | null;
      return { template: 'result_ready', ref: 'electronic', params: { method: 'electronic', licenceId: certificate?.licence?.licenceId ?? certificate?.certificateId ?? null } };
    }
    case 'case.completed':
    case 'case.closed':
      return { template: 'evaluation_invitation', ref: 'closed', params: {} };
    default:
      return null;
  }
}
