// Resident identity number (公民身份号码), GB 11643-1999: 6-digit address code, 8-digit birth
// date, 3-digit sequence, ISO 7064 MOD 11-2 check character. Pure: safe in workflows and tests.
import { isProvinceCode } from './regions.js';

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARS = '10X98765432';

export type IdNumberProblem = 'format' | 'region' | 'birthDate' | 'checkDigit';

/** The check character for the first 17 digits. */
export function idCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * WEIGHTS[i]!;
  return CHECK_CHARS[sum % 11]!;
}

/** Returns what is wrong with the number, or null when it is a valid 18-character number. */
export function idNumberProblem(value: string): IdNumberProblem | null {
  if (!/^\d{17}[\dX]$/.test(value)) return 'format';
  if (!isProvinceCode(`${value.slice(0, 2)}0000`)) return 'region';
  const y = Number(value.slice(6, 10));
  const m = Number(value.slice(10, 12));
  const d = Number(value.slice(12, 14));
  const birth = new Date(Date.UTC(y, m - 1, d));
  if (y < 1900 || birth.getUTCFullYear() !== y || birth.getUTCMonth() !== m - 1 || birth.getUTCDate() !== d) return 'birthDate';
  if (idCheckCharacter(value.slice(0, 17)) !== value[17]) return 'checkDigit';
  return null;
}

export function isValidIdNumber(value: string): boolean {
  return idNumberProblem(value) === null;
}

export const ID_NUMBER_MESSAGES: Record<IdNumberProblem, string> = {
  format: 'must be 17 digits followed by a digit or X (GB 11643)',
  region: 'must start with a known province code (GB/T 2260)',
  birthDate: 'contains an impossible birth date',
  checkDigit: 'has a wrong check digit (GB 11643)',
};

/** Masked for display: the first 3 and last 4 characters stay, e.g. 440***********123X. */
export function maskIdNumber(value: string): string {
  if (value.length < 8) return '*'.repeat(value.length);
  return `${value.slice(0, 3)}${'*'.repeat(value.length - 7)}${value.slice(-4)}`;
}

/** Masked name: the family name stays, e.g. 张** (or J*** for a Latin name). */
export function maskName(value: string): string {
  const chars = [...value];
  if (chars.length <= 1) return '*';
  return `${chars[0]}${'*'.repeat(chars.length - 1)}`;
}

/** Masked phone: 138****5678. */
export function maskPhone(value: string): string {
  if (value.length < 7) return '*'.repeat(value.length);
  return `${value.slice(0, 3)}${'*'.repeat(value.length - 7)}${value.slice(-4)}`;
}
