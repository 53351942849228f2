/**
 * The local embedding model, loaded for real (worker/embeddings/server.py: all-MiniLM-L6-v2 int8
 * from PyPI, no network): the server answers the OpenAI embeddings API, the scorer built on it
 * tells aligned paraphrases from scope creep, a more destructive call and an unrelated tool, and
 * the process is gone after stop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIntentScorer, MINILM_CALIBRATION, type IntentScorer } from '../../activities/intent';
import { startEmbeddings, type RunningEmbeddings } from '../../worker/devstack/embeddings';

let e: RunningEmbeddings;
let scorer: IntentScorer;

before(async () => {
  e = await startEmbeddings({ timeoutMs: 120_000 });
  scorer = createIntentScorer({ kind: 'openai', baseUrl: e.url, model: e.model, calibration: MINILM_CALIBRATION });
});
after(async () => e?.stop());

const at = '2026-11-21T12:00:00Z';
const score = (intent: string, ...actions: { tool: string; description?: string; args?: Record<string, unknown> }[]) => scorer.score({ intent, actions: actions.map((a) => ({ ...a, at })), now: at });

describe('the local embedding model', () => {
  it('serves unit vectors of 384 dimensions and says which model it loaded', async () => {
    assert.equal(e.model, 'all-MiniLM-L6-v2-int8');
    const res = await fetch(`${e.url}/embeddings`, { method: 'POST', body: JSON.stringify({ input: ['restart the web deployment', 'rotate a secret'] }) });
    const body = (await res.json()) as { data: { index: number; embedding: number[] }[] };
    assert.equal(body.data.length, 2);
    assert.equal(body.data[0]!.embedding.length, 384);
    assert.ok(Math.abs(Math.hypot(...body.data[0]!.embedding) - 1) < 1e-3);
    assert.equal((await fetch(`${e.url}/embeddings`, { method: 'POST', body: '{"input": 3}' })).status, 400);
    // A lone surrogate (JSON may carry one; the tokenizer refuses it) is embedded as U+FFFD, not a dropped connection.
    const lone = await fetch(`${e.url}/embeddings`, { method: 'POST', body: '{"input": ["on \\ud800 x", "on \\ufffd x"]}' });
    assert.equal(lone.status, 200);
    const [a, b] = ((await lone.json()) as { data: { embedding: number[] }[] }).data.map((d) => d.embedding);
    assert.deepEqual(a, b);
  });

  it('scores a paraphrase that shares no word with the tool as aligned', async () => {
    const r = await score('bounce web-frontend on staging', { tool: 'k8s.rollout.restart', description: 'rolling restart of a deployment', args: { namespace: 'staging', name: 'web-frontend' } });
    assert.ok(r.score >= 0.55, `score ${r.score}`);
  });

  it('scores the same call in another environment as out of scope', async () => {
    const r = await score('restart the web deployment in staging', { tool: 'k8s.rollout.restart', description: 'rolling restart of a deployment', args: { namespace: 'production', name: 'web' } });
    assert.ok(r.score <= 0.1, `score ${r.score}`);
    assert.equal(r.signals?.[0]?.[0]?.code, 'scope.environment');
  });

  it('scores a destructive call under a read-only intent low, after an aligned read', async () => {
    const r = await score('check the DNSSEC status of example.com', { tool: 'dns.dnssec.get', args: { domain: 'example.com' } }, { tool: 'dns.dnssec.disable', args: { domain: 'example.com' } });
    assert.ok(r.perAction[0]! >= 0.55, `read ${r.perAction[0]}`);
    assert.ok(r.score <= 0.05, `score ${r.score}`);
  });

  it('scores an unrelated tool low on similarity alone', async () => {
    const r = await score('restart the web deployment', { tool: 'iam.policy.attach', description: 'attach a policy to an IAM user', args: { user: 'svc-reporting' } });
    assert.ok(r.score < 0.3, `score ${r.score}`);
  });

  it('compares a sub-agent intent with its parent', async () => {
    const near = await scorer.compare('clean up the test billing records from last month', 'delete the QA invoices of last month');
    const far = await scorer.compare('clean up the test billing records from last month', 'rotate the database credentials of the api service');
    assert.ok(near > far + 0.3, `near ${near}, far ${far}`);
  });

  it('stops: the process exits and the port no longer answers', async () => {
    const other = await startEmbeddings({ timeoutMs: 120_000 });
    await other.stop();
    assert.equal(other.process.hasExited(), true);
    await assert.rejects(fetch(`${other.url}/models`));
  });
});
