// Item definitions (domain/items.ts) against the seed catalog in items/ and against broken
// definitions: every problem is reported at once, each with its path and a message a backend team
// can act on. Broken definitions start from a seed file and change one thing per fault.
import { describe, expect, it } from 'vitest';
import { loadItemFile, loadItemFolder } from '../../catalog/files.js';
import { BUILTIN_ITEMS, findBuiltinItem } from '../../catalog/seed.js';
import { isValidUscc, usccCheckChar, validateCatalog, validateItem, type ItemDefinition, type ItemProblem } from '../../domain/items.js';
import { missingRequiredMaterials, sharedDataMaterials } from '../../domain/itemMaterials.js';

/** A seed file's JSON as written, to break. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function seed(code: string): any {
  const r = loadItemFile(`items/${code}.v1.json`);
  if (!r.item) throw new Error(`items/${code}.v1.json: ${JSON.stringify(r.problems)}`);
  return structuredClone(r.item.raw);
}

function problemsOf(raw: unknown): ItemProblem[] {
  const r = validateItem(raw);
  return r.ok ? [] : r.problems;
}

const item = (code: string): ItemDefinition => findBuiltinItem(code)!;
const materialCodes = (i: ItemDefinition) => i.materials.map((m) => [m.code, m.required]);

describe('the seed catalog (items/)', () => {
  it('When the folder loads, then it holds at least 14 valid items, each marked as sample data with its source and codes', () => {
    const folder = loadItemFolder();
    expect(folder.problems).toEqual([]);
    expect(folder.items.length).toBeGreaterThanOrEqual(14);
    expect(BUILTIN_ITEMS.map((i) => i.code)).toEqual(expect.arrayContaining([
      'pension-transfer', 'medical-filing', 'housing-fund-transfer', 'driving-licence-replacement', 'insurance-record-print',
      'household-move', 'business-relocation', 'identity-card-renewal', 'marriage-registration', 'business-registration',
      'no-criminal-record-certificate', 'professional-qualification-check', 'medical-insurance-transfer', 'social-security-card',
    ]));
    for (const i of BUILTIN_ITEMS) {
      expect(i.sample?.source, i.code).toMatch(/跨省通办/);
      expect(i.sample?.note, i.code).toMatch(/示例数据/);
      expect(i.basicCode, i.code).toMatch(/^\d{10}$/);
      expect(isValidUscc(i.implementationCode!.slice(0, 18)), i.code).toBe(true);
      expect(i.legalBasis.length, i.code).toBeGreaterThan(0);
      expect(i.nameEn, i.code).toBeTruthy();
    }
  });

  it('When the licensing and immediate items are read, then one is decided within 20 + 10 working days (art. 42) and one on the spot', () => {
    const licensing = item('driving-licence-replacement');
    expect(licensing).toMatchObject({ type: 'administrative_licensing', statutoryDays: 20, review: { maxExtensionDays: 10 }, result: { type: 'licence', licenceType: 'motor_vehicle_driving_licence' } });
    expect(licensing.basicCode!.slice(0, 2)).toBe('01');
    const immediate = item('insurance-record-print');
    expect(immediate).toMatchObject({ handlingType: 'immediate', promisedDays: 0 });
    expect(BUILTIN_ITEMS.filter((i) => i.handlingType === 'immediate').every((i) => i.promisedDays === 0)).toBe(true);
  });

  it('When the three items that were constants are read, then their codes, limits and materials are as before, and the hub supplies what the government holds', () => {
    const pension = item('pension-transfer');
    expect(pension).toMatchObject({ version: 1, name: '企业职工基本养老保险关系转移接续', type: 'public_service', promisedDays: 15, statutoryDays: 45, deliveryMethods: ['window', 'mail', 'electronic'], result: { electronic: true } });
    expect(materialCodes(pension)).toEqual([['transfer-application', true], ['resident-id-card', true], ['contribution-certificate', true]]);
    expect(pension.materials[2]!.sharedData).toMatchObject({ source: 'social-insurance-contributions' });

    const medical = item('medical-filing');
    expect(medical).toMatchObject({ version: 1, promisedDays: 3, statutoryDays: 5, deliveryMethods: ['window', 'electronic'], result: { electronic: true } });
    expect(materialCodes(medical)).toEqual([['filing-form', true], ['resident-id-card', true], ['residence-proof', false]]);
    expect(medical.materials[2]!.condition).toBeTruthy();

    const housing = item('housing-fund-transfer');
    expect(housing).toMatchObject({ version: 1, promisedDays: 3, statutoryDays: 15, deliveryMethods: ['window', 'mail', 'electronic'], result: { electronic: true } });
    expect(materialCodes(housing)).toEqual([['transfer-application', true], ['resident-id-card', true], ['deposit-proof', true]]);
    expect(housing.materials[2]!.sharedData).toMatchObject({ source: 'housing-fund-deposits' });
  });

  it('When the joint items are read, then their participants, steps and regions are as the procedure runs', () => {
    const move = item('household-move');
    expect(move.handlingModes).toContain('multi_location');
    expect(move.applicationFields.find((f) => f.key === 'originRegion')).toMatchObject({ kind: 'region', required: true });
    expect(move.joint).toMatchObject({
      onRejection: 'reject_case',
      participants: [
        { key: 'moved-in', step: 1, region: { from: 'handling' } },
        { key: 'moved-out', step: 2, region: { from: 'application', field: 'originRegion' } },
      ],
    });
    expect(move.statutoryDays).toBeLessThanOrEqual(45);
    expect(move.review.maxExtensionDays).toBeLessThanOrEqual(15);

    const relocation = item('business-relocation');
    expect(relocation.joint).toMatchObject({
      onRejection: 'reject_case',
      participants: [
        { key: 'registration-out', step: 1, region: { from: 'application', field: 'originRegion' } },
        { key: 'tax-clearance', step: 1, region: { from: 'application', field: 'originRegion' } },
        { key: 'registration-in', step: 2, region: { from: 'handling' } },
      ],
    });
  });

  it('When a submission lacks materials, then the required ones are listed, and neither conditional nor shared-data ones', () => {
    expect(missingRequiredMaterials(item('pension-transfer'), [{ materialCode: 'resident-id-card' }])).toEqual(['transfer-application']);
    expect(missingRequiredMaterials(item('medical-filing'), [{ materialCode: 'filing-form' }, { materialCode: 'resident-id-card' }])).toEqual([]);
    expect(sharedDataMaterials(item('marriage-registration')).map((m) => m.code)).toEqual(['marriage-status']);
  });
});

describe('every problem at once', () => {
  it('When one definition has nine faults, then nine problems come back, each with its path and what to do', () => {
    const raw = seed('driving-licence-replacement');
    raw.name = ' ';
    raw.promisedDays = 30;
    raw.review.maxExtensionDays = 15;
    raw.materials[1].code = 'licence-application';
    delete raw.materials[2].condition;
    raw.materials[0].sharedData = { source: 'tax-records' };
    raw.result.licenceType = 'flying_licence';
    raw.result.electronic = false;
    raw.implementationCode = raw.implementationCode.slice(0, 17) + 'A' + raw.implementationCode.slice(18);

    const problems = problemsOf(raw);
    expect(problems).toHaveLength(9);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath).toEqual({
      name: 'must not be empty',
      promisedDays: 'the promised limit (30) cannot exceed the statutory limit (20)',
      'review.maxExtensionDays': 'Administrative Licensing Law art. 42: a licensing decision by one authority may be extended by at most 10 working days',
      'materials.1.code': 'material code licence-application is used twice; give each material its own code',
      'materials.2.condition': 'a material that is not required is conditional: say when it is needed',
      'materials.0.sharedData.source': expect.stringMatching(/^tax-records is not a source of the data-sharing hub \(one of social-insurance-contributions, .*housing-fund-deposits\)$/),
      'result.licenceType': expect.stringMatching(/^flying_licence is not a known e-licence type \(one of resident_id_card, /),
      deliveryMethods: 'electronic delivery needs an electronic result (result.electronic: true)',
      implementationCode: '11440100007516376A is not a valid unified social credit code (GB 32100 check character should be J)',
    });
  });
});

describe('rules across fields', () => {
  const paths = (raw: unknown) => problemsOf(raw).map((p) => p.path);
  const only = (raw: unknown) => {
    const ps = problemsOf(raw);
    expect(ps).toHaveLength(1);
    return ps[0]!;
  };

  it('When an immediate item promises days, or a committed one promises none, then promisedDays is named', () => {
    const immediate = seed('insurance-record-print');
    immediate.promisedDays = 1;
    expect(only(immediate)).toEqual({ path: 'promisedDays', message: 'an immediate item (即办件) is decided on the spot: its promised limit is 0 working days' });
    const committed = seed('pension-transfer');
    committed.promisedDays = 0;
    expect(only(committed).path).toBe('promisedDays');
  });

  it('When a licensing item allows more than 20 working days, then art. 42 is cited; a joint one is held to 45 + 15', () => {
    const single = seed('driving-licence-replacement');
    single.statutoryDays = 21;
    expect(only(single)).toEqual({ path: 'statutoryDays', message: 'Administrative Licensing Law art. 42: a licensing decision by one authority is due within 20 working days' });

    const joint = seed('household-move');
    expect(problemsOf(joint)).toEqual([]); // 45 + 15 is allowed for joint handling
    joint.statutoryDays = 46;
    joint.review.maxExtensionDays = 16;
    expect(problemsOf(joint)).toEqual([
      { path: 'statutoryDays', message: 'Administrative Licensing Law art. 42: a joint licensing decision is due within 45 working days' },
      { path: 'review.maxExtensionDays', message: 'Administrative Licensing Law art. 42: a joint licensing decision may be extended by at most 15 working days' },
    ]);
  });

  it('When a joint item has one participant, or a multi_location item none, then joint is named', () => {
    const one = seed('household-move');
    one.joint.participants = [one.joint.participants[0]];
    expect(only(one)).toEqual({ path: 'joint.participants', message: 'joint handling needs at least 2 participants; 1 declared' });
    const none = seed('household-move');
    delete none.joint;
    expect(problemsOf(none)).toEqual([
      // without participants it is a decision by one authority, held to 20 + 10
      { path: 'statutoryDays', message: 'Administrative Licensing Law art. 42: a licensing decision by one authority is due within 20 working days' },
      { path: 'review.maxExtensionDays', message: 'Administrative Licensing Law art. 42: a licensing decision by one authority may be extended by at most 10 working days' },
      { path: 'joint', message: 'a multi_location (多地联办) item declares its participants under joint' },
    ]);
  });

  it('When a participant reads its region from a field that is undeclared, not a region, or optional, then the reference is named', () => {
    const undeclared = seed('household-move');
    undeclared.joint.participants[1].region.field = 'formerRegion';
    expect(only(undeclared)).toEqual({ path: 'joint.participants.1.region.field', message: 'formerRegion is not declared in applicationFields' });

    const text = seed('household-move');
    text.joint.participants[1].region.field = 'moveReason';
    expect(only(text)).toEqual({ path: 'joint.participants.1.region.field', message: 'moveReason is a text field, not a region' });

    const optional = seed('household-move');
    optional.applicationFields[0].required = false;
    expect(only(optional).message).toBe('originRegion must be a required field: every case needs this participant\'s region');

    const missing = seed('business-relocation');
    delete missing.joint.participants[0].region.field;
    expect(only(missing)).toEqual({ path: 'joint.participants.0.region.field', message: 'names the application field the region is read from' });
  });

  it('When steps have a gap or take longer in sequence than the statute allows, then joint.participants is named', () => {
    const gap = seed('business-relocation');
    gap.joint.participants[2].step = 3;
    expect(only(gap)).toEqual({ path: 'joint.participants', message: 'steps are numbered 1, 2, 3… without gaps; step 2 is missing' });

    const long = seed('business-relocation');
    long.joint.participants[1].timeLimitDays = 13; // 13 (the longer of step 1) + 3 > 15
    expect(only(long)).toEqual({ path: 'joint.participants', message: 'the steps take up to 16 working days in sequence, more than the statutory 15' });
  });

  it('When a material or a participant code repeats, then the second one is named', () => {
    const materials = seed('pension-transfer');
    materials.materials.push({ ...materials.materials[0] });
    expect(only(materials)).toEqual({ path: 'materials.3.code', message: 'material code transfer-application is used twice; give each material its own code' });
    const participants = seed('business-relocation');
    participants.joint.participants[1].key = 'registration-out';
    expect(only(participants)).toEqual({ path: 'joint.participants.1.key', message: 'participant key registration-out is used twice' });
  });

  it('When a material names an unknown e-licence type or hub source, then the vocabulary is listed in the message', () => {
    const raw = seed('medical-filing');
    raw.materials[2].eLicence.licenceType = 'library_card';
    raw.materials[1].sharedData = { source: 'library-loans' };
    expect(paths(raw)).toEqual(['materials.1.sharedData.source', 'materials.2.eLicence.licenceType']);
    expect(problemsOf(raw)[1]!.message).toContain('residence_permit');
  });

  it('When the basic code has another type prefix or the wrong length, then basicCode is named', () => {
    const prefix = seed('marriage-registration'); // administrative_confirmation: 07
    prefix.basicCode = '2000081001';
    prefix.implementationCode = prefix.implementationCode.slice(0, 19) + '2000081001' + prefix.implementationCode.slice(29);
    expect(only(prefix)).toEqual({ path: 'basicCode', message: 'starts with type code 20, but a administrative_confirmation item\'s type code is 07' });
    const short = seed('marriage-registration');
    short.basicCode = '070008100';
    expect(paths(short)).toEqual(['basicCode', 'implementationCode']); // and the implementation code no longer embeds it
  });

  it('When the implementation code carries another level digit or another basic code, or has no basic code beside it, then each is named', () => {
    const level = seed('marriage-registration'); // county: 4
    level.implementationCode = level.implementationCode.slice(0, 18) + '3' + level.implementationCode.slice(19);
    expect(only(level)).toEqual({ path: 'implementationCode', message: 'carries level digit 3, but a county item\'s is 4' });

    const embedded = seed('marriage-registration');
    embedded.implementationCode = embedded.implementationCode.slice(0, 19) + '0700081002' + embedded.implementationCode.slice(29);
    expect(only(embedded)).toEqual({ path: 'implementationCode', message: 'embeds basic code 0700081002, but basicCode is 0700081001' });

    const alone = seed('marriage-registration');
    delete alone.basicCode;
    expect(only(alone)).toEqual({ path: 'basicCode', message: 'is required when an implementation code is given: the implementation code embeds it' });

    const shape = seed('marriage-registration');
    shape.implementationCode = 'not-a-code';
    expect(only(shape).path).toBe('implementationCode');
  });

  it('When two definitions share a code and version, or an implementation code, then the catalog names the file', () => {
    const a = item('pension-transfer');
    const b = item('housing-fund-transfer');
    expect(validateCatalog([{ file: 'a.json', item: a }, { file: 'b.json', item: { ...a } }, { file: 'c.json', item: { ...b, implementationCode: a.implementationCode } }])).toEqual([
      { path: 'b.json: version', message: 'pension-transfer version 1 is also defined in a.json' },
      { path: 'c.json: implementationCode', message: `${a.implementationCode} is already the implementation code of pension-transfer` },
    ]);
  });
});

describe('unified social credit codes (GB 32100)', () => {
  it('When the standard\'s example 91350100M000100Y43 is checked, then it is valid and its check character is 3', () => {
    expect(isValidUscc('91350100M000100Y43')).toBe(true);
    expect(usccCheckChar('91350100M000100Y4')).toBe('3');
  });

  it('When one character changes, or a letter outside the code\'s alphabet appears, then it is invalid', () => {
    expect(isValidUscc('91350100M000100Y44')).toBe(false);
    expect(isValidUscc('91350100M000200Y43')).toBe(false);
    expect(isValidUscc('91350100M0001O0Y43')).toBe(false); // O is not used (nor I, S, V, Z)
    expect(isValidUscc('91350100M000100Y4')).toBe(false);
    expect(() => usccCheckChar('91350100I000100Y4')).toThrow(RangeError);
  });

  it('When the seed\'s authority codes are checked, then each has the check character GB 32100 gives', () => {
    for (const i of BUILTIN_ITEMS) {
      const uscc = i.implementationCode!.slice(0, 18);
      expect(usccCheckChar(uscc.slice(0, 17)), i.code).toBe(uscc[17]);
    }
  });

  it('When fields are malformed or missing, then the rules across fields are still checked in the same run', () => {
    const raw = JSON.parse(JSON.stringify(item('pension-transfer'))) as Record<string, unknown>;
    delete raw.department;
    raw.type = 'nonsense';
    raw.promisedDays = 99;
    const r = validateItem(raw);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path).sort()).toEqual(['department', 'promisedDays', 'type']);
    expect(r.problems.find((p) => p.path === 'department')?.message).toBe('is required (string)');
  });

  it('When a definition carries a field the schema does not know, then it is a problem naming the field', () => {
    const r = validateItem({ ...item('pension-transfer'), sharedDate: true });
    expect(r).toEqual({ ok: false, problems: [{ path: '(item)', message: expect.stringContaining('unknown field sharedDate') }] });
  });
});
