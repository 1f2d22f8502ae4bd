import { describe, expect, it } from 'vitest';
import { isRegionCode, provinceOf, regionCovers, regionLikePattern } from '../../domain/regions.js';

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
