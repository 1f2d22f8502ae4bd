// Idempotency keys of province calls: from the case, the step and a revision, never the attempt.
import { describe, expect, it } from 'vitest';
import { provinceKey } from '../../workflows/case/keys.js';

describe('province idempotency keys', () => {
  it('When a step is called, then its key names the case and the step, as cases taken in before revisions had it', () => {
    expect(provinceKey('c1', 'create')).toBe('c1:create');
    expect(provinceKey('c1', 'submit')).toBe('c1:submit');
    expect(provinceKey('c1', 'material', 'resident-id-card')).toBe('c1:material:resident-id-card');
    expect(provinceKey('c1', 'material', 'resident-id-card', 0)).toBe('c1:material:resident-id-card');
  });

  it('When a material is sent again after a correction, then the revision makes it a new request', () => {
    const first = provinceKey('c1', 'material', 'resident-id-card');
    const again = provinceKey('c1', 'material', 'resident-id-card', 1);
    expect(again).toBe('c1:material:resident-id-card:r1');
    expect(again).not.toBe(first);
    expect(provinceKey('c1', 'material', 'resident-id-card', 2)).not.toBe(again);
  });
});
