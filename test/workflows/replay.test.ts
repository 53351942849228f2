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
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { historyFromJson, readHistoryFile, replayFile, replayHistories, type HistoryToReplay, type ReplayOutcome } from '../../worker/replay';
import { sessionBundle } from './harness';

interface HistoryEvent {
  readonly workflowTaskCompletedEventAttributes?: unknown;
  readonly workflowTaskScheduledEventAttributes?: unknown;
  readonly markerRecordedEventAttributes?: { readonly markerName: string; readonly details: Record<string, { readonly payloads: { readonly data: string }[] }> };
}

/** The patch id of a `core_patch` marker (its details hold one JSON payload). */
function patchId(e: HistoryEvent): string {
  const payload = Object.values(e.markerRecordedEventAttributes?.details ?? {})[0]?.payloads[0];
  return payload ? (JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8')) as { id: string }).id : '';
}

const DIR = join(__dirname, '..', 'fixtures', 'histories');
const files = readdirSync(DIR, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')).sort();

try {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
} catch {
  // installed already
}

/** A recorded history whose first activity has another type than the one the code schedules there. */
async function tampered(file: string): Promise<HistoryToReplay> {
  const json = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { events: { activityTaskScheduledEventAttributes?: { activityType: { name: string } } }[] };
  json.events.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!.activityType.name = 'notTheActivityThatRan';
  return { history: historyFromJson(json), workflowId: (await readHistoryFile(join(DIR, file))).workflowId };
}

describe('replay of recorded sessions', () => {
  // Today's workflow code, bundled once for every history (and, under `npm test`, shared with
  // the other files that need it).
  // Every history replayed in one replay worker (starting one costs about as much as a replay),
  // a tampered one second: each test below checks its file's outcome.
  const TAMPERED = '(tampered) autonomous-and-denied.json';
  const outcomes = new Map<string, ReplayOutcome>();
  before(async () => {
    const workflowBundle = await sessionBundle();
    const names = [files[0]!, TAMPERED, ...files.slice(1)];
    const histories = await Promise.all(names.map((name) => (name === TAMPERED ? tampered('autonomous-and-denied.json') : readHistoryFile(join(DIR, name)))));
    let i = 0;
    for await (const outcome of replayHistories(histories, { workflowBundle })) outcomes.set(names[i++]!, outcome);
  });

  it('a history that does not match the code fails in the shared replay worker, and the replays after it go on', () => {
    const outcome = outcomes.get(TAMPERED);
    assert.equal(outcome?.ok === false && outcome.kind, 'nondeterminism', JSON.stringify(outcome));
    assert.equal(outcomes.size, files.length + 1);
  });

  it('has recorded histories to replay', () => {
    assert.ok(files.length >= 4, `expected recorded histories in ${DIR}`);
  });

  for (const file of files) {
    it(`replays ${file} against today's workflow code`, () => {
      const outcome = outcomes.get(file);
      assert.ok(outcome, `no outcome for ${file}`);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      assert.match(outcome.workflowId, /^session-/);
    });
  }

  // A `patched` call after a handler's await can come, on replay, before the SDK knows the history's
  // marker (workflows/patches.ts): runs of today's code record their one marker in the first task.
  for (const file of files.filter((f) => !f.includes('/'))) {
    it(`${file} records its patch markers in its first workflow task only`, () => {
      const { events } = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as { events: HistoryEvent[] };
      const firstTaskEnd = events.findIndex((e) => e.workflowTaskCompletedEventAttributes !== undefined);
      const patches = events.flatMap((e, i) => (e.markerRecordedEventAttributes?.markerName === 'core_patch' ? [{ i, id: patchId(e) }] : []));
      assert.deepEqual(patches.map((p) => p.id), ['patches-at-start']);
      assert.ok(patches.every((p) => p.i > firstTaskEnd && p.i < events.findIndex((e, j) => j > firstTaskEnd && e.workflowTaskScheduledEventAttributes !== undefined)), JSON.stringify(patches));
    });
  }

  it('workflow code takes `patched` only in workflows/patches.ts', () => {
    const root = join(__dirname, '..', '..', 'workflows');
    const callers = readdirSync(root).filter((f) => f.endsWith('.ts') && f !== 'patches.ts' && /\bpatched\(/.test(readFileSync(join(root, f), 'utf8')));
    assert.deepEqual(callers, []);
  });

  it('a deliberately changed workflow fails with a determinism violation', async () => {
    const outcome = await replayFile(join(DIR, 'approval-approved.json'), { workflowsPath: require.resolve('./fixtures/changed-workflow') });
    assert.equal(outcome.ok, false);
    assert.equal(outcome.ok === false && outcome.kind, 'nondeterminism');
  });
});
