/**
 * Abandoned sessions end: a session with nothing in flight and no call for its policy's
 * `idleMinutes` ends by itself, with its reason in the audit trail; a held call keeps it open until
 * its own deadline, and the idle clock restarts once that call settles. A file of its own: its worker
 * needs a runtime no earlier test's worker shutdown has touched.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHarness, testPolicy, type Harness } from './harness';

let h: Harness;
before(async () => {
  h = await createHarness('idle');
});
after(async () => {
  await h?.close();
});

const WRITE_INTENT = 'write numbered rows to the staging config';

describe('abandoned sessions end', () => {
  it('nothing in flight and no call for the policy\'s idleMinutes: the session ends with an audit event; a held call keeps it open until its deadline', async () => {
    const base = testPolicy({});
    const idle = testPolicy({
      idleMinutes: 0.05,
      // Every approval by the default rule, due in 9 s (the fixture gives volumes.delete a 15-minute rule of its own).
      approvers: { ...base.approvers, default: { ...base.approvers.default, timeoutMinutes: 0.15, escalateAfterMinutes: [0.1] }, rules: [] },
    });
    const worker = await h.worker({ policies: { idle } });
    await worker.runUntil(async () => {
      // A session that made one call and was left: it ends by itself, with its reason in the trail.
      const left = await h.gh.startSession({ agentId: 'idle-bot', owner: 'eng-007', intent: WRITE_INTENT, policyRef: 'idle' });
      assert.equal((await left.propose({ tool: 'test.slowWrite', args: { n: 1 }, reasoning: 'row' })).status, 'executed');
      const summary = (await left.workflow.result()) as { finalState: string; reason?: string };
      assert.deepEqual({ finalState: summary.finalState, reason: summary.reason }, { finalState: 'completed', reason: 'idle: no call for 3 s' });
      const ended = (await h.events(left.sessionId)).filter((e) => e.kind === 'session-ended');
      assert.equal(ended.length, 1);
      assert.equal((ended[0]!.detail as { reason?: string }).reason, 'idle: no call for 3 s');

      // A held call is in flight: the session outlives the idle time until the approval's deadline denies it.
      const held = await h.gh.startSession({ agentId: 'idle-bot', owner: 'eng-007', intent: 'clean up old volumes', policyRef: 'idle' });
      const started = Date.now();
      const outcome = await held.propose({ tool: 'volumes.delete', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' });
      assert.equal(outcome.status, 'expired');
      assert.ok(Date.now() - started >= 8_000, 'the held call waited for its deadline (9 s), past the idle time (3 s)');
      const heldSummary = (await held.workflow.result()) as { reason?: string };
      assert.equal(heldSummary.reason, 'idle: no call for 3 s');
      // The idle clock restarted when the held call settled: the session ended a full idle time after it.
      const times = await h.audit.pool.query<{ kind: string; at: Date }>("SELECT kind, at FROM events WHERE session_id = $1 AND kind IN ('expired', 'session-ended')", [held.sessionId]);
      const at = (kind: string) => times.rows.find((r) => r.kind === kind)!.at.getTime();
      assert.ok(at('session-ended') - at('expired') >= 3_000, 'ended at least the idle time after the held call settled');
    });
  });
});
