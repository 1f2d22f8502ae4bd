import { describe, expect, it } from 'vitest';
import { caseIdFromWorkflowId, caseWorkflowId, provinceTaskQueue } from '../../workflows/messages.js';

describe('workflow ids and queues', () => {
  it('When a case id becomes a workflow id, then the inverse gives it back and foreign ids give null', () => {
    const id = '2f1c9a52-7d1e-4d6b-9a0e-3c1b5f7e8a90';
    expect(caseWorkflowId(id)).toBe(`case:${id}`);
    expect(caseIdFromWorkflowId(caseWorkflowId(id))).toBe(id);
    expect(caseIdFromWorkflowId('order:42')).toBeNull();
  });

  it('When a province is named, then its activities run on province-<code>', () => {
    expect(provinceTaskQueue('510000')).toBe('province-510000');
  });
});
