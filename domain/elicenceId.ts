// Electronic licence identifiers (电子证照标识), GB/T 36904-2018: the root code of electronic
// licences followed by four parts and a check character,
//   1.2.156.3005.2.<licence type>.<issuer>.<serial>.<version>.<check>
// so a licence can be named, and a presented identifier checked, without looking it up.
// Pure: safe in workflows and in the simulator.
//
// What is certain, and checked:
// - The check character is ISO/IEC 7064 MOD 37,36 (GB/T 17710-2008), per GB/T 36904-2018
//   (summary of the standard: https://wenku.csdn.net/doc/4ium7ims6x). It is computed over the four
//   parts concatenated, without the root code and without the dots: licenceType ‖ issuer ‖ serial ‖
//   version. That is how published identifiers come out: the model identifier quoted from a
//   housing-and-construction data-exchange specification (safety-officer certificates),
//   1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U,
//   and the file name of a licence issued in Zhejiang (tzxm.zjzwfw.gov.cn),
//   1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0, both check that way and
//   not with the root code's digits included (the dots cannot be: they are outside the check system's
//   alphabet); public implementations compute it the same way
//   (e.g. `getCheckCode(licenceType + issuer + serial + version)`).
// - The issuer is the issuing authority's 18-character unified social credit code (统一社会信用代码),
//   whose last character is its own check character (GB 32100-2015: alphabet 0-9 and A-Z without
//   I, O, S, V, Z; weights 3^i mod 31; http://openstd.samr.gov.cn/bzgk/gb/newGbInfo?hcno=24691C25985C1073D3A7C85629378AC0).
//   One platform's test data was seen with a region code (340100) in this place; such identifiers
//   are refused here.
// - The version is three digits (001 for a first issue, 002 after a change, ...), as every published
//   identifier and implementation has it.
//
// What is assumed, and checked only as far as it is certain (the standard's text was not at hand):
// - The licence type code: in every published identifier it is the defining authority's unified
//   social credit code followed by a three-digit sequence (11100000000013338W + 011), 21 characters.
//   Only that shape is checked (18 characters of the code's alphabet, then 3 digits), not the code's
//   own check character.
// - The serial number is the issuer's own: published ones are digits (20230000403, 2025052201) or
//   upper-case hex (a UUID without dashes). It is checked to be 1-64 characters of 0-9A-Z, the check
//   system's alphabet; the upper bound is ours, a guard against unbounded input.
export const LICENCE_ID_ROOT = '1.2.156.3005.2';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const M = 36;

/** A character outside 0-9A-Z was given to the MOD 37,36 check system. */
export class Mod37_36InputError extends Error {
  constructor(readonly input: string) {
    super('ISO 7064 MOD 37,36 takes one or more of the characters 0-9 and A-Z (upper case)');
    this.name = 'Mod37_36InputError';
  }
}

function mod37_36Remainder(chars: string): number {
  // ISO/IEC 7064 hybrid system, M = 36: P starts at M; for each character, S = (P + value) mod M
  // (0 counts as M), P = 2S mod (M + 1).
  let p = M;
  for (const ch of chars) {
    const a = ALPHABET.indexOf(ch);
    if (a < 0) throw new Mod37_36InputError(chars);
    const s = (p + a) % M || M;
    p = (s * 2) % (M + 1);
  }
  return p;
}

/**
 * The check character to append to `body` (ISO/IEC 7064 MOD 37,36). It catches every single-character
 * substitution and nearly every swap of adjacent characters: being a hybrid system it misses a swap
 * of two characters that are neighbours in 0-9A-Z (…QP… for …PQ…) when the running value before them
 * is one particular value of 36, about 0.16 % of swaps (test/domain/elicenceId.test.ts counts them).
 */
export function mod37_36CheckChar(body: string): string {
  if (body.length === 0) throw new Mod37_36InputError(body);
  // The check character c makes (P + c) mod M = 1.
  return ALPHABET[(M + 1 - mod37_36Remainder(body)) % M]!;
}

/** true when the last character of `full` is the MOD 37,36 check character of the rest. */
export function isValidMod37_36(full: string): boolean {
  if (full.length < 2 || ![...full].every((ch) => ALPHABET.includes(ch))) return false;
  return mod37_36CheckChar(full.slice(0, -1)) === full.slice(-1);
}

const USCC_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;
const USCC_SHAPE = /^[0-9A-HJ-NP-RTUWXY]{18}$/;

/**
 * The check character (GB 32100-2015) of the first 17 characters of a unified social credit code;
 * throws RangeError for anything but 17 characters of the code's alphabet.
 */
export function unifiedSocialCreditCheckChar(body: string): string {
  if (!/^[0-9A-HJ-NP-RTUWXY]{17}$/.test(body)) throw new RangeError('a unified social credit code body is 17 characters of 0-9 and A-Z without I, O, S, V, Z');
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += USCC_ALPHABET.indexOf(body[i]!) * USCC_WEIGHTS[i]!;
  return USCC_ALPHABET[(31 - (sum % 31)) % 31]!;
}

/** A unified social credit code (GB 32100-2015): 18 characters whose last is the check character. */
export function isUnifiedSocialCreditCode(code: string): boolean {
  if (!USCC_SHAPE.test(code)) return false;
  return unifiedSocialCreditCheckChar(code.slice(0, 17)) === code[17];
}

export interface LicenceIdParts {
  /** 证照类型代码: the defining authority's credit code and a 3-digit sequence, 21 characters. */
  licenceType: string;
  /** 证照颁发机构代码: the issuing authority's unified social credit code. */
  issuer: string;
  /** 流水号: the issuer's serial number, 0-9A-Z. */
  serial: string;
  /** 版本号: three digits, e.g. 001. */
  version: string;
}

export interface ParsedLicenceId extends LicenceIdParts {
  check: string;
}

export type LicenceIdProblem = 'shape' | 'prefix' | 'licenceType' | 'issuer' | 'serial' | 'version' | 'checkCharacter';

export const LICENCE_ID_MESSAGES: Record<LicenceIdProblem, string> = {
  shape: `must be ${LICENCE_ID_ROOT}.<licence type>.<issuer>.<serial>.<version>.<check> (GB/T 36904)`,
  prefix: `must start with the electronic licence root code ${LICENCE_ID_ROOT}`,
  licenceType: 'has a licence type code that is not a credit code followed by three digits',
  issuer: 'has an issuer that is not a valid unified social credit code (GB 32100)',
  serial: 'has a serial number that is not 1-64 characters of 0-9 and A-Z',
  version: 'has a version that is not three digits',
  checkCharacter: 'has a wrong check character (ISO 7064 MOD 37,36)',
};

/** A licence identifier that cannot be built from the parts given; `problem` names the part. */
export class LicenceIdError extends Error {
  constructor(readonly problem: LicenceIdProblem) {
    super(`licence identifier ${LICENCE_ID_MESSAGES[problem]}`);
    this.name = 'LicenceIdError';
  }
}

const LICENCE_TYPE_SHAPE = /^[0-9A-HJ-NP-RTUWXY]{18}\d{3}$/;
const SERIAL_SHAPE = /^[0-9A-Z]{1,64}$/;
const VERSION_SHAPE = /^\d{3}$/;

function partsProblem(parts: LicenceIdParts): LicenceIdProblem | null {
  if (!LICENCE_TYPE_SHAPE.test(parts.licenceType)) return 'licenceType';
  if (!isUnifiedSocialCreditCode(parts.issuer)) return 'issuer';
  if (!SERIAL_SHAPE.test(parts.serial)) return 'serial';
  if (!VERSION_SHAPE.test(parts.version)) return 'version';
  return null;
}

function checkCharOf(parts: LicenceIdParts): string {
  return mod37_36CheckChar(parts.licenceType + parts.issuer + parts.serial + parts.version);
}

/**
 * The identifier for the parts, with its check character. A numeric `version` is written with
 * three digits (1 → 001). Throws LicenceIdError naming the first part that is wrong.
 */
export function formatLicenceId(input: Omit<LicenceIdParts, 'version'> & { version: string | number }): string {
  const version = typeof input.version === 'number' && Number.isInteger(input.version) && input.version >= 0 ? String(input.version).padStart(3, '0') : String(input.version);
  const parts: LicenceIdParts = { licenceType: input.licenceType, issuer: input.issuer, serial: input.serial, version };
  const problem = partsProblem(parts);
  if (problem) throw new LicenceIdError(problem);
  return [LICENCE_ID_ROOT, parts.licenceType, parts.issuer, parts.serial, parts.version, checkCharOf(parts)].join('.');
}

export type LicenceIdParse = { ok: true; id: ParsedLicenceId } | { ok: false; problem: LicenceIdProblem };

/** The parts of an identifier, or the first thing wrong with it. Upper case only, as issued. */
export function parseLicenceId(value: string): LicenceIdParse {
  if (value === LICENCE_ID_ROOT) return { ok: false, problem: 'shape' };
  if (!value.startsWith(`${LICENCE_ID_ROOT}.`)) return { ok: false, problem: 'prefix' };
  const rest = value.slice(LICENCE_ID_ROOT.length + 1).split('.');
  if (rest.length !== 5) return { ok: false, problem: 'shape' };
  const [licenceType, issuer, serial, version, check] = rest as [string, string, string, string, string];
  const parts: LicenceIdParts = { licenceType, issuer, serial, version };
  const problem = partsProblem(parts);
  if (problem) return { ok: false, problem };
  if (check !== checkCharOf(parts)) return { ok: false, problem: 'checkCharacter' };
  return { ok: true, id: { ...parts, check } };
}

export function isValidLicenceId(value: string): boolean {
  return parseLicenceId(value).ok;
}
