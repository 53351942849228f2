/**
 * Red team: what a policy means depends on the order of its glob maps — the first glob of `tools`
 * (and of `upstreamTools`) that matches a tool and sets a tier wins — and PostgreSQL's jsonb
 * reorders object keys (shorter first). A session's recorded policy must come back in the order the
 * worker enforced it, to every reader that compiles it: `audit verify` (an unapproved run of a
 * held tool is `vote.missing`, an autonomous one is not), the console's policy page and the
 * gateway's upstream tools list.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../audit/store';
import { getSession } from '../../audit/queries';
import { exportSession } from '../../audit/export';
import { verifyDatabase, verifyExportText } from '../../audit/verify';
import { SAMPLE_TEST_CUSTOMERS } from '../../activities/tools/sample';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import { currentPolicy } from '../../console/policy-view';
import { sessionPolicies } from '../../gateway/mcp/upstream-tools';
import { compilePolicy, parsePolicy, upstreamRuleFor, type PolicyDocument } from '../../policies';
import { canonicalJson, sha256Hex } from '../../policies/hash';
import type { Tier, ToolInfo } from '../../policies/types';
import { DEFAULT_POLICY_NAME } from '../../worker/policy-registry';
import { testPolicy } from '../workflows/harness';
import { pendingApproval, redTeam, signedVote, trust, voteFor, type Agent, type RedTeam } from './attacker';

/** `billing.deleteRecords` held for a person; every other billing tool runs at once. */
const HELD = testPolicy({ name: 'delete-held', tools: { 'billing.delete*': { tier: 'approval' }, 'billing.*': { tier: 'autonomous' } } });
/** `HELD` with its two globs swapped: the same hash today, but `billing.*` wins for every billing tool. */
const HELD_SWAPPED = testPolicy({ name: 'delete-held', tools: { 'billing.*': { tier: 'autonomous' }, 'billing.delete*': { tier: 'approval' } } });
/** The other way round: `billing.deleteRecords` runs at once; every other billing tool is held. */
const FREE = testPolicy({ name: 'delete-free', tools: { 'billing.delete*': { tier: 'autonomous' }, 'billing.*': { tier: 'approval' } } });

const DELETE_TEST_ROWS = { tool: 'billing.deleteRecords', args: { customerId: SAMPLE_TEST_CUSTOMERS[0]!.id, testOnly: true }, reasoning: 'tidy the QA customer' };

let rt: RedTeam;
let agent: Agent;

before(async () => {
  rt = await redTeam('policy_order', { 'delete-held': HELD, 'delete-held-swapped': HELD_SWAPPED, 'delete-free': FREE });
  agent = await rt.agent('order-bot', 'eng-007', { policies: ['delete-held', 'delete-held-swapped', 'delete-free'] });
});
after(async () => {
  await rt?.close();
});

/** Every tool's enforced tier under `doc` against `tools`. */
function tiers(doc: unknown, tools: readonly ToolInfo[]): Record<string, Tier> {
  const parsed = parsePolicy(doc);
  assert.ok(parsed.success, 'the recorded policy parses');
  return Object.fromEntries([...compilePolicy(parsed.data, tools).tools.values()].map((t) => [t.info.name, t.tier]));
}

/** `audit verify --session id` with the keyset: each finding as `seq rule`. */
async function findings(sessionId: string): Promise<string[]> {
  const report = await verifyDatabase(rt.h.audit.pool, { keyset: trust.keyset, sessionId });
  return [...report.trail, ...report.votes].map((f) => `${f.seq} ${f.rule}`).sort();
}

/** The jsonb column as PostgreSQL gives it back: the premise of this file. */
async function jsonbToolKeys(sessionId: string): Promise<string[]> {
  const r = await rt.h.audit.pool.query<{ policy: { tools: Record<string, unknown> } }>('SELECT policy FROM sessions WHERE session_id = $1', [sessionId]);
  return Object.keys(r.rows[0]!.policy.tools);
}

/** Appends, as whoever holds the audit store could, a proposal and an unapproved run of billing.deleteRecords; returns the run's seq. */
async function forgeRun(sessionId: string): Promise<number> {
  const seq = (await rt.h.events(sessionId)).length;
  const at = new Date().toISOString();
  const call = { proposalSeq: 9, tool: 'billing.deleteRecords', args: { customerId: SAMPLE_TEST_CUSTOMERS[0]!.id, testOnly: true } };
  await new AuditStore(rt.h.audit.pool).append([
    { sessionId, seq: seq + 1, kind: 'proposed', at, ...call, reasoning: 'tidy' },
    { sessionId, seq: seq + 2, kind: 'executed', at, ...call, resultStatus: 'executed', detail: { result: { deleted: 14_237 } } },
  ]);
  return seq + 2;
}

describe('a recorded policy keeps the order the worker enforced', () => {
  it('`billing.delete*` (approval) before `billing.*`: an unapproved run of billing.deleteRecords is vote.missing, and the row compiles to the worker\'s tiers', async () => {
    const s = await agent.gh.startSession({ intent: 'tidy the QA customer', policyRef: 'delete-held' });
    const pending = s.propose(DELETE_TEST_ROWS);
    const p = await pendingApproval(s);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p, false, 'not today')));
    const held = await pending;
    assert.deepEqual([held.status, held.decision.tier], ['denied', 'approval']);
    await s.end({});
    assert.deepEqual(await findings(s.sessionId), []);

    // Whoever holds the audit store adds a run of the held tool that no one approved.
    const seq = await forgeRun(s.sessionId);
    assert.deepEqual(await findings(s.sessionId), [`${seq} vote.missing`]);
    // The session's export file carries the same order, and verifies offline the same way.
    const exported = verifyExportText(JSON.stringify(await exportSession(rt.h.audit.pool, s.sessionId)), 'export.json', { keyset: trust.keyset });
    assert.deepEqual([...exported.trail, ...exported.votes].map((f) => `${f.seq} ${f.rule}`), [`${seq} vote.missing`]);

    assert.deepEqual(await jsonbToolKeys(s.sessionId), ['billing.*', 'billing.delete*']);
    const row = await getSession(rt.h.audit.pool, s.sessionId);
    const catalog = row.tools as ToolInfo[];
    assert.deepEqual(Object.keys((row.policy as PolicyDocument).tools), ['billing.delete*', 'billing.*']);
    const recorded = tiers(row.policy, catalog);
    assert.deepEqual(recorded, tiers(HELD, catalog));
    assert.equal(recorded['billing.deleteRecords'], 'approval');
  });

  it('`billing.delete*` (autonomous) before `billing.*` (approval): the worker runs billing.deleteRecords at once, and audit verify raises no false vote.missing', async () => {
    const s = await agent.gh.startSession({ intent: 'tidy the QA customer', policyRef: 'delete-free' });
    const r = await s.propose(DELETE_TEST_ROWS);
    assert.deepEqual([r.status, r.decision.tier], ['executed', 'autonomous']);
    await s.end({});
    assert.deepEqual(await findings(s.sessionId), []);
    assert.deepEqual(await jsonbToolKeys(s.sessionId), ['billing.*', 'billing.delete*']);
    const row = await getSession(rt.h.audit.pool, s.sessionId);
    assert.deepEqual(tiers(row.policy, row.tools as ToolInfo[]), tiers(FREE, row.tools as ToolInfo[]));
  });

  it('two orders of one document (one hash) in one process: audit verify judges each session by its own order', async () => {
    const held = await agent.gh.startSession({ intent: 'tidy the QA customer', policyRef: 'delete-held' });
    await held.end({});
    const seq = await forgeRun(held.sessionId);
    const swapped = await agent.gh.startSession({ intent: 'tidy the QA customer', policyRef: 'delete-held-swapped' });
    const r = await swapped.propose(DELETE_TEST_ROWS);
    assert.deepEqual([r.status, r.decision.tier], ['executed', 'autonomous']);
    await swapped.end({});
    // The two documents hash alike (`policies/hash.ts` sorts keys): a verifier that compiled one
    // must not reuse it for the other, whichever it meets first.
    assert.deepEqual(await findings(swapped.sessionId), []);
    assert.deepEqual(await findings(held.sessionId), [`${seq} vote.missing`]);
    assert.deepEqual(await findings(swapped.sessionId), []);
  });

  it('the console\'s policy page reads the default policy in its recorded order', async () => {
    const { id } = await recordRow('order-row-console', DEFAULT_POLICY_NAME);
    const page = await currentPolicy(rt.h.audit.pool, {});
    assert.match(page.from, new RegExp(id));
    assert.deepEqual(Object.keys(page.policy.tools), ['billing.delete*', 'billing.*']);
    assert.equal(compilePolicy(page.policy, SAMPLE_TOOL_INFO).tools.get('billing.deleteRecords')?.tier, 'approval');
  });

  it('the gateway\'s upstream tools list classifies by the recorded order, each session by its own', async () => {
    const { id, hash } = await recordRow('order-row-gateway', 'delete-held');
    const { id: swappedId, hash: swappedHash } = await recordRow('order-row-gateway-swapped', 'delete-held', { swapped: true });
    assert.equal(swappedHash, hash, 'one hash for both orders');
    // One gateway (one cache) lists for both sessions: the first one read must not answer for the other.
    const policyOf = sessionPolicies(rt.h.audit.pool, 0);
    const listed = await policyOf({ sessionId: id, policyHash: hash });
    assert.ok(listed, 'the gateway reads the session\'s policy');
    assert.equal(upstreamRuleFor(listed, 'files.write_file')?.key, 'files.write*');
    assert.equal(upstreamRuleFor(listed, 'files.write_file')?.rule.effect, 'destructive');
    const swapped = await policyOf({ sessionId: swappedId, policyHash: swappedHash });
    assert.equal(upstreamRuleFor(swapped!, 'files.write_file')?.key, 'files.*');
    assert.equal(upstreamRuleFor(swapped!, 'files.write_file')?.rule.effect, 'read');
  });
});

/**
 * A session row and start event as the workflow writes them, under a document whose `tools` and
 * `upstreamTools` globs overlap (the longer one first, which jsonb moves last).
 */
async function recordRow(id: string, policyName: string, opts: { swapped?: boolean } = {}): Promise<{ id: string; hash: string }> {
  const doc = testPolicy(
    opts.swapped
      ? { tools: { 'billing.*': { tier: 'autonomous' }, 'billing.delete*': { tier: 'approval' } }, upstreamTools: { 'files.*': { effect: 'read' }, 'files.write*': { effect: 'destructive' } } }
      : { tools: { 'billing.delete*': { tier: 'approval' }, 'billing.*': { tier: 'autonomous' } }, upstreamTools: { 'files.write*': { effect: 'destructive' }, 'files.*': { effect: 'read' } } },
  );
  const hash = sha256Hex(canonicalJson(doc));
  const at = new Date().toISOString();
  const store = new AuditStore(rt.h.audit.pool);
  await store.startSession({ sessionId: id, workflowId: `session-${id}`, agentId: 'order-bot', owner: 'eng-007', intent: 'tidy billing', policyHash: hash, policy: doc, startedAt: at, tools: SAMPLE_TOOL_INFO });
  await store.append([{ sessionId: id, seq: 1, kind: 'session-started', at, detail: { agentId: 'order-bot', owner: 'eng-007', intent: 'tidy billing', policy: policyName, policyHash: hash } }]);
  return { id, hash };
}
