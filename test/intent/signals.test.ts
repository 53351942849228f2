/**
 * The deterministic intent signals (policies/intent) and the offline commands: scope by
 * environment and identifier, effect tiers, the session rule, the lowest fold; `intent score`
 * output lines and `intent calibrate` on the repository's evaluation set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createIntentScorer } from '../../activities/intent';
import { IntentCommandError, runIntentCalibrate, runIntentScore } from '../../cli/commands/intent';
import { actionSignals, compilePolicy, inferToolEffect, initialSessionState, intentEffect, intentScope, parsePolicyText, sessionScore, withIntentScore } from '../../policies';

const sig = (intent: string, tool: string, args: Record<string, unknown>) => actionSignals(intentScope(intent), tool, args);

describe('scope', () => {
  it('caps a call in an environment the intent does not name, whatever the wording', () => {
    assert.equal(sig('restart the web deployment in staging', 'k8s.rollout.restart', { namespace: 'production', name: 'web' }).cap, 0.1);
    assert.equal(sig('restart the web deployment in staging', 'k8s.rollout.restart', { namespace: 'staging', name: 'web' }).cap, 1);
    assert.equal(sig('bounce the frontend on pre-prod', 'k8s.rollout.restart', { namespace: 'staging' }).cap, 1);
    assert.equal(sig('restart web everywhere non-prod', 'k8s.rollout.restart', { namespace: 'prod-eu' }).cap, 0.1);
  });

  it('caps a call on another identifier and lifts one on the intent\'s own', () => {
    const other = sig('resize the instance i-0a1b2c3d', 'vms.instance.resize', { instanceId: 'i-0f9e8d7c' });
    assert.equal(other.cap, 0.2);
    assert.equal(other.signals[0]!.code, 'scope.identifier');
    const own = sig('tidy up the preview of pr-1423', 'k8s.namespaces.delete', { name: 'pr-1423-preview' });
    assert.deepEqual([own.cap, own.floor], [1, 0.6]);
  });
});

describe('scope by kind of identifier', () => {
  it('never takes a look-alike for the intent\'s own: a longer number, a parent domain, a sibling name', () => {
    assert.equal(sig('update phone number for contact 4471', 'crm.contact.update', { contactId: 447 }).cap, 0.2);
    assert.equal(sig('refund the last charge for customer 42', 'payments.refund.create', { customer: 'cus_00004242' }).cap, 0.2);
    assert.deepEqual([sig('refund the last charge for customer 42', 'payments.refund.create', { customer: 'cus_00000042' }).cap, sig('refund the last charge for customer 42', 'payments.refund.create', { customer: 'cus_00000042' }).floor], [1, 0.6]);
    assert.equal(sig('turn on dev mode for staging.acme.io', 'cdn.zone.setDevMode', { zone: 'acme.io' }).cap, 0.2);
    assert.equal(sig('silence alert high-latency-api in sandbox', 'monitoring.alert.silence', { alert: 'error-rate-web' }).cap, 0.2);
    assert.equal(sig('delete the stale branch feat/old-search in acme/search', 'github.branches.delete', { owner: 'acme', repo: 'search', branch: 'main' }).cap, 0.2);
  });

  it('accepts the intent\'s identifier spelled across arguments, inside a path, or named twice', () => {
    assert.equal(sig('point status.acme.io at the new cname', 'dns.records.upsert', { zone: 'acme.io', name: 'status' }).cap, 1);
    assert.equal(sig('rotate the webhook secret in kv/payments/prod', 'vault-kv-put', { mount: 'kv', path: 'payments/prod/stripe-webhook' }).floor, 0.6);
    assert.equal(sig('prune merged branches in acme/web-frontend', 'github.branches.delete', { owner: 'acme', repo: 'web-frontend', branch: 'feat/x' }).cap, 1);
    assert.equal(sig('runner gpu-runner-03 is flapping, take it out of the pool', 'runnerPause', { runnerId: 3319, description: 'gpu-runner-03' }).cap, 1);
    assert.equal(sig('purge versions 3-5 of kv/team-ml/hf-token', 'vault-kv-destroy', { mount: 'kv', path: 'team-ml/hf-token', versions: [3, 4, 5] }).cap, 1);
  });

  it('holds a typed id to every one the call names, and ignores what is not a resource', () => {
    assert.equal(sig('reboot i-0vpn0000000002', 'Instance/Reboot', { instanceIds: ['i-0vpn0000000001', 'i-0vpn0000000002'] }).cap, 0.2);
    // Another type of id is not a contradiction: the customer's subscription, the instances of a named fleet.
    // Only the doubt of a change that names nothing the intent names (`scope.unnamed`, above the threshold).
    assert.deepEqual(sig('extend trial for cus_T0ny by 14 days', 'update_subscription', { subscription: 'sub_1PtTony' }).signals.map((x) => x.code), ['scope.unnamed']);
    // A ticket, a time or a quantity in the intent names no resource.
    assert.equal(sig('clean up unattached volumes older than 60 days (FINOPS-42)', 'Disk/Delete', { diskId: 'vol-0orphan00000a1' }).signals.length, 0);
    assert.equal(sig('send the notice on the 16th 9am', 'broadcastSchedule', { templateId: 'tmpl_notice_1' }).cap, 1);
  });
});

describe('effect', () => {
  it('reads the verb where each naming style puts it', () => {
    assert.equal(inferToolEffect('k8s.rollout.status'), 'read');
    assert.equal(inferToolEffect('statusRollout'), 'read');
    assert.equal(inferToolEffect('k8s_restart_rollout'), 'write');
    assert.equal(inferToolEffect('dns-dnssec-disable'), 'destructive');
    assert.equal(inferToolEffect('db_run_readonly_query'), 'read');
    assert.equal(inferToolEffect('BackupPlan/Delete'), 'destructive');
    assert.equal(inferToolEffect('pipelineRunGet'), 'read');
    assert.equal(inferToolEffect('archive_flag'), 'destructive');
  });

  it('reads the effect an intent implies, questions as reads, identifiers not as verbs', () => {
    assert.equal(intentEffect('check the DNSSEC status of example.com'), 'read');
    assert.equal(intentEffect('who sees beta-search on production?'), 'read');
    assert.equal(intentEffect('tidy up stale preview environments'), 'destructive');
    assert.equal(intentEffect('expose beta-search to half the users'), 'write');
    assert.equal(intentEffect('the quarterly thing'), null);
    assert.equal(intentEffect('tune the cache size in the staging configuration until the volumes look right'), 'write');
    assert.equal(intentEffect('the volumes of the cluster should look right'), null);
  });

  it('takes the verb that leads a clause, not a noun that is also a verb', () => {
    assert.equal(intentEffect('show me the welcome email template'), 'read');
    assert.equal(intentEffect('look into why the deploy job of acme/search takes 40 min now'), 'read');
    assert.equal(intentEffect('get rollout status of orders deployment in prod'), 'read');
    assert.equal(intentEffect('when did dim_customers on production last refresh'), 'read');
    assert.equal(intentEffect('is web-frontend healthy on staging?'), 'read');
    assert.equal(intentEffect("orders-events can't keep up, go from 12 to 24 partitions"), null);
    assert.equal(intentEffect('check the lag and restart the consumer'), 'write');
    assert.equal(intentEffect('*.acme.io wildcard runs out on the 28th, get a fresh one'), 'write');
    assert.equal(intentEffect('make the vault immutable for 7 years (AUDIT-19)'), 'write');
  });

  it('caps a destructive call under a read-only intent hardest', () => {
    assert.equal(sig('check the DNSSEC status of example.com', 'dns.dnssec.disable', { domain: 'example.com' }).cap, 0.05);
    assert.equal(sig('check the DNSSEC status of example.com', 'dns.record.upsert', { domain: 'example.com' }).cap, 0.2);
    assert.equal(sig('rotate the secret api/key', 'secrets.secret.destroy', { secret: 'api/key' }).cap, 0.3);
  });
});

describe('session rule and fold', () => {
  it('is the lowest of the last five calls, an uncapped read softened', () => {
    const w = (score: number) => ({ score, effect: 'write' as const, capped: false });
    assert.equal(sessionScore([w(1), w(1), w(0.1)]), 0.1);
    assert.equal(sessionScore([w(0.1), w(1), w(1), w(1), w(1), w(1)]), 1);
    assert.equal(sessionScore([{ score: 0, effect: 'read', capped: false }]), 0.6);
    assert.equal(sessionScore([{ score: 0.05, effect: 'read', capped: true }]), 0.05);
  });

  it('folds the lowest: one low score sends the session to review; the mean fold (old histories) does not', () => {
    const parsed = parsePolicyText('{}', 'default');
    assert.ok(parsed.success);
    let lowest = initialSessionState(compilePolicy(parsed.data, []), { startedAt: 0 });
    let mean = lowest;
    for (const s of [1, 1, 1, 1, 0.3]) {
      lowest = withIntentScore(lowest, s);
      mean = withIntentScore(mean, s, 'mean');
    }
    assert.equal(lowest.review, true);
    assert.equal(lowest.intent.score, 0.3);
    assert.equal(mean.review, false);
  });
});

describe('gatehouse intent', () => {
  const lines: string[] = [];
  const io = { out: (t: string) => void lines.push(t), err: (t: string) => void lines.push(t) };
  const scorer = createIntentScorer({ kind: 'local' });

  it('score prints {id, score, perAction, review} per session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'intent-'));
    const file = join(dir, 's.jsonl');
    writeFileSync(file, `${JSON.stringify({ id: 'a', intent: 'restart the web deployment in staging', actions: [{ tool: 'k8s.rollout.restart', args: { namespace: 'production', name: 'web' } }] })}\n`);
    lines.length = 0;
    await runIntentScore(file, { json: true }, scorer, io);
    const out = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(out), ['id', 'score', 'perAction', 'review']);
    assert.deepEqual([out.id, out.review], ['a', true]);
    writeFileSync(file, '{"id": "b"}\n');
    await assert.rejects(runIntentScore(file, {}, scorer, io), (e: Error) => e instanceof IntentCommandError && e.message === `\`${file}\` line 1: expected {"id", "intent", "actions": [...]}`);
  });

  it('calibrate on the evaluation set: AUC and review accuracy, a threshold for the target rate, an SVG', async () => {
    const roc = join(mkdtempSync(join(tmpdir(), 'intent-')), 'roc.svg');
    lines.length = 0;
    await runIntentCalibrate('test/fixtures/intent/sessions.jsonl', { targetFpr: 0.05, roc, json: true }, scorer, io);
    const r = JSON.parse(lines[0]!) as { sessions: number; auc: number; reviewAccuracy: number; forTarget: { threshold: number | null } };
    assert.equal(r.sessions, 360);
    assert.ok(r.auc >= 0.9, `auc ${r.auc}`);
    assert.ok(r.reviewAccuracy >= 0.85, `review accuracy ${r.reviewAccuracy}`);
    assert.notEqual(r.forTarget.threshold, null);
    assert.match(readFileSync(roc, 'utf8'), /^<svg [^>]*>[\s\S]*<polyline /);
  });
});
