/**
 * Red team: every refusal of the verification order (policies/trust) triggered in the workflow,
 * the source of truth, not only in the client's own check. The worker's keyset lists, beside the
 * test keys, a revoked key and an expired key of approver `alice` (a member of the group the call
 * needs): the key, not the person, is what is refused. Each forged vote raises an alert naming
 * its exact rule and counts for nothing; the call is then denied for real, nothing executed, the
 * production rows unchanged, and `audit verify` holds — and, against a keyset that revokes
 * alice's key later, `audit verify` at once refuses the vote she signed before.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64 } from '@scure/base';
import type { Worker } from '@temporalio/worker';
import { formatVerifyReport, verifyDatabase } from '../../audit/verify';
import { generateSigningKey, keyEntryOf, secretKeyBytes } from '../../client/trust/key-files';
import { signDecision } from '../../client/trust/sign';
import { DECISION_PAYLOAD_TYPE, pae, signEnvelope, type Keyset } from '../../policies/trust';
import { createHarness, type Harness } from '../workflows/harness';
import { testTrust } from '../support/trust';
import { alertEvent, assertNotExecuted, pendingApproval, productionSnapshot, signedVote, voteFor } from './attacker';

const trust = testTrust();
const revokedKey = generateSigningKey('alice', 'approver');
const expiredKey = generateSigningKey('alice', 'approver');
const keyset: Keyset = {
  ...trust.keyset,
  keys: [...trust.keyset.keys, { ...keyEntryOf(revokedKey), revoked: true }, keyEntryOf(expiredKey, '2026-01-01T00:00:00Z')],
};

let h: Harness;
let worker: Worker;
let running: Promise<void>;

before(async () => {
  h = await createHarness('verification_order');
  worker = await h.worker({ keyset, workerOptions: { shutdownGraceTime: '10s' } });
  running = worker.run();
});
after(async () => {
  worker?.shutdown();
  await running;
  await h?.close();
});

const SCALE = { tool: 'services.scale', args: { service: 'api', replicas: 9 }, reasoning: 'load' };

describe('the verification order, in the workflow', () => {
  it('refuses each forged vote with the exact alert rule; then a real deny ends the call unexecuted and audit verify holds', async () => {
    const before = await productionSnapshot(h);
    const s = await h.gh.startSession({ agentId: 'order-bot', owner: 'eng-007', intent: 'scale the api' });
    const pending = s.propose(SCALE);
    const p = await pendingApproval(s);
    const v = voteFor(p);
    const alice = trust.approver('alice');
    const fields = { kind: 'vote' as const, workflowId: v.workflowId, firstRunId: v.firstRunId, approvalId: v.approvalId, callDigest: v.callDigest, tool: v.tool, verdict: 'approve' as const };
    const now = Date.now();
    const base = { v: 1, ...fields, keyId: alice.keyId, issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString() };
    const nonce = () => `${Math.random().toString(16).slice(2)}${'0'.repeat(16)}`;
    // Bytes that are not JSON, correctly signed by alice: only the payload check refuses them.
    const notJson = new TextEncoder().encode('{"v":1,');
    const notJsonEnvelope = { payloadType: DECISION_PAYLOAD_TYPE, payload: base64.encode(notJson), signatures: [{ keyid: alice.keyId, sig: base64.encode(ed25519.sign(pae(DECISION_PAYLOAD_TYPE, notJson), secretKeyBytes(alice))) }] };

    const forged: [string, unknown][] = [
      ['envelope.key-revoked', signedVote(revokedKey, v)],
      ['envelope.key-expired', signedVote(expiredKey, v)],
      ['envelope.payload-type', signEnvelope({ ...base, nonce: nonce() }, secretKeyBytes(alice), alice.keyId, 'application/json')],
      ['envelope.payload', notJsonEnvelope],
      ['decision.kind', signDecision(alice, { kind: 'resume', workflowId: v.workflowId, firstRunId: v.firstRunId })],
      ['decision.key-id', signEnvelope({ ...base, keyId: trust.approver('bob').keyId, nonce: nonce() }, secretKeyBytes(alice), alice.keyId)],
      ['decision.not-yet-valid', signedVote(alice, v, { now: now + 30 * 60_000 })],
      ['decision.lifetime', signedVote(alice, v, { now: now - 60_000, ttlMs: 25 * 60 * 60_000 })],
    ];
    for (const [rule, envelope] of forged) {
      await s.workflow.signal('approval', envelope as never);
      const alert = await alertEvent(h, s.sessionId, rule);
      assert.equal(alert.detail?.rule, rule);
    }
    // Eight alerts, one per forgery, none of another rule; no vote counted.
    const alerts = (await h.events(s.sessionId)).filter((e) => e.kind === 'alert').map((e) => e.detail?.rule);
    assert.deepEqual(alerts, forged.map(([rule]) => rule));
    assert.deepEqual((await s.state()).pendingApprovals.map((a) => a.approvedBy), [[]]);

    await s.workflow.signal('approval', signedVote(alice, voteFor(p, false, 'red team: not this one')));
    assert.equal((await pending).status, 'denied');
    assert.deepEqual(await productionSnapshot(h), before);
    await assertNotExecuted(h, s.sessionId);
    await s.end({});
    const report = await verifyDatabase(h.audit.pool, { keyset });
    assert.equal(report.ok, true, formatVerifyReport(report));
  });

  it('audit verify against a keyset that revokes a key later refuses the votes that key signed before, at once', async () => {
    const s = await h.gh.startSession({ agentId: 'order-bot', owner: 'eng-007', intent: 'scale the api' });
    const call = s.propose({ ...SCALE, args: { service: 'api', replicas: 3 } });
    const p = await pendingApproval(s);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p)));
    assert.equal((await call).status, 'executed');
    await s.end({});
    const events = await h.events(s.sessionId);
    const approved = events.find((e) => e.kind === 'approved');
    const executed = events.find((e) => e.kind === 'executed');
    assert.ok(approved && executed, 'the approval and the call are in the trail');

    const held = await verifyDatabase(h.audit.pool, { keyset });
    assert.equal(held.ok, true, formatVerifyReport(held));
    const aliceId = trust.approver('alice').keyId;
    const later: Keyset = { ...keyset, keys: keyset.keys.map((k) => (k.keyId === aliceId ? { ...k, revoked: true } : k)) };
    const report = await verifyDatabase(h.audit.pool, { keyset: later });
    assert.equal(report.ok, false);
    const findings = report.votes.filter((f) => f.sessionId === s.sessionId);
    // Her vote no longer verifies, so the call it let run has no valid vote behind it.
    assert.deepEqual(findings.map((f) => [f.seq, f.rule]), [[approved.seq, 'envelope.key-revoked'], [executed.seq, 'vote.missing']]);
  });
});
