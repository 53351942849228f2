/**
 * Backtesting against the tool catalog each session recorded, and reading the history in bounded
 * pieces: a session that ran with a tool outside the sample catalog (an upstream MCP tool, a custom
 * catalog) is replayed against its own catalog, so a candidate that loosens a rule on that tool
 * shows it; only a session that recorded no catalog falls back, and the report says so. The replay
 * reads one session at a time, in pages, and never the agent's reasoning nor a call's result.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pool } from 'pg';
import { AuditStore } from '../../audit/store';
import { backtest, formatBacktestReport, replayOutcome } from '../../audit/backtest';
import { BACKTEST_PAGE_ROWS, recordedSession } from '../../audit/backtest-history';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import { compilePolicy, type PolicyDocument } from '../../policies';
import type { ToolInfo } from '../../policies/types';
import type { AuditEventInput } from '../../audit/types';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { productionDocument, scriptSession } from './fixtures';

const DAY = 86_400_000;
const now = Date.now();
const iso = (ms: number): string => new Date(ms).toISOString();
const since = new Date(now - 14 * DAY);

/** A tool no sample catalog has, bounded by the recorded policy: at most 100 contacts an export. */
const CRM_EXPORT: ToolInfo = {
  name: 'crm.exportContacts', description: 'export contacts', effect: 'read', environment: 'production', resource: 'crm', estimatesBlastRadius: false,
};
const CATALOG: readonly ToolInfo[] = [...SAMPLE_TOOL_INFO, CRM_EXPORT];

function bounded(): PolicyDocument {
  const doc = structuredClone(productionDocument());
  return { ...doc, tools: { ...doc.tools, 'crm.exportContacts': { args: { limit: { max: 100 } } } } } as PolicyDocument;
}

function unbounded(): PolicyDocument {
  const doc = bounded();
  const { 'crm.exportContacts': _dropped, ...tools } = doc.tools;
  return { ...doc, tools };
}

describe('backtest against each session\'s recorded catalog', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase('audit_backtest_catalog');
    const store = new AuditStore(db.pool);
    const custom = scriptSession({
      sessionId: 'k-custom', startedAt: iso(now - 2 * DAY), policy: compilePolicy(bounded(), CATALOG),
      steps: [
        { proposal: { tool: 'crm.exportContacts', args: { limit: 5000 }, reasoning: 'export everyone' } },
        { proposal: { tool: 'crm.exportContacts', args: { limit: 10 }, reasoning: 'export a few' } },
      ],
    });
    assert.equal(custom.decisions[0]!.verdict, 'deny', 'the recorded bound refused the large export');
    assert.equal(custom.decisions[1]!.verdict, 'allow');
    // Started before sessions recorded their catalog: only the fallback can judge it.
    const old = scriptSession({
      sessionId: 'k-no-catalog', startedAt: iso(now - DAY),
      steps: [{ proposal: { tool: 'volumes.list', args: {}, reasoning: 'look' } }],
    });
    await store.startSession(custom.record);
    await store.append(custom.events);
    await store.startSession({ ...old.record, tools: undefined });
    await store.append(old.events);
  });
  after(async () => {
    await db?.drop();
  });

  test('the recorded policy reproduces every decision, the custom tool\'s included', async () => {
    const r = await backtest(db.pool, { policy: bounded(), tools: SAMPLE_TOOL_INFO, since });
    assert.deepEqual([r.sessionsReplayed, r.proposalsCompared, r.unchanged], [2, 3, 3]);
    assert.deepEqual(r.changes, []);
  });

  test('a candidate without the bound reports the refused export newly allowed', async () => {
    const r = await backtest(db.pool, { policy: unbounded(), tools: SAMPLE_TOOL_INFO, since });
    assert.deepEqual(r.changes.map((c) => [c.sessionId, c.proposalSeq, c.tool, c.before, c.after]), [['k-custom', 1, 'crm.exportContacts', 'deny', 'allow']]);
    assert.deepEqual(r.newlyAllowed, { count: 1, sessions: ['k-custom'] });
    assert.equal(r.catalogsRecorded, 1);
    assert.match(formatBacktestReport(r), /newly allowed\s+1  sessions: k-custom/);
  });

  test('a session that recorded no catalog is replayed against the fallback, and the report says so', async () => {
    const r = await backtest(db.pool, { policy: unbounded(), tools: SAMPLE_TOOL_INFO, since });
    assert.deepEqual(r.withoutCatalog, { count: 1, sessions: ['k-no-catalog'] });
    assert.match(formatBacktestReport(r), /^1 session\(s\) recorded no tool catalog: replayed against the sample catalog/m);
  });
});

describe('backtest reads a flood of proposals in bounded pieces', () => {
  let db: TestDatabase;
  const STEPS = 700;
  const WORDS = 'w'.repeat(4000);
  before(async () => {
    db = await createTestDatabase('audit_backtest_flood');
    const store = new AuditStore(db.pool);
    const flood = scriptSession({
      sessionId: 'k-flood', startedAt: iso(now - 3 * DAY), stepGapMs: 2 * 60_000,
      steps: Array.from({ length: STEPS }, (_, i) => ({ proposal: { tool: 'volumes.list', args: { page: i }, reasoning: WORDS } })),
    });
    // What the agent wrote and what its calls returned: kilobytes a call.
    const events = flood.events.map((e) => (e.kind === 'executed' ? { ...e, detail: { result: { rows: WORDS } } } : e));
    await store.startSession(flood.record);
    for (let i = 0; i < events.length; i += 500) await store.append(events.slice(i, i + 500));
  });
  after(async () => {
    await db?.drop();
  });

  test('no reasoning, no result, and at most a page of events a query, in one snapshot; every call is compared', async () => {
    const seen: { rows: number; bytes: number; text: string }[] = [];
    const statements: string[] = [];
    const watched = {
      connect: async () => {
        const client = await db.pool.connect();
        return {
          query: async (text: string, values?: unknown[]) => {
            const result = await client.query(text, values);
            if (values === undefined) statements.push(text);
            else seen.push({ rows: result.rows.length, bytes: JSON.stringify(result.rows).length, text });
            return result;
          },
          release: () => client.release(),
        };
      },
    } as unknown as Pool;
    const r = await backtest(watched, { policy: productionDocument(), tools: SAMPLE_TOOL_INFO, since });
    assert.deepEqual([r.sessionsReplayed, r.proposalsCompared, r.unchanged], [1, STEPS, STEPS]);
    assert.deepEqual(statements, ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', 'COMMIT'], 'every query in one read-only snapshot');
    assert.ok(seen.length > 2, 'the events were read in more than one page');
    for (const q of seen) {
      assert.ok(q.rows <= BACKTEST_PAGE_ROWS, `a query returned ${q.rows} rows`);
      assert.ok(q.bytes < 512 * 1024, `a query returned ${q.bytes} bytes: ${q.text.slice(0, 80)}`);
    }
    const total = seen.reduce((n, q) => n + q.bytes, 0);
    assert.ok(total < STEPS * WORDS.length / 4, `read ${total} bytes: more than the replay uses`);
  });
});

describe('an approved call its re-check refused just before running', () => {
  test('was denied: nothing ran, and a candidate that still asks assumes the same again', () => {
    const approve = { verdict: 'approve', tier: 'approval', reasons: [{ rule: 'tier.approval', message: 'held' }], policyHash: 'h' } as const;
    const deny = { verdict: 'deny', tier: 'approval', reasons: [{ rule: 'budget.critical', message: 'spent' }], policyHash: 'h' } as const;
    const at = '2026-11-01T10:00:00.000Z';
    const e = (seq: number, kind: AuditEventInput['kind'], extra: Partial<AuditEventInput> = {}): AuditEventInput =>
      ({ sessionId: 's', seq, kind, at, ...(kind === 'session-started' ? {} : { proposalSeq: 1, tool: 'services.restart' }), ...extra }) as AuditEventInput;
    const trail = [
      e(1, 'session-started'),
      e(2, 'proposed', { args: { service: 'api' }, reasoning: 'restart' }),
      e(3, 'decided', { decision: approve as never }),
      e(4, 'approval-requested', { approvalId: 's:1' }),
      e(5, 'approved', { approvalId: 's:1', approver: 'eng-012' }),
      e(6, 'decided', { decision: deny as never, approvalId: 's:1', detail: { stage: 'before-run' } }),
    ];
    const [p] = recordedSession({ sessionId: 's', startedAt: at, principal: 'a', owner: 'o' }, trail).proposals;
    assert.equal(p!.recorded?.verdict, 'approve', 'compared with the decision the call was held under');
    assert.equal(p!.outcome, 'denied');
    assert.equal(replayOutcome('approve', p!), 'denied');
  });
});
