/**
 * Red team: the approver is shown one call and asked to sign another (issue 23, attack 2). The
 * attacker writes approval rows straight into the approvals table, as if the activity route were
 * open: a row planted under the session's next approval id before the call is proposed (tool
 * `billing.query`, a harmless intent), a pending row whose arguments are edited after the request,
 * a row whose tool and digest disagree. And the blast radius grows while humans decide.
 *
 * Each case: no signature is recorded (or the vote is refused), the delete does not run
 * (production rows unchanged), no `executed` event, an alert naming the refusal, and
 * `audit verify` holds with the keyset.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApprovalStore } from '../../approvals/store';
import type { ApprovalRequest } from '../../approvals/types';
import { listApprovals, type CommandIo } from '../../cli/commands/approvals';
import { decide, temporalStateReader, type DecideDeps } from '../../client/decide';
import { temporalVoteSender } from '../../client/vote-sender';
import { callDigestOver } from '../../policies';
import { eventually } from '../support/eventually';
import {
  alertEvent,
  alertRow,
  assertAuditVerifies,
  assertNotExecuted,
  pendingApproval,
  productionSnapshot,
  redTeam,
  trust,
  type Agent,
  type RedTeam,
} from './attacker';

let rt: RedTeam;
let mallory: Agent;
let store: ApprovalStore;
let deps: DecideDeps;
/** The month of the seeded load-test records (14,237 of them). */
let testMonth: string;

before(async () => {
  rt = await redTeam('approval_row');
  mallory = await rt.agent('mallory-bot', 'eng-007');
  store = new ApprovalStore(rt.h.audit.pool);
  deps = { store, sendVote: temporalVoteSender(rt.raw), state: temporalStateReader(rt.raw), keyset: trust.keyset };
  testMonth = (await rt.h.production.pool.query<{ test_month: string }>('SELECT test_month FROM sample_seed')).rows[0]!.test_month;
});
after(async () => {
  await rt?.close();
});

const DELETE = () => ({ tool: 'billing.deleteRecords', args: { period: testMonth, testOnly: true }, reasoning: 'the load test is over' });

/** alice (on-call) approves through `decide()`, the path of the CLI and the Slack app. */
function aliceApproves(approvalId: string) {
  return decide(deps, { approvalId, approve: true, voter: { key: trust.approver('alice') }, reason: 'looks harmless', via: 'cli' });
}

async function votesOf(approvalId: string): Promise<number> {
  return (await rt.h.audit.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM approval_votes WHERE approval_id = $1', [approvalId])).rows[0]!.n;
}

async function rowOf(approvalId: string): Promise<Record<string, unknown>> {
  return (await rt.h.audit.pool.query('SELECT tool, intent, redacted_args, call_digest, status FROM approvals WHERE approval_id = $1', [approvalId])).rows[0] as Record<string, unknown>;
}

/**
 * The session's pending approval once its row is stored. The workflow lists the approval as soon
 * as it holds the call, and `requestApproval` (behind the caller check) writes the row after: a row
 * read, edited or voted on before then is not there yet.
 */
async function storedApproval(s: Parameters<typeof pendingApproval>[0]): ReturnType<typeof pendingApproval> {
  const p = await pendingApproval(s);
  await eventually(() => store.get(p.approvalId), { what: `the row of approval \`${p.approvalId}\`` });
  return p;
}

function bufferIo(): CommandIo & { readonly lines: string[] } {
  const lines: string[] = [];
  return { lines, out: (t) => lines.push(t), err: (t) => lines.push(t) };
}

describe('attack 2: a planted approval row', () => {
  it('a row planted under the next approval id: the workflow\'s own request is refused as a conflict, the delete never runs', async () => {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'clean up the load test records' });
    const view = await s.state();
    const approvalId = `${s.sessionId}:1`;
    const now = Date.now();
    // What the approver would have been shown: a harmless read, under the session's real ids.
    const requirement = { groups: ['on-call'], approversRequired: 1, escalateAfterMs: [], timeoutMs: 15 * 60_000, channel: '#approvals', fourEyes: true, unlocksTransition: false };
    const planted: ApprovalRequest = {
      approvalId,
      sessionId: s.sessionId,
      workflowId: view.workflowId,
      firstRunId: view.firstRunId,
      agentId: view.agentId,
      owner: view.owner,
      intent: 'look up one invoice',
      proposal: { tool: 'billing.query', args: { period: testMonth, limit: 1 }, reasoning: 'a customer asked about an invoice' },
      redactedArgs: { period: testMonth, limit: 1 },
      decision: { verdict: 'approve', tier: 'approval', reasons: [{ rule: 'tier.read', message: 'a read' }], policyHash: view.policyHash, approval: requirement },
      requirement,
      groupMembers: { 'on-call': ['alice', 'bob', 'eng-007'] },
      callDigest: 'c'.repeat(64),
      requestedAt: new Date(now).toISOString(),
      deadline: new Date(now + 15 * 60_000).toISOString(),
    };
    assert.equal((await store.insert(planted)).status, 'inserted');
    const plantedRow = await rowOf(approvalId);

    const result = await s.propose(DELETE());
    assert.equal(result.status, 'denied');
    assert.deepEqual(result.decision.reasons.map((r) => r.rule).slice(-1), ['approval.conflict']);
    const alert = await alertEvent(rt.h, s.sessionId, 'approval.conflict');
    assert.match(String(alert.detail?.message), /tool/);
    assert.deepEqual(await rowOf(approvalId), plantedRow, 'the planted row is left as it was');

    // The planted row is listed as refused, and a vote on it is refused: nothing to sign.
    const io = bufferIo();
    await listApprovals(store, { state: deps.state }, io);
    assert.ok(io.lines.some((l) => l.includes(`\`${approvalId}\` refused (not-pending)`)), io.lines.join('\n'));
    const vote = await aliceApproves(approvalId);
    assert.equal(vote.ok, false);
    assert.equal(!vote.ok && vote.code, 'not-pending');
    assert.equal(await votesOf(approvalId), 0);

    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertNotExecuted(rt.h, s.sessionId);
    await s.end({});
    await assertAuditVerifies(rt.h);
  });

  it('a retried request with the same content stays idempotent; any other field is a conflict naming it', async () => {
    const s = await mallory.gh.startSession({ intent: 'clean up the load test records' });
    const pending = s.propose(DELETE());
    const p = await storedApproval(s);
    const stored = (await store.get(p.approvalId))!;
    const req: ApprovalRequest = { ...stored, proposal: { tool: stored.tool, args: p.args!, reasoning: stored.reasoning } };
    assert.deepEqual(await store.insert(req), { status: 'same' });
    assert.deepEqual(await store.insert({ ...req, redactedArgs: { period: '2020-01', testOnly: true } }), { status: 'conflict', fields: ['args'] });
    assert.deepEqual(await store.insert({ ...req, callDigest: 'f'.repeat(64) }), { status: 'conflict', fields: ['digest'] });
    await rt.h.vote(s.sessionId, p.approvalId, 'alice', false, { reason: 'not today' });
    assert.equal((await pending).status, 'denied');
    await s.end({});
  });
});

describe('a pending row changed in the database', () => {
  /** Proposes the delete, edits its row with `sql`, lets alice approve: refused, then denied for real. */
  async function editedRow(sql: string, params: (p: Awaited<ReturnType<typeof pendingApproval>>) => unknown[]): Promise<void> {
    const before = await productionSnapshot(rt.h);
    const s = await mallory.gh.startSession({ intent: 'clean up the load test records' });
    const pending = s.propose(DELETE());
    const p = await storedApproval(s);
    assert.equal((await rt.h.audit.pool.query(sql, [p.approvalId, ...params(p)])).rowCount, 1, 'the row is edited');
    const edited = await rowOf(p.approvalId);

    const vote = await aliceApproves(p.approvalId);
    assert.equal(vote.ok, false);
    assert.equal(!vote.ok && vote.code, 'call-mismatch');
    const alert = await alertRow(rt.h, s.sessionId, 'approval.call-mismatch');
    assert.match(alert.message, new RegExp(p.approvalId));
    assert.equal(await votesOf(p.approvalId), 0, 'no signature recorded');
    assert.deepEqual(await rowOf(p.approvalId), edited, 'the row is left as it was');
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]], 'nothing reached the session');
    const io = bufferIo();
    await listApprovals(store, { state: deps.state }, io);
    assert.ok(io.lines.some((l) => l.includes(`\`${p.approvalId}\` refused (call-mismatch)`)), io.lines.join('\n'));

    await rt.h.vote(s.sessionId, p.approvalId, 'bob', false, { reason: 'the row was tampered with' });
    assert.equal((await pending).status, 'denied');
    assert.deepEqual(await productionSnapshot(rt.h), before);
    await assertNotExecuted(rt.h, s.sessionId);
    await s.end({});
    await assertAuditVerifies(rt.h);
  }

  it('arguments edited after the request (a harmless-looking filter shown): the vote is refused', async () => {
    await editedRow('UPDATE approvals SET redacted_args = $2 WHERE approval_id = $1', () => [JSON.stringify({ period: '2020-01', testOnly: true })]);
  });

  it('a row whose tool and digest disagree (tool renamed to a read): the vote is refused', async () => {
    await editedRow('UPDATE approvals SET tool = $2 WHERE approval_id = $1', () => ['billing.query']);
  });

  it('a row consistent with itself (a read\'s tool, arguments and recomputed digest) but not with the session: refused', async () => {
    await editedRow('UPDATE approvals SET tool = $2, redacted_args = $3, call_digest = $4 WHERE approval_id = $1', (p) => {
      const args = { period: testMonth, limit: 1 };
      return ['billing.query', JSON.stringify(args), callDigestOver('billing.query', args, p.policyHash!, p.stateHash!)];
    });
  });
});

describe('the blast radius measured again before an approved call runs', () => {
  /** Inserts `n` more load-test records of the test month (what another process might write meanwhile). */
  async function insertTestRecords(n: number): Promise<void> {
    await rt.h.production.pool.query(
      `INSERT INTO billing_records (customer_id, amount_cents, currency, description, billed_at, is_test)
       SELECT '7e570000-0000-4000-8000-000000000001', 100, 'USD', 'late load test charge #' || i, $1::date + interval '3 days', true
         FROM generate_series(1, $2::int) AS i`,
      [`${testMonth}-01`, n],
    );
  }

  for (const [name, added, pattern] of [
    ['above what was approved', 5, /is now \d+; \d+ was approved/],
    ['above the policy\'s cap', 40_000, /above the cap of 50000/],
  ] as const) {
    it(`rows added while humans decide, ${name}: the approved delete is denied (blast-radius.grown)`, async () => {
      const s = await mallory.gh.startSession({ intent: 'clean up the load test records' });
      const pending = s.propose(DELETE());
      const p = await storedApproval(s);
      assert.ok(p.blastRadius !== undefined && p.blastRadius > 100, `the approver is shown the estimate (${p.blastRadius})`);
      await insertTestRecords(added);
      const before = await productionSnapshot(rt.h);

      const vote = await aliceApproves(p.approvalId);
      assert.equal(vote.ok, true, vote.ok ? '' : vote.message);
      const result = await pending;
      assert.equal(result.status, 'denied');
      const reason = result.decision.reasons.find((r) => r.rule === 'blast-radius.grown');
      assert.ok(reason, JSON.stringify(result.decision.reasons));
      assert.match(reason.message, pattern);
      const decided = (await rt.h.events(s.sessionId)).filter((e) => e.kind === 'decided' && e.detail?.stage === 'before-run');
      assert.equal(decided.length, 1, 'the denial is recorded before the run');

      assert.deepEqual(await productionSnapshot(rt.h), before, 'nothing was deleted');
      await assertNotExecuted(rt.h, s.sessionId);
      await s.end({});
      await assertAuditVerifies(rt.h);
    });
  }
});
