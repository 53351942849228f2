/**
 * Red team: four eyes against a name. The policy says the person an agent acts for may not approve
 * its calls; the owner is whatever name the agent's credential was issued with, and a Slack click is
 * counted under the approver name the keyset maps that Slack user to. An owner issued as the Slack
 * id `U0BOB` clicked Approve in Slack, was counted as `bob`, and approved their own agent's call
 * alone. Patch `four-eyes-by-identity`: the owner is known under every name it goes by, so the vote
 * is refused (`approval.four-eyes`) and the call waits for someone else.
 * The real session workflow on the Temporal dev server; the approvals service's key signs the click.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signDecision } from '../../client/trust/sign';
import { eventually } from '../support/eventually';
import { createHarness, type Harness } from '../workflows/harness';
import { pendingApproval, signedVote, trust } from './attacker';

let h: Harness;
before(async () => {
  h = await createHarness('redteam_four_eyes_names');
});
after(async () => {
  await h?.close();
});

describe('four eyes', () => {
  it('refuses the owner\'s own Slack click when the owner was issued as its Slack id; someone else\'s vote runs the call', async () => {
    await h.run(async () => {
      // TEST_POLICY: approvals need one of on-call (alice, bob, eng-007), four eyes on.
      const s = await h.gh.startSession({ agentId: 'scale-bot', owner: 'U0BOB', intent: 'scale the api' });
      const result = s.propose({ tool: 'services.scale', args: { service: 'api', replicas: 6 }, reasoning: 'load' });
      const p = await pendingApproval(s);
      const fields = { kind: 'vote' as const, workflowId: p.view.workflowId, firstRunId: p.view.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, tool: p.tool, verdict: 'approve' as const };
      // The owner's click in Slack: the approvals service signs for Slack user U0BOB, whom the keyset calls `bob`.
      await s.workflow.signal('approval', signDecision(trust.service, { ...fields, onBehalfOf: { slackUserId: 'U0BOB', slackTeamId: 'T0TEST' } }));
      const refused = await eventually(async () => (await h.events(s.sessionId)).find((e) => e.kind === 'alert' && (e.detail as { rule?: string } | null)?.rule === 'approval.four-eyes'), { what: 'the four-eyes refusal' });
      assert.equal(refused.approver, 'bob');
      assert.equal((await s.state()).pendingApprovals.length, 1, 'the call still waits');
      await s.workflow.signal('approval', signedVote(trust.approver('alice'), { workflowId: p.view.workflowId, firstRunId: p.view.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, tool: p.tool, approve: true }));
      const r = await result;
      assert.equal(r.status, 'executed');
      const approved = (await h.events(s.sessionId)).filter((e) => e.kind === 'approved').map((e) => e.approver);
      assert.deepEqual(approved, ['alice']);
      await s.end({});
    });
  });
});
