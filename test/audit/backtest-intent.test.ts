/**
 * Backtesting reads each session's declared intent from its start event, so a candidate that turns
 * on `intent.writesNeedWriteIntent` shows the writes it would hold: a staging write that ran on its
 * own under a session that declared it would only look now needs approval (`intent.effect`); one
 * under an intent that asks for the change does not. A real PostgreSQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../audit/store';
import { backtest } from '../../audit/backtest';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import { compilePolicy, type PolicyDocument } from '../../policies';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { productionDocument, scriptSession } from './fixtures';

let db: TestDatabase;
const now = Date.now();
const WRITE = { tool: 'staging.writeConfig', args: { key: 'feature.flag', value: 'on' }, reasoning: 'set the flag' };

/** The shipped policy without the intent rule: what the sessions were recorded under. */
function withoutIntentRule(): PolicyDocument {
  const doc = structuredClone(productionDocument());
  const { writesNeedWriteIntent: _off, ...intent } = doc.intent;
  return { ...doc, intent };
}

before(async () => {
  db = await createTestDatabase('audit_backtest_intent');
  const store = new AuditStore(db.pool);
  const policy = compilePolicy(withoutIntentRule(), SAMPLE_TOOL_INFO);
  for (const [sessionId, intent] of [['bi-look', 'look at the staging config'], ['bi-set', 'set the feature flag in the staging config']] as const) {
    const s = scriptSession({ sessionId, startedAt: new Date(now - 60_000).toISOString(), intent, policy, steps: [{ proposal: WRITE }] });
    await store.startSession(s.record);
    await store.append(s.events);
  }
});
after(async () => {
  await db?.drop();
});

test('a candidate with writesNeedWriteIntent holds the write of the session whose intent only looks', async () => {
  const recorded = await backtest(db.pool, { policy: withoutIntentRule(), tools: SAMPLE_TOOL_INFO, since: new Date(now - 3_600_000) });
  assert.deepEqual([recorded.proposalsCompared, recorded.unchanged], [2, 2]);
  const doc = productionDocument();
  assert.equal(doc.intent.writesNeedWriteIntent, true, 'the shipped policy has the rule on');
  const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since: new Date(now - 3_600_000) });
  assert.deepEqual(r.changes.map((c) => [c.sessionId, c.tool, c.before, c.after, c.rules.includes('intent.effect')]), [['bi-look', 'staging.writeConfig', 'allow', 'approve', true]]);
  assert.deepEqual(r.newlyNeedingApproval, { count: 1, sessions: ['bi-look'] });
});
