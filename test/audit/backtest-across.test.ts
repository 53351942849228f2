/**
 * Backtesting a candidate with agent-wide and owner-wide rules (`agent:`, `owner:`): sessions are
 * replayed together, in time order, so a budget or a transition counts the calls of every session
 * of the agent (a sub-agent's under its root agent) or of the owner, as the live ledgers do.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../audit/store';
import { backtest } from '../../audit/backtest';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import type { PolicyDocument } from '../../policies';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { productionDocument, scriptSession } from './fixtures';

let db: TestDatabase;
const HOUR = 3_600_000;
const now = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();
const since = new Date(now - 7 * 24 * HOUR);
const look = { tool: 'volumes.list', args: {}, reasoning: 'look' };
const query = { tool: 'billing.query', args: { customer: 'acme', period: '2026-10' }, reasoning: 'check' };

before(async () => {
  db = await createTestDatabase('audit_backtest_across');
  const store = new AuditStore(db.pool);
  // Before the window, twin-bot; in it, two sessions of twin-bot, one of its sub-agents, one of
  // another agent; all of owner team-a.
  const sessions = [
    scriptSession({ sessionId: 'x-0', startedAt: iso(since.getTime() - 2 * HOUR), agentId: 'twin-bot', owner: 'team-a', steps: [{ proposal: query }] }),
    scriptSession({ sessionId: 'x-1', startedAt: iso(now - 72 * HOUR), agentId: 'twin-bot', owner: 'team-a', steps: [{ proposal: look }, { proposal: query }] }),
    scriptSession({ sessionId: 'x-2', startedAt: iso(now - 48 * HOUR), agentId: 'twin-bot', owner: 'team-a', steps: [{ proposal: query }] }),
    scriptSession({ sessionId: 'x-3', startedAt: iso(now - 24 * HOUR), agentId: 'other-bot', owner: 'team-a', steps: [{ proposal: query }] }),
  ];
  const child = scriptSession({ sessionId: 'x-1-child', startedAt: iso(now - 36 * HOUR), agentId: 'twin-bot.helper', owner: 'team-a', steps: [{ proposal: query }] });
  for (const s of sessions) {
    await store.startSession(s.record);
    await store.append(s.events);
  }
  await store.startSession({ ...child.record, parentSessionId: 'x-1' });
  await store.append(child.events);
});
after(async () => {
  await db?.drop();
});

function withRules(rules: Pick<PolicyDocument, 'agent' | 'owner'>): PolicyDocument {
  return { ...structuredClone(productionDocument()), ...rules };
}

const changed = (r: Awaited<ReturnType<typeof backtest>>) => r.changes.map((c) => [c.sessionId, c.tool, c.before, c.after, c.rules.join(',')]);

describe('backtest with cross-session rules', () => {
  test('without them, replaying sessions together reproduces every recorded decision', async () => {
    const r = await backtest(db.pool, { policy: productionDocument(), tools: SAMPLE_TOOL_INFO, since });
    assert.equal(r.sessionsReplayed, 4);
    assert.deepEqual([r.proposalsCompared, r.unchanged], [5, 5]);
  });

  test('an agent budget counts the agent’s calls in every session, its sub-agent’s and those just before the window too', async () => {
    const doc = withRules({ agent: { budgets: [{ tools: ['billing.query'], max: 1, windowMinutes: 7 * 24 * 60 }], transitions: [] } });
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    // x-0's query, 2 h before the window, is twin-bot's one: every later one of twin-bot's is over
    // (its sub-agent's too); other-bot's is its own. x-0 is replayed, not compared.
    assert.equal(r.sessionsReplayed, 5);
    assert.deepEqual(changed(r), [
      ['x-1', 'billing.query', 'allow', 'deny', 'agent.budget'],
      ['x-1-child', 'billing.query', 'allow', 'deny', 'agent.budget'],
      ['x-2', 'billing.query', 'allow', 'deny', 'agent.budget'],
    ]);
  });

  test('an owner budget counts every agent of the owner, in time order', async () => {
    const doc = withRules({ owner: { budgets: [{ id: 'team queries', tools: ['billing.query'], max: 3, windowMinutes: 7 * 24 * 60 }], transitions: [] } });
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    // team-a's queries in time: x-0, x-1 (72 h ago), x-2 (48 h), the sub-agent's (36 h), other-bot's (24 h).
    assert.deepEqual(changed(r), [
      ['x-1-child', 'billing.query', 'allow', 'deny', 'owner.budget'],
      ['x-3', 'billing.query', 'allow', 'deny', 'owner.budget'],
    ]);
  });

  test('a transition split across an agent’s sessions is denied; another agent’s is not', async () => {
    const doc = withRules({ agent: { budgets: [], transitions: [{ from: 'volumes.list', to: 'billing.query', within: { minutes: 7 * 24 * 60 } }] } });
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    assert.deepEqual(changed(r), [
      ['x-1', 'billing.query', 'allow', 'deny', 'agent.sequence'],
      ['x-1-child', 'billing.query', 'allow', 'deny', 'agent.sequence'],
      ['x-2', 'billing.query', 'allow', 'deny', 'agent.sequence'],
    ]);
  });
});
