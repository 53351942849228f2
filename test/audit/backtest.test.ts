/**
 * Backtesting candidate policies against history recorded in a real PostgreSQL: the recorded
 * policy reproduces every recorded decision, and candidates report what they would change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../audit/store';
import { backtest, formatBacktestReport, replayOutcome } from '../../audit/backtest';
import type { RecordedProposal } from '../../audit/backtest-history';
import { parseDuration } from '../../audit/duration';
import { AuditUsageError } from '../../audit/errors';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import type { ApprovalRequirement, PolicyDocument } from '../../policies';

const REQUIREMENT: ApprovalRequirement = { groups: ['g'], approversRequired: 1, escalateAfterMs: [], timeoutMs: 60_000, channel: '#c', fourEyes: false, unlocksTransition: false };
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { incidentSession, productionDocument, scriptSession } from './fixtures';

let db: TestDatabase;
const DAY = 86_400_000;
const now = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();
const since = new Date(now - 14 * DAY);

before(async () => {
  db = await createTestDatabase('audit_backtest');
  const store = new AuditStore(db.pool);
  const sessions = [
    incidentSession('b-incident', iso(now - 2 * DAY)),
    scriptSession({
      sessionId: 'b-ops', startedAt: iso(now - DAY), agentId: 'ops-bot',
      steps: [
        { proposal: { tool: 'volumes.list', args: {}, reasoning: 'look' } },
        { proposal: { tool: 'billing.query', args: { customer: 'zeta', period: '2026-09' }, reasoning: 'check' } },
        // The session's one critical action (budget.critical: 1 per 30 minutes).
        { proposal: { tool: 'services.restart', args: { service: 'api' }, reasoning: 'restart' }, human: { approver: 'eng-012', approve: true, afterMs: 30_000 } },
      ],
    }),
    // Outside the 14-day window: replayed for nothing, compared never.
    incidentSession('b-old', iso(now - 30 * DAY)),
  ];
  for (const s of sessions) {
    await store.startSession(s.record);
    await store.append(s.events);
  }
});
after(async () => {
  await db?.drop();
});

function candidate(edit: (doc: PolicyDocument) => PolicyDocument): PolicyDocument {
  return edit(structuredClone(productionDocument()));
}

describe('backtest', () => {
  test('the recorded policy reproduces every recorded decision', async () => {
    const r = await backtest(db.pool, { policy: productionDocument(), tools: SAMPLE_TOOL_INFO, since });
    assert.equal(r.sessionsReplayed, 2);
    assert.equal(r.proposalsCompared, 6);
    assert.equal(r.unchanged, 6);
    assert.deepEqual(r.changes, []);
    assert.deepEqual([r.newlyBlocked.count, r.newlyAllowed.count, r.newlyNeedingApproval.count], [0, 0, 0]);
  });

  test('blocking a read tool reports it newly blocked in the sessions that used it', async () => {
    const doc = candidate((d) => ({ ...d, alwaysBlocked: [...d.alwaysBlocked, 'billing.query'] }));
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    assert.equal(r.newlyBlocked.count, 2);
    assert.deepEqual([...r.newlyBlocked.sessions].sort(), ['b-incident', 'b-ops']);
    assert.ok(r.changes.every((c) => c.tool === 'billing.query' && c.before === 'allow' && c.after === 'deny'));
    assert.ok(r.changes.every((c) => c.rules.includes('tool.always-blocked')));
    assert.equal(r.newlyAllowed.count, 0);
    assert.match(formatBacktestReport(r), /newly blocked\s+2  sessions: /);
  });

  test('letting production writes run on their own reports them newly allowed', async () => {
    const doc = candidate((d) => ({ ...d, tiers: { ...d.tiers, write: { ...d.tiers.write, production: 'autonomous' } } }));
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    assert.deepEqual(r.changes.map((c) => [c.sessionId, c.tool, c.before, c.after]), [['b-ops', 'services.restart', 'approve', 'allow']]);
    assert.deepEqual(r.newlyAllowed, { count: 1, sessions: ['b-ops'] });
  });

  test('putting reads behind approval reports them newly needing approval', async () => {
    const doc = candidate((d) => ({ ...d, tiers: { ...d.tiers, read: { default: 'approval' } }, budget: { ...d.budget, critical: 10 } }));
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    assert.equal(r.newlyNeedingApproval.count, 3); // two billing.query, one volumes.list
    assert.deepEqual([...r.newlyNeedingApproval.sessions].sort(), ['b-incident', 'b-ops']);
    assert.equal(r.newlyBlocked.count + r.newlyAllowed.count, 0);
  });

  test('state carries through the replay: an approval-tier read spends the one critical action', async () => {
    // Same change under the recorded budget: the first read is now critical and closes the
    // session, so what followed it in that session is newly blocked.
    const doc = candidate((d) => ({ ...d, tiers: { ...d.tiers, read: { default: 'approval' } } }));
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since });
    const ops = r.changes.filter((c) => c.sessionId === 'b-ops').map((c) => [c.tool, c.after]);
    assert.deepEqual(ops, [['volumes.list', 'approve'], ['billing.query', 'deny'], ['services.restart', 'deny']]);
    assert.ok(r.changes.filter((c) => c.after === 'deny').every((c) => c.rules.includes('session.closed')));
  });

  test('a wider window includes the old session', async () => {
    const doc = candidate((d) => ({ ...d, alwaysBlocked: [...d.alwaysBlocked, 'billing.query'] }));
    const r = await backtest(db.pool, { policy: doc, tools: SAMPLE_TOOL_INFO, since: new Date(now - 60 * DAY) });
    assert.equal(r.sessionsReplayed, 3);
    assert.equal(r.newlyBlocked.count, 3);
  });
});

describe('replay assumptions', () => {
  const p = (outcome: RecordedProposal['outcome'], verdict: 'allow' | 'approve' | 'deny'): RecordedProposal => ({
    proposalSeq: 1, at: '2026-11-01T10:00:00Z', proposal: { tool: 't', args: {}, reasoning: '' }, facts: {},
    recorded: verdict === 'approve' ? { verdict, tier: 'approval', reasons: [], policyHash: 'h', approval: REQUIREMENT } : { verdict, tier: 'autonomous', reasons: [], policyHash: 'h' }, ...(outcome ? { outcome } : {}),
  });
  test('a refusal is a denial; what ran keeps its outcome; what never ran but now may is assumed to run', () => {
    assert.equal(replayOutcome('deny', p('executed', 'allow')), 'denied');
    assert.equal(replayOutcome('allow', p('failed', 'allow')), 'failed');
    assert.equal(replayOutcome('allow', p('denied', 'deny')), 'executed');
    assert.equal(replayOutcome('approve', p('denied', 'approve')), 'denied');
    assert.equal(replayOutcome('approve', p('expired', 'approve')), 'expired');
    assert.equal(replayOutcome('allow', p('expired', 'approve')), 'executed');
  });
});

describe('durations', () => {
  test('14d, 12h, 30m parse; anything else is a usage error', () => {
    assert.equal(parseDuration('14d'), 14 * DAY);
    assert.equal(parseDuration('12h'), 12 * 3_600_000);
    assert.equal(parseDuration('30m'), 30 * 60_000);
    for (const bad of ['', '14', 'd', '1.5d', '-3d', '0d', '14 days', '3y']) {
      assert.throws(() => parseDuration(bad), (e: unknown) => e instanceof AuditUsageError && e.message.startsWith(`malformed duration \`${bad}\``), bad);
    }
  });
});
