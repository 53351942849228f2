/**
 * The demo's pure parts, without a stack: the scenario list and its errors, the approver's
 * choice of people, and the policies the demo hands to its sessions (each one valid, each change
 * the one its scenario says).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SCENARIOS, UnknownScenarioError, findScenario } from '../../demo';
import { eligibleApprovers, pickDeciders } from '../../demo/approver';
import { billingPolicy, demoPolicies, demoPolicy, examplePolicy, resumePolicy, DEMO_APPROVERS } from '../../demo/policy';
import { SAMPLE_TEST_RECORDS } from '../../activities/tools/sample/seed';
import { Story } from '../../demo/story';
import { parsePolicy } from '../../policies';
import type { ApprovalRecord } from '../../approvals/types';
import { runCli } from './processes';

function record(over: Partial<Omit<ApprovalRecord, 'requirement'>> & { requirement?: Partial<ApprovalRecord['requirement']> } = {}): ApprovalRecord {
  const now = new Date().toISOString();
  const requirement = {
    groups: ['data-owners', 'sre-leads'],
    approversRequired: 1,
    escalateAfterMs: [300_000],
    timeoutMs: 900_000,
    channel: '#approvals',
    fourEyes: true,
    unlocksTransition: false,
    ...over.requirement,
  };
  return {
    approvalId: 's-1:3',
    sessionId: 's-1',
    workflowId: 'session-s-1',
    firstRunId: 'run-1',
    agentId: 'billing-bot',
    owner: 'intern-042',
    intent: 'clean up',
    tool: 'billing.deleteRecords',
    reasoning: 'r',
    redactedArgs: {},
    decision: { verdict: 'approve', tier: 'approval', reasons: [], policyHash: 'h', approval: requirement },
    groupMembers: { 'data-owners': ['intern-042', 'eng-007', 'billing-bot'], 'sre-leads': ['sre-ana'] },
    callDigest: 'd',
    status: 'pending',
    decidedBy: [],
    requestedAt: now,
    deadline: new Date(Date.now() + 900_000).toISOString(),
    escalationLevel: 0,
    posts: [],
    votes: [],
    ...over,
    requirement,
  };
}

describe('demo scenarios', () => {
  it('lists the scenarios, each with a summary', () => {
    assert.deepEqual(Object.fromEntries(SCENARIOS.map((s) => [s.name, s.summary])), {
      'billing-cleanup': 'a 14,200-row production delete held for a human; above the hard cap, denied outright',
      'volume-cleanup': 'list volumes then unmount one: a forbidden transition, unlockable only by a human',
      runaway: 'a write loop goes read-only at 80% of its budget and closes at 100%; a token-hungry agent hits the cost cap',
      resume: 'a 50-step session survives SIGKILL of its worker at step 35: 50 executions, no duplicate',
      'sub-agent': "a child agent gets a quarter of its parent's budget; its attempt to exceed it is denied",
      'mcp-filesystem': 'the official MCP filesystem server behind Gatehouse: reads run, a protected write waits for a human, list → move is forbidden',
    });
    assert.deepEqual(SCENARIOS.map((s) => s.name), ['billing-cleanup', 'volume-cleanup', 'runaway', 'resume', 'sub-agent', 'mcp-filesystem'], 'in the order the demo runs them');
  });

  it('names the valid scenarios when one is unknown', () => {
    assert.throws(() => findScenario('billing'), (err: unknown) => err instanceof UnknownScenarioError && /`billing-cleanup`/.test(err.message) && err.type === 'UnknownScenarioError');
  });

  it('`gatehouse demo` lists them and `gatehouse demo <unknown>` fails before connecting anywhere', async () => {
    const env = { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
    const list = await runCli(['demo'], env, 60_000);
    assert.equal(list.code, 0, list.stderr);
    for (const s of SCENARIOS) assert.match(list.stdout, new RegExp(s.name));
    const bad = await runCli(['demo', 'no-such-scenario'], env, 60_000);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown scenario `no-such-scenario`/);
  });
});

describe('the demo approver', () => {
  it('plays members of the groups allowed now, never the agent or (four eyes) the owner', () => {
    assert.deepEqual(eligibleApprovers(record()), ['eng-007']);
  });

  it('lets the owner decide when the policy does not ask for four eyes', () => {
    assert.deepEqual(eligibleApprovers(record({ requirement: { fourEyes: false } })), ['intern-042', 'eng-007']);
  });

  it('for an unlock, finds approvers for the unlock group and for the call\'s own approval', () => {
    const unlock = record({
      groupMembers: { 'sre-leads': ['sre-ana', 'sre-raj'], 'data-owners': ['eng-007', 'data-lee'] },
      requirement: {
        groups: ['sre-leads'],
        escalateAfterMs: [],
        fourEyes: false,
        unlocksTransition: true,
        alsoRequired: { groups: ['data-owners'], approversRequired: 2, escalateAfterMs: [], timeoutMs: 900_000, channel: '#approvals', fourEyes: false, unlocksTransition: false },
      },
    });
    assert.deepEqual(pickDeciders(unlock, true), ['sre-ana', 'eng-007', 'data-lee']);
    assert.deepEqual(pickDeciders(unlock, false), ['sre-ana'], 'one deny is enough');
  });

  it('widens to the next group once the request is escalated', () => {
    const past = new Date(Date.now() - 400_000).toISOString();
    assert.deepEqual(eligibleApprovers(record({ requestedAt: past })), ['eng-007', 'sre-ana']);
  });
});

describe('the demo policies', () => {
  it('staff only the example policy\'s empty approver groups, drop its agent-wide rules, and stay valid', async () => {
    const example = await examplePolicy();
    const demo = await demoPolicy();
    assert.equal(parsePolicy(demo).success, true);
    for (const [group, members] of Object.entries(demo.approvers.groups)) {
      const original = example.approvers.groups[group] ?? [];
      assert.deepEqual(members, original.length > 0 ? original : DEMO_APPROVERS[group] ?? []);
    }
    assert.ok(example.agent, 'the example policy bounds an agent across sessions');
    assert.equal(demo.agent, undefined, 'the demos run again and again: no agent-wide rules');
    assert.deepEqual({ ...demo, approvers: { ...demo.approvers, groups: example.approvers.groups }, agent: example.agent }, example, 'nothing else changes');
  });

  it('give the batch job room for 50 writes and change nothing else', async () => {
    const demo = await demoPolicy();
    const batch = await resumePolicy();
    // The example policy's budget is far below 50 writes: the batch gets 120 of each.
    assert.deepEqual([batch.budget.actions, batch.budget.writes], [120, 120]);
    assert.deepEqual({ ...batch, name: demo.name, budget: demo.budget }, demo);
  });

  it('lower the billing hard cap only when the example\'s is out of reach', async () => {
    const demo = await demoPolicy();
    const cap = demo.tools['billing.deleteRecords']?.blastRadius?.denyAbove;
    assert.ok(cap !== undefined);
    const tight = await billingPolicy(cap - 1);
    assert.equal(tight.tightened, true);
    assert.equal(tight.policy.tools['billing.deleteRecords']?.blastRadius?.denyAbove, cap - 1);
    assert.equal(tight.policy.tools['billing.deleteRecords']?.blastRadius?.approvalAbove, demo.tools['billing.deleteRecords']?.blastRadius?.approvalAbove);
    const loose = await billingPolicy(cap + 1);
    assert.equal(loose.tightened, false);
    assert.deepEqual(loose.policy, demo);
  });
});

describe('the demo policy registry', () => {
  it('names every policy the scenarios ask for; the billing cap is the seeded number of test records', async () => {
    const all = await demoPolicies();
    assert.deepEqual(Object.keys(all), ['demo', 'demo-billing', 'demo-batch']);
    assert.equal(all['demo-billing']?.tools['billing.deleteRecords']?.blastRadius?.denyAbove, SAMPLE_TEST_RECORDS);
    assert.deepEqual(all['demo-batch'], await resumePolicy());
  });
});

describe('the demo story', () => {
  it('prints as it goes, or keeps quiet for --json while recording every step', () => {
    let printed = '';
    const loud = new Story(false, (t) => (printed += t));
    loud.agent('billing.query');
    loud.gatehouse('allow', { verdict: 'allow' });
    assert.match(printed, /agent {6}> billing\.query\n {2}gatehouse {2}< allow\n/);
    let silent = '';
    const quiet = new Story(true, (t) => (silent += t));
    quiet.human('denies');
    quiet.raw('trace');
    assert.equal(silent, '');
    assert.deepEqual(quiet.steps.map((s) => [s.kind, s.text]), [['human', 'denies']]);
  });
});
