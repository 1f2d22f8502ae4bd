// Idempotency keys of province calls: derived from the case, the step and, for what can be sent
// again after a correction, a revision — never from the attempt, so every retry of one request
// carries the same key, and a re-upload after a correction is a new request. Revision 0 has no
// suffix, so the keys of cases taken in before revisions existed are unchanged.
export function provinceKey(caseId: string, step: 'create' | 'submit' | 'withdraw'): string;
export function provinceKey(caseId: string, step: 'material', materialCode: string, revision?: number): string;
export function provinceKey(caseId: string, step: string, materialCode?: string, revision = 0): string {
  const base = materialCode === undefined ? `${caseId}:${step}` : `${caseId}:${step}:${materialCode}`;
  return revision > 0 ? `${base}:r${revision}` : base;
}
