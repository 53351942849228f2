/**
 * A vote the session accepted, and the session ended before it answered: the sender says the
 * session is gone (the Slack app and the console tell the clicker so), and the client's `approve`
 * says the session is closed, never a raw Temporal failure nor a vote reported as counted; so does
 * the agent's call the vote was for.
 * The real session workflow on the Temporal dev server; an activity interceptor holds the vote's
 * audit write (the handler's last await before it answers) while the session is terminated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionClosedError } from '../../client';
import { signDecision } from '../../client/trust/sign';
import { SessionGoneError, temporalVoteSender } from '../../client/vote-sender';
import type { AuditEventInput } from '../../audit/types';
import { eventually } from '../support/eventually';
import { holdActivities } from '../support/hold-activities';
import { testTrust } from '../support/trust';
import { createHarness, type Harness } from './harness';

const trust = testTrust();

let h: Harness;
before(async () => {
  h = await createHarness('vote_session_gone');
});
after(async () => {
  await h?.close();
});

/** Holds the audit write of the session's first counted vote. */
const holdVoteWrite = () => holdActivities((type, args) => type === 'appendAudit' && (args[0] as readonly AuditEventInput[]).some((e) => e.kind === 'approved'));

async function heldApproval(by: 'sender' | 'client', hold: ReturnType<typeof holdVoteWrite>) {
  const s = await h.gh.startSession({ agentId: 'svc-bot', owner: 'eng-007', intent: 'scale the api' });
  const call = s.propose({ tool: 'services.scale', args: { service: 'api', replicas: 5 }, reasoning: 'load' });
  call.catch(() => undefined);
  const approvalId = await eventually(async () => (await s.state()).pendingApprovals[0]?.approvalId, { what: 'a pending approval' });
  let voted: Promise<unknown>;
  if (by === 'client') {
    voted = h.gh.approve(approvalId, { key: trust.approver('alice') });
  } else {
    const view = await s.state();
    const pending = view.pendingApprovals[0]!;
    const envelope = signDecision(trust.approver('alice'), { kind: 'vote', workflowId: view.workflowId, firstRunId: view.firstRunId, approvalId, callDigest: pending.callDigest, tool: pending.tool, verdict: 'approve' });
    voted = temporalVoteSender(h.gh.client)(s.workflow.workflowId, envelope);
  }
  voted.catch(() => undefined);
  // Accepted, counted, and waiting on its audit write: the answer is not sent yet.
  await hold.gates[0]!.entered;
  await s.workflow.terminate('the operator ended it mid-vote');
  hold.gates[0]!.release();
  return { voted, s, call };
}

describe('a vote accepted by a session that ends before answering', () => {
  it('the sender throws SessionGoneError', async () => {
    const hold = holdVoteWrite();
    const w = await h.worker({ workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [hold.interceptor] } } });
    await w.runUntil(async () => {
      const { voted, s } = await heldApproval('sender', hold);
      await assert.rejects(voted, (err: unknown) => err instanceof SessionGoneError && err.workflowId === s.workflow.workflowId);
      assert.equal(await h.writesOf(s.sessionId), 0);
    });
  });

  it("the client's approve throws SessionClosedError", async () => {
    const hold = holdVoteWrite();
    const w = await h.worker({ workerOptions: { shutdownGraceTime: '10s', interceptors: { activity: [hold.interceptor] } } });
    await w.runUntil(async () => {
      const { voted, s, call } = await heldApproval('client', hold);
      await assert.rejects(voted, (err: unknown) => err instanceof SessionClosedError && err.sessionId === s.sessionId);
      // The agent's held call, accepted before the session ended: closed too, not a raw Temporal failure.
      await assert.rejects(call, (err: unknown) => err instanceof SessionClosedError && err.sessionId === s.sessionId);
    });
  });
});
