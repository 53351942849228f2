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

describe('effect', () => {
  it('reads the verb where each naming style puts it', () => {
    assert.equal(inferToolEffect('k8s.rollout.status'), 'read');
    assert.equal(inferToolEffect('statusRollout'), 'read');
    assert.equal(inferToolEffect('k8s_restart_rollout'), 'write');
    assert.equal(inferToolEffect('dns-dnssec-disable'), 'destructive');
    assert.equal(inferToolEffect('db_run_readonly_query'), 'read');
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
