/**
 * Replay: the recorded histories of the sample scenarios (test/fixtures/histories, recorded by
 * its `record.ts`) replay clean against today's workflow code, and a deliberately changed
 * workflow fails with a determinism violation. No server needed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { replayFile } from '../../worker/replay';

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR).filter((f) => f.endsWith('.json')).sort();

try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // installed already
}

describe('replay of recorded sessions', () => {
  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 4, `expected recorded histories in ${DIR}`);
  });

  for (const file of files) {
    it(`replays ${file} against today's workflow code`, async () => {
      const outcome = await replayFile(join(DIR, file));
      assert.deepEqual(outcome, { ok: true, workflowId: join(DIR, file) });
    });
  }

  it('a deliberately changed workflow fails with a determinism violation', async () => {
    const outcome = await replayFile(join(DIR, 'approval-approved.json'), { workflowsPath: require.resolve('./fixtures/changed-workflow') });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok === false && outcome.kind, 'nondeterminism');
  });
});
