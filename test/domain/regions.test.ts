import { describe, expect, it } from 'vitest';
import { isRegionCode, provinceOf, regionCovers } from '../../domain/regions.js';

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
});
