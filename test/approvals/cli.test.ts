/**
 * `gatehouse approvals list | approve | deny`: the same checks and signal as a Slack click, for
 * teams without Slack. In-process for the cases, and once through the real `gatehouse` binary
 * (configuration from the environment, exit codes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { decideFromCli, listApprovals, type CommandIo } from '../../cli/commands/approvals';
import { temporalSignaler } from '../../approvals/decide';
import { getTestServers } from '../support/servers';
import { requirement, startHarness, type Harness } from './helpers';

let h: Harness;
before(async () => {
  h = await startHarness({ prefix: 'approvals_cli' });
});
after(async () => {
  await h?.close();
});

function bufferIo(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

const deps = () => ({ store: h.store, signal: temporalSignaler(h.client) });

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '../../bin/gatehouse.js'), ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('gatehouse approvals', () => {
  test('list shows pending approvals; --json gives the records; --all includes decided ones', async () => {
    const a = await h.newApproval();
    const io = bufferIo();
    assert.equal(await listApprovals(h.store, {}, io), 0);
    const table = io.stdout.join('\n');
    assert.ok(table.includes(a.req.approvalId) && table.includes('billing.deleteRecords') && table.includes('0/1'));

    await h.activities.resolveApproval(a.req, { approvalId: a.req.approvalId, status: 'expired', decidedBy: [], at: new Date().toISOString() });
    const pending = bufferIo();
    await listApprovals(h.store, { json: true }, pending);
    assert.ok(!(JSON.parse(pending.stdout.join('')) as Array<{ approvalId: string }>).some((r) => r.approvalId === a.req.approvalId));
    const all = bufferIo();
    await listApprovals(h.store, { json: true, all: true }, all);
    const found = (JSON.parse(all.stdout.join('')) as Array<{ approvalId: string; status: string }>).find((r) => r.approvalId === a.req.approvalId);
    assert.equal(found?.status, 'expired');
  });

  test('approve --as an approver signals the workflow; a refusal exits 1 and signals nothing', async () => {
    const a = await h.newApproval();
    const refused = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'mallory' }, refused), 1);
    assert.match(refused.stderr.join('\n'), /refused \(not-an-approver\): `mallory` is not in an approver group/);
    const self = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'billing-bot' }, self), 1);
    assert.match(self.stderr.join('\n'), /self-approval/);
    const owner = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'eng-007' }, owner), 1);
    assert.match(owner.stderr.join('\n'), /four-eyes/);
    assert.deepEqual(await h.received(a.handle), []);

    const ok = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'bob', reason: 'checked' }, ok), 0);
    assert.match(ok.stdout.join('\n'), /approved `.+` \(billing.deleteRecords\) as `bob`/);
    assert.deepEqual(await h.received(a.handle), [{ approvalId: a.req.approvalId, approve: true, approver: 'bob', reason: 'checked' }]);

    const again = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'U0ALICE' }, again), 1);
    assert.match(again.stderr.join('\n'), /already-decided/);
  });

  test('deny needs a reason; an unknown id is a clear refusal', async () => {
    const a = await h.newApproval({ requirement: requirement({ approversRequired: 2 }) });
    const noReason = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: false, as: 'bob', reason: ' ' }, noReason), 1);
    assert.match(noReason.stderr.join('\n'), /reason-required/);
    const denied = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: false, as: 'bob', reason: 'wrong month', json: true }, denied), 0);
    assert.deepEqual(JSON.parse(denied.stdout.join('')), { ok: true, approver: 'bob', group: 'sre', final: true });
    assert.deepEqual(await h.received(a.handle), [{ approvalId: a.req.approvalId, approve: false, approver: 'bob', reason: 'wrong month' }]);
    const unknown = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: 'nope:1', approve: true, as: 'bob' }, unknown), 1);
    assert.match(unknown.stderr.join('\n'), /not-found\): no approval `nope:1`/);
  });

  test('the gatehouse binary: configuration from the environment, exit codes', async () => {
    const servers = await getTestServers();
    const a = await h.newApproval();
    const env = {
      DATABASE_URL: h.db.url,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_NAMESPACE: servers.namespace,
      GATEHOUSE_STACK_FILE: join(__dirname, 'no-such-stack.json'),
    };
    const refused = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'mallory'], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /not-an-approver/);
    const approved = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'U0ALICE'], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.deepEqual((await h.received(a.handle)).map((s) => s.approver), ['U0ALICE']);
    const missing = await runCli(['approvals', 'deny', a.req.approvalId, '--as', 'bob'], env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--reason/);
  });
});
