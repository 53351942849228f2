/**
 * Decision-level traces and the sessions listing, read back from a real PostgreSQL.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../audit/store';
import { UnknownSessionError } from '../../audit/errors';
import { listSessions } from '../../audit/queries';
import { buildTrace, formatArgs, formatMs, loadTrace, renderTraceText, traceToJson } from '../../audit/trace';
import type { SessionView } from '../../audit/rows';
import type { Decision } from '../../policies/types';
import { eventAlerts } from '../../audit/alerts';
import type { AuditEventInput } from '../../audit/types';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { incidentSession, scriptSession } from './fixtures';
import type { RuleId } from '../../policies/rules';

let db: TestDatabase;
let store: AuditStore;

before(async () => {
  db = await createTestDatabase('audit_trace');
  store = new AuditStore(db.pool);
  const s = incidentSession('t-incident', '2026-11-01T10:00:00Z');
  await store.startSession(s.record);
  await store.append(s.events);
  await store.raiseAlert('t-incident', 'intent', 'deviation 72% from the declared intent', '2026-11-01T10:00:05Z');
  await store.patchSession('t-incident', {
    mode: 'read-only', finalState: 'completed', endedAt: s.events[s.events.length - 1]!.at,
    counters: { proposals: 3, executed: 1, denied: 2, failed: 0, expired: 0, tokens: 2100 }, intentScore: 0.28, flaggedForReview: true,
  });
  const other = scriptSession({
    sessionId: 't-other', startedAt: '2026-11-02T09:00:00Z', agentId: 'ops-bot', owner: 'eng-012', intent: 'restart a service',
    steps: [
      { proposal: { tool: 'staging.writeConfig', args: { key: 'LOG_LEVEL', value: 'debug' }, reasoning: 'more logs' }, fail: 'staging is read-only today', latencyMs: 40 },
      { proposal: { tool: 'services.restart', args: { service: 'api' }, reasoning: 'restart it' } },
    ],
  });
  await store.startSession(other.record);
  await store.append(other.events.slice(0, 7)); // still running: the second proposal waits for approval
});
after(async () => {
  await db?.drop();
});

describe('trace text', () => {
  test('tells each proposal as one sentence with its decision, approval and outcome', async () => {
    const text = renderTraceText(await loadTrace(db.pool, 't-incident'));
    const lines = text.split('\n');
    assert.match(lines[0]!, /^session t-incident · agent billing-bot · owner eng-007$/);
    assert.match(text, /intent: "clean up test billing records"/);
    assert.match(text, /mode read-only · ended completed · 2m 20s · intent alignment 0\.28 · FLAGGED FOR REVIEW/);
    const del = lines.find((l) => l.includes('#2 '));
    assert.ok(del, text);
    assert.match(del, /\+4\.0 s  #2 the agent proposed billing\.deleteRecords\(filter=\{"period":"2026-10","test":true\}\) \(est\. 14,200 rows\)/);
    assert.match(del, /the policy decided APPROVAL \(tier\.destructive: [^;]+; blast-radius\.limit: /);
    assert.match(del, /approval requested from data-owners; data-lee denied after 2m 13s: 'not test data'; nothing ran$/);
    assert.match(text, /#1 the agent proposed billing\.query\(customer="acme", period="2026-10"\) \[1,200 tokens\]; the policy decided ALLOW \(tier\.read: .*\); it ran in 12 ms$/m);
    assert.match(text, /#3 the agent proposed audit\.modify\(entry=42\); the policy decided DENY \(tool\.always-blocked: [^;]+;.*\); nothing ran/);
    assert.match(text, /the session ended: completed: 'done'/);
    assert.match(text, /alerts:\n  2026-11-01T10:00:05\.000Z intent: deviation 72% from the declared intent/);
  });

  test('a failed call and a pending approval read as such', async () => {
    const text = renderTraceText(await loadTrace(db.pool, 't-other'));
    assert.match(text, /#1 the agent proposed staging\.writeConfig\(key="LOG_LEVEL", value="debug"\); the policy decided ALLOW .*; it failed after 40 ms: 'staging is read-only today'/);
    assert.match(text, /#2 the agent proposed services\.restart\(service="api"\); the policy decided APPROVAL .*; approval requested from on-call; waiting for approval$/m);
    assert.match(text, /mode normal · running/);
  });

  test('reads neither the agent\'s reasoning nor a tool\'s result: the story tells neither', async () => {
    const trace = await loadTrace(db.pool, 't-incident');
    const events = trace.actions.flatMap((a) => a.events);
    assert.ok(events.some((e) => e.kind === 'executed' && e.latencyMs === 12), 'the executed call is still told');
    assert.deepEqual(events.filter((e) => e.reasoning !== undefined || e.detail?.result !== undefined), []);
    assert.ok(events.some((e) => e.detail?.blastRadius === 14_200), 'the rest of the detail is kept');
  });

  test('an unknown session is a clear error', async () => {
    await assert.rejects(loadTrace(db.pool, 'nope'), (e: unknown) => e instanceof UnknownSessionError && e.message === 'unknown session `nope`: no such session in the audit trail');
  });
});

describe('trace JSON', () => {
  test('has the seed shape', async () => {
    const json = traceToJson(await loadTrace(db.pool, 't-incident'));
    assert.deepEqual(Object.keys(json).sort(), ['alertsGenerated', 'declaredIntent', 'executedActions', 'finalState', 'intentDeviation', 'sessionId', 'totalTime']);
    assert.equal(json.sessionId, 't-incident');
    assert.equal(json.declaredIntent, 'clean up test billing records');
    assert.equal(json.intentDeviation, 72);
    // The alerts table's row, then the trail's own: the always-blocked tool the agent tried.
    assert.deepEqual(json.alertsGenerated, [
      'intent: deviation 72% from the declared intent',
      'tool.always-blocked: audit.modify denied: `audit.*` is always blocked by policy; no approver can unlock it',
    ]);
    assert.equal(json.totalTime, 140_000);
    assert.equal(json.finalState, 'completed');
    assert.equal(json.executedActions.length, 3);
    const [q, del, blocked] = json.executedActions;
    assert.deepEqual(
      { timestamp: q!.timestamp, action: q!.action, parameters: q!.parameters, result: q!.result, tokenCost: q!.tokenCost, latencyMs: q!.latencyMs },
      { timestamp: '2026-11-01T10:00:02.000Z', action: 'billing.query', parameters: { customer: 'acme', period: '2026-10' }, result: 'success', tokenCost: 1200, latencyMs: 12 },
    );
    assert.equal(del!.result, 'blocked');
    assert.equal(del!.verdict, 'approve');
    assert.equal(del!.latencyMs, 133_000);
    assert.ok(del!.rules.includes('tier.destructive'));
    assert.equal(blocked!.result, 'blocked');
    assert.ok(blocked!.rules.includes('tool.always-blocked'));
  });

  test('a failed call is an error result; an unscored, running session says so', async () => {
    const json = traceToJson(await loadTrace(db.pool, 't-other'));
    assert.deepEqual(json.executedActions.map((a) => a.result), ['error', 'pending']);
    assert.equal(json.intentDeviation, null);
    assert.equal(json.finalState, 'running');
  });
});

describe('an approved call refused by its re-check just before running', () => {
  // What the workflow records (workflows/proposals.ts): the approval, then one more `decided` at
  // `stage: 'before-run'`; a deny there is the end of the call, with no `denied` event.
  const at = (s: number) => new Date(Date.parse('2026-11-03T10:00:00Z') + s * 1000).toISOString();
  const session: SessionView = {
    sessionId: 't-recheck', workflowId: 'session-t-recheck', agentId: 'ops-bot', owner: 'eng-012', intent: 'restart a service',
    policyHash: 'h'.repeat(64), mode: 'normal', flaggedForReview: false, counters: {}, startedAt: at(0),
  };
  const held: Decision = {
    verdict: 'approve', tier: 'approval', reasons: [{ rule: 'tier.write', message: 'production writes need approval' }], policyHash: 'h',
    approval: { groups: ['on-call'], approversRequired: 1, escalateAfterMs: [], timeoutMs: 900_000, channel: '#ops', fourEyes: false, unlocksTransition: false },
  };
  const refused: Decision = { verdict: 'deny', tier: 'approval', reasons: [{ rule: 'budget.critical', message: 'the critical budget is spent' }], policyHash: 'h' };
  const allowed: Decision = { verdict: 'allow', tier: 'approval', reasons: [], policyHash: 'h' };
  const call = (then: readonly AuditEventInput[]): AuditEventInput[] => [
    { sessionId: 't-recheck', seq: 1, kind: 'session-started', at: at(0) },
    { sessionId: 't-recheck', seq: 2, kind: 'proposed', at: at(1), proposalSeq: 1, tool: 'services.restart', args: { service: 'api' }, reasoning: 'restart it' },
    { sessionId: 't-recheck', seq: 3, kind: 'decided', at: at(1), proposalSeq: 1, tool: 'services.restart', decision: held },
    { sessionId: 't-recheck', seq: 4, kind: 'approval-requested', at: at(1), proposalSeq: 1, tool: 'services.restart', approvalId: 't-recheck:1' },
    { sessionId: 't-recheck', seq: 5, kind: 'approved', at: at(31), proposalSeq: 1, tool: 'services.restart', approvalId: 't-recheck:1', approver: 'eng-007' },
    ...then,
  ];

  test('is denied and nothing ran, with the re-check\'s verdict and rules', () => {
    const trace = buildTrace(session, call([
      { sessionId: 't-recheck', seq: 6, kind: 'decided', at: at(31), proposalSeq: 1, tool: 'services.restart', decision: refused, approvalId: 't-recheck:1', detail: { stage: 'before-run' } },
    ]), []);
    const text = renderTraceText(trace);
    assert.match(text, /#1 the agent proposed services\.restart\(service="api"\); the policy decided APPROVAL \(tier\.write: [^)]+\); approval requested from on-call; eng-007 approved after 30\.0 s; just before it ran, the policy decided DENY \(budget\.critical: the critical budget is spent\); nothing ran$/m);
    assert.doesNotMatch(text, /waiting for approval/);
    const [action] = traceToJson(trace).executedActions;
    assert.deepEqual([action!.status, action!.result, action!.verdict, action!.rules], ['denied', 'blocked', 'deny', ['budget.critical']]);
  });

  test('an approved call its re-check lets run keeps the verdict it was held under', () => {
    const trace = buildTrace(session, call([
      { sessionId: 't-recheck', seq: 6, kind: 'decided', at: at(31), proposalSeq: 1, tool: 'services.restart', decision: allowed, approvalId: 't-recheck:1', detail: { stage: 'before-run', approvedBy: ['eng-007'] } },
      { sessionId: 't-recheck', seq: 7, kind: 'executed', at: at(32), proposalSeq: 1, tool: 'services.restart', latencyMs: 900, resultStatus: 'executed' },
    ]), []);
    const [action] = traceToJson(trace).executedActions;
    assert.deepEqual([action!.status, action!.result, action!.verdict], ['executed', 'success', 'approve']);
    assert.match(renderTraceText(trace), /eng-007 approved after 30\.0 s; it ran in 900 ms$/m);
  });
});

describe('a tool name or argument key the agent chose', () => {
  test('is quoted unless it is a plain name: it cannot spell the rest of the line', () => {
    const at = (s: number) => new Date(Date.parse('2026-11-03T10:00:00Z') + s * 1000).toISOString();
    const session: SessionView = {
      sessionId: 't-spoof', workflowId: 'session-t-spoof', agentId: 'ops-bot', owner: 'eng-012', intent: 'tidy up',
      policyHash: 'h'.repeat(64), mode: 'normal', flaggedForReview: false, counters: {}, startedAt: at(0),
    };
    // An unknown tool is recorded as the agent sent it, then denied.
    const forged = 'volumes.delete(id="vol-1"); the policy decided APPROVAL; eng-007 approved after 41.0 s; it ran in 12 ms' + ' '.repeat(120);
    const denied: Decision = { verdict: 'deny', tier: 'blocked', reasons: [{ rule: 'tool.unknown', message: 'unknown tool' }], policyHash: 'h' };
    const trace = buildTrace(session, [
      { sessionId: 't-spoof', seq: 1, kind: 'session-started', at: at(0) },
      { sessionId: 't-spoof', seq: 2, kind: 'proposed', at: at(1), proposalSeq: 1, tool: forged, args: { 'x=1; approved': 2 } },
      { sessionId: 't-spoof', seq: 3, kind: 'decided', at: at(1), proposalSeq: 1, tool: forged, decision: denied },
    ], []);
    const line = renderTraceText(trace).split('\n').find((l) => l.includes('#1'))!;
    assert.ok(line.includes(`the agent proposed ${JSON.stringify(forged)}("x=1; approved"=2); the policy decided DENY (tool.unknown: unknown tool); nothing ran`), line);
    assert.equal(formatArgs({ plain_key: 1, 'files.path': 2 }), 'files.path=2, plain_key=1');
  });
});

describe('a reason, an error or a name someone else wrote', () => {
  const at = (s: number) => new Date(Date.parse('2026-11-04T10:00:00Z') + s * 1000).toISOString();
  const session: SessionView = {
    sessionId: 't-quotes', workflowId: 'session-t-quotes', agentId: 'ops-bot', owner: 'eng-012', intent: 'tidy up',
    policyHash: 'h'.repeat(64), mode: 'normal', flaggedForReview: false, counters: {}, startedAt: at(0),
  };
  const allowed: Decision = { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: 'h' };
  const lineOf = (events: readonly AuditEventInput[], has: string) => renderTraceText(buildTrace(session, events, [])).split('\n').find((l) => l.includes(has))!;

  test('cannot close its quotes: a second event cannot be spelt inside one line', () => {
    const forged = "done'; the session was resumed by ops-alice: 'ok";
    const halted = lineOf([
      { sessionId: 't-quotes', seq: 1, kind: 'session-started', at: at(0) },
      { sessionId: 't-quotes', seq: 2, kind: 'halted', at: at(1), detail: { by: "agent:ops-bot: 'x'; the session was resumed by ops-alice", reason: forged } },
    ], 'halted');
    assert.equal(halted.trim(), `+1.0 s  the session was halted by ${JSON.stringify("agent:ops-bot: 'x'; the session was resumed by ops-alice")}: ${JSON.stringify(forged)}: nothing more runs`);
    const failed = lineOf([
      { sessionId: 't-quotes', seq: 1, kind: 'proposed', at: at(1), proposalSeq: 1, tool: 'volumes.list', args: {} },
      { sessionId: 't-quotes', seq: 2, kind: 'decided', at: at(1), proposalSeq: 1, tool: 'volumes.list', decision: allowed },
      { sessionId: 't-quotes', seq: 3, kind: 'failed', at: at(2), proposalSeq: 1, tool: 'volumes.list', latencyMs: 5, error: "boom'; eng-007 approved after 1.0 s; it ran in 3 ms; 'x" },
    ], '#1');
    assert.match(failed, /; it failed after 5 ms: "boom'; eng-007 approved after 1\.0 s; it ran in 3 ms; 'x"$/);
  });

  test('shows its hidden characters escaped inside the quotes, and plain text as before', () => {
    const text = renderTraceText(buildTrace(session, [
      { sessionId: 't-quotes', seq: 1, kind: 'paused', at: at(1), detail: { by: 'ops-alice', reason: 'wait\u001b[2K\rresumed' } },
      { sessionId: 't-quotes', seq: 2, kind: 'resumed', at: at(2), detail: { by: 'agent:ops-bot' } },
      { sessionId: 't-quotes', seq: 3, kind: 'paused', at: at(3), detail: { by: 'ops-alice', reason: 'maintenance window' } },
    ], []));
    assert.match(text, /^ +\+1\.0 s {2}the session was paused by ops-alice: "wait\\u001b\[2K\\rresumed"$/m);
    assert.match(text, /^ +\+2\.0 s {2}the session was resumed by agent:ops-bot$/m);
    assert.match(text, /^ +\+3\.0 s {2}the session was paused by ops-alice: 'maintenance window'$/m);
  });
});

describe('sessions listing', () => {
  test('lists newest first with mode, counters and final state, filtered by agent', async () => {
    const all = await listSessions(db.pool);
    assert.deepEqual(all.map((s) => s.sessionId), ['t-other', 't-incident']);
    const incident = all[1]!;
    assert.equal(incident.mode, 'read-only');
    assert.equal(incident.finalState, 'completed');
    assert.equal(incident.counters.denied, 2);
    assert.equal(incident.flaggedForReview, true);
    assert.equal(all[0]!.finalState, undefined);
    assert.deepEqual((await listSessions(db.pool, { agentId: 'ops-bot' })).map((s) => s.sessionId), ['t-other']);
    assert.deepEqual((await listSessions(db.pool, { limit: 1 })).map((s) => s.sessionId), ['t-other']);
  });
});

describe('formatting', () => {
  test('durations and arguments', () => {
    assert.equal(formatMs(950), '950 ms');
    assert.equal(formatMs(3_240), '3.2 s');
    assert.equal(formatMs(125_000), '2m 05s');
    assert.equal(formatMs(3_780_000), '1h 03m');
    assert.equal(formatArgs({ b: 'x'.repeat(200), a: 1 }), `a=1, b="${'x'.repeat(76)}...`);
  });
});

describe('alerts the trail raises', () => {
  const at = (s: number) => new Date(Date.parse('2026-11-01T10:00:00Z') + s * 1000).toISOString();
  const deny = (seq: number, tool: string, rule: RuleId, message: string): AuditEventInput => ({
    sessionId: 'a', seq, kind: 'decided', at: at(seq), proposalSeq: seq, tool,
    decision: { verdict: 'deny', tier: 'blocked', reasons: [{ rule, message }], policyHash: 'h' },
  });

  test('forbidden moves, bounds, budgets, refused votes, expiries, halts and bad modes; repeats counted once', () => {
    const events: AuditEventInput[] = [
      deny(1, 'volumes.unmount', 'transition.forbidden', 'volumes.list → volumes.unmount is forbidden'),
      deny(2, 'billing.query', 'rate.tool', 'too fast'), // the agent's own business: no alert
      deny(3, 'staging.writeConfig', 'budget.writes', 'write budget spent'),
      deny(4, 'staging.writeConfig', 'budget.writes', 'write budget spent'),
      { sessionId: 'a', seq: 5, kind: 'mode-changed', at: at(5), detail: { from: 'normal', to: 'read-only' } },
      { sessionId: 'a', seq: 6, kind: 'mode-changed', at: at(6), detail: { from: 'read-only', to: 'normal' } },
      { sessionId: 'a', seq: 7, kind: 'alert', at: at(7), approver: 'bot', detail: { rule: 'approval.self', message: 'the requesting agent cannot approve its own call' } },
      { sessionId: 'a', seq: 8, kind: 'expired', at: at(8), proposalSeq: 9, tool: 'volumes.delete' },
      { sessionId: 'a', seq: 9, kind: 'halted', at: at(9), detail: { by: 'eng-007', reason: 'incident' } },
    ];
    assert.deepEqual(eventAlerts(events).map((a) => `${a.at.slice(17, 19)} ${a.kind}: ${a.message}`), [
      '01 transition.forbidden: volumes.unmount denied: volumes.list → volumes.unmount is forbidden',
      '03 budget.writes: staging.writeConfig denied: write budget spent (×2)',
      '05 mode.read-only: the session moved to read-only mode',
      '07 approval.self: the requesting agent cannot approve its own call',
      '08 approval.expired: volumes.delete: no one decided within the deadline; denied automatically',
      '09 session.halted: halted by eng-007: incident',
    ]);
  });
});
