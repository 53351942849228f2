/**
 * Replay: the recorded histories of the sample scenarios (test/fixtures/histories, recorded by
 * its `record.ts`) replay clean against today's workflow code, and a deliberately changed
 * workflow fails with a determinism violation. No server needed. Histories recorded by earlier,
 * compatible workflow code stay in subfolders and must replay too. Those recorded before signed
 * decisions were removed on purpose: that version accepted unsigned votes and caller-chosen
 * policies, and its sessions must be drained, not resumed (README, "Upgrading").
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime, type WorkflowBundle } from '@temporalio/worker';
import { replayFile } from '../../worker/replay';
import { sessionBundle } from './harness';

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();

try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // installed already
}

describe('replay of recorded sessions', () => {
  // Today's workflow code, bundled once for every history (and, under `npm test`, shared with
  // the other files that need it).
  let workflowBundle: WorkflowBundle;
  before(async () => {
    workflowBundle = await sessionBundle();
  });

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 4, `expected recorded histories in ${DIR}`);
  });

  for (const file of files) {
    it(`replays ${file} against today's workflow code`, async () => {
      const outcome = await replayFile(join(DIR, file), { workflowBundle });
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.match(outcome.workflowId, /^session-/);
    });
  }

  it('a deliberately changed workflow fails with a determinism violation', async () => {
    const outcome = await replayFile(join(DIR, 'approval-approved.json'), { workflowsPath: require.resolve('./fixtures/changed-workflow') });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok === false && outcome.kind, 'nondeterminism');
  });
});
