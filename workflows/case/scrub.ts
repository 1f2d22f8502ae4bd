// Event data and error texts must not carry the applicant's personal data in clear: a province's
// error message may echo a name, a reason may quote a phone number. Every string the recorder
// writes passes through this scrubber, which replaces the applicant's name, identity number,
// phone and address with their masked forms. Pure and deterministic (workflow code).
import type { Applicant } from '../../domain/case.js';
import { maskIdNumber, maskName, maskPhone } from '../../domain/idNumber.js';

export function applicantScrubber(applicant: Applicant, address?: string): <T>(value: T) => T {
  const pairs: [string, string][] = [];
  if (applicant.idNumber) pairs.push([applicant.idNumber, maskIdNumber(applicant.idNumber)]);
  if (applicant.phone) pairs.push([applicant.phone, maskPhone(applicant.phone)]);
  // A one-character "name" would mask every occurrence of a common character: names have two or more.
  if (applicant.name && applicant.name.length >= 2) pairs.push([applicant.name, maskName(applicant.name)]);
  if (address && address.length >= 5) pairs.push([address, '***']);
  const scrubString = (s: string): string => {
    let out = s;
    for (const [clear, masked] of pairs) {
      if (out.includes(clear)) out = out.split(clear).join(masked);
      const lower = clear.toLowerCase();
      if (lower !== clear && out.toLowerCase().includes(lower)) out = out.replace(new RegExp(escapeRegExp(clear), 'gi'), masked);
    }
    return out;
  };
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return scrubString(value);
    if (Array.isArray(value)) return value.map(scrub);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    return value;
  };
  return scrub as <T>(value: T) => T;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
