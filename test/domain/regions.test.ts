import { describe, expect, it } from 'vitest';
import { isRegionCode, provinceOf, regionCovers, regionLikePattern } from '../../domain/regions.js';
import { cityOf, regionScope, regionScopeCovers } from '../../domain/regionScope.js';

describe('administrative division codes (GB/T 2260)', () => {
  it('When codes are checked, then six digits under a known province pass', () => {
    expect(isRegionCode('440000')).toBe(true);
    expect(isRegionCode('440106')).toBe(true);
    expect(isRegionCode('990000')).toBe(false);
    expect(isRegionCode('4401')).toBe(false);
  });

  it('When a staff scope is compared with a case region, then a province covers its cities and a city its districts', () => {
    expect(provinceOf('440106')).toBe('440000');
    expect(regionCovers('440000', '440106')).toBe(true);
    expect(regionCovers('440100', '440106')).toBe(true);
    expect(regionCovers('440100', '440300')).toBe(false);
    expect(regionCovers('440106', '440100')).toBe(false);
    expect(regionCovers('510000', '440100')).toBe(false);
  });

  it('When a scope becomes a SQL LIKE pattern, then it matches exactly the regions regionCovers admits', () => {
    const like = (pattern: string, value: string) => new RegExp(`^${pattern.replace(/%/g, '.*')}$`).test(value);
    const regions = ['440000', '440100', '440106', '440300', '510100', '110000', '440104'];
    for (const scope of ['440000', '440100', '440106', '510000']) {
      expect(regionLikePattern(scope)).not.toContain('_');
      for (const region of regions) expect(like(regionLikePattern(scope), region)).toBe(regionCovers(scope, region));
    }
    expect(() => regionLikePattern("44%' OR 1=1")).toThrow();
  });
});

describe('region scope by equality', () => {
  it('When a scope is read as a level and a code, then it admits exactly the regions regionCovers admits', () => {
    const regions = ['440000', '440100', '440106', '440300', '440301', '441900', '440001', '510100', '510000', '110000', '110101', '440104', '450100', '654000', '654321'];
    const scopes = ['440000', '440100', '440106', '440300', '441900', '510000', '110000', '110101', '654000', '654300', '654321'];
    for (const scope of scopes) {
      for (const region of regions) expect(regionScopeCovers(regionScope(scope), region), `${scope} → ${region}`).toBe(regionCovers(scope, region));
    }
    // Every pair of 6-digit codes under a few prefixes, exhaustively on the last two places of each level.
    const codes: string[] = [];
    for (const p of ['44', '51']) for (const c of ['00', '01', '19']) for (const d of ['00', '06', '99']) codes.push(`${p}${c}${d}`);
    for (const scope of codes) for (const region of codes) expect(regionScopeCovers(regionScope(scope), region)).toBe(regionCovers(scope, region));
  });

  it('When a scope is read, then its level is province, city or county and its code is the scope itself', () => {
    expect(regionScope('440000')).toEqual({ level: 'province', code: '440000' });
    expect(regionScope('440100')).toEqual({ level: 'city', code: '440100' });
    expect(regionScope('440106')).toEqual({ level: 'county', code: '440106' });
    expect(cityOf('440106')).toBe('440100');
    expect(cityOf('440000')).toBe('440000');
    expect(() => regionScope("44' OR 1=1")).toThrow();
    expect(() => regionScope('4401')).toThrow();
  });
});
