// Replays recorded histories against the current workflow code: a change that would make an
// old case take a different path (non-determinism) fails here, before it reaches a worker.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { Worker } from '@temporalio/worker';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { parseKeyring } from '../../config/secrets.js';
import { encryptedDataConverter } from '../../crypto/payloadCodec.js';

const DIR = path.resolve('test/fixtures/histories');
const keyring = parseKeyring(fs.readFileSync(path.join(DIR, 'fixture-keys.json'), 'utf8'), 'fixture-keys.json');
const fixtures = fs.readdirSync(DIR).filter((f) => f.startsWith('case-') && f.endsWith('.json')).sort();

describe('replay of recorded case histories', () => {
  it('When the fixtures are listed, then the happy path and the rejection are there', () => {
    expect(fixtures).toEqual(expect.arrayContaining(['case-approved-electronic.json', 'case-rejected.json']));
  });

  it('When every recorded history is replayed on the current workflow code, then none diverges', async () => {
    const histories = fixtures.map((file) => ({
      workflowId: file,
      history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'))),
    }));
    const results = [];
    for await (const r of Worker.runReplayHistories(
      { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: encryptedDataConverter(keyring) },
      histories,
    )) {
      results.push({ workflowId: r.workflowId, error: r.error ? String(r.error) : null });
    }
    expect(results).toEqual(fixtures.map((workflowId) => ({ workflowId, error: null })));
  });
});
