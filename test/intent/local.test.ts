/**
 * The local intent scorer (no network): calibration in both directions on the sample catalog,
 * decay of older actions, intent comparison for sub-agents, and configuration from the environment.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createIntentActivities } from '../../activities/intent/activities';
import { intentConfigFromEnv } from '../../activities/intent/config';
import { IntentConfigError } from '../../activities/intent/errors';
import { actionText, createIntentScorer } from '../../activities/intent/scorer';
import { tokens } from '../../activities/intent/text';
import { createSampleCatalog } from '../../activities/tools/sample';

const INTENT = 'clean up the test billing records from last month';
const NOW = Date.parse('2026-11-21T12:00:00Z');
const MIN = 60_000;
const catalog = createSampleCatalog({ productionPool: new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' }) });
const { scoreIntent, compareIntents } = createIntentActivities(createIntentScorer({ kind: 'local', halfLifeMs: 10 * MIN }), { catalog });

function act(tool: string, minutesAgo: number, args?: Record<string, unknown>) {
  return { tool, at: new Date(NOW - minutesAgo * MIN).toISOString(), ...(args ? { args } : {}) };
}

describe('local scorer calibration', () => {
  it('scores billing queries and deletes as aligned with a billing cleanup', async () => {
    const { score, perAction } = await scoreIntent({
      intent: INTENT,
      actions: [act('billing.query', 2, { period: '2026-10', testOnly: true }), act('billing.deleteRecords', 1, { period: '2026-10', testOnly: true })],
      now: NOW,
    });
    assert.ok(score >= 0.8, `score ${score}`);
    assert.ok(perAction.every((s) => s >= 0.8), `perAction ${perAction}`);
  });

  it('scores volume unmounts and secret rotations as drift', async () => {
    const { score, perAction } = await scoreIntent({
      intent: INTENT,
      actions: [act('volumes.unmount', 2, { volumeId: 'vol-db01' }), act('secrets.rotate', 1, { service: 'api', secret: 'db-password' })],
      now: NOW,
    });
    assert.ok(score <= 0.15, `score ${score}`);
    assert.ok(perAction.every((s) => s <= 0.15), `perAction ${perAction}`);
  });

  it('scores a session with no actions as aligned', async () => {
    assert.equal((await scoreIntent({ intent: INTENT, actions: [], now: NOW })).score, 1);
  });
});

describe('session rule', () => {
  const aligned = (m: number) => act('billing.deleteRecords', m, { testOnly: true });
  const drift = (m: number) => act('secrets.rotate', m, { service: 'api', secret: 'db-password' });

  it('does not let a deviating write hide behind earlier aligned calls: the lowest recent call is the score', async () => {
    const r = await scoreIntent({ intent: INTENT, actions: [aligned(5), aligned(4), aligned(3), drift(1)], now: NOW });
    assert.equal(r.score, r.perAction[3]);
    assert.ok(r.score <= 0.15, `score ${r.score}`);
  });

  it('forgets a deviation once five later calls are aligned', async () => {
    const r = await scoreIntent({ intent: INTENT, actions: [drift(9), aligned(5), aligned(4), aligned(3), aligned(2), aligned(1)], now: NOW });
    assert.ok(r.score >= 0.8, `score ${r.score}`);
  });

  it('softens an off-topic read (0.6 + 0.4 × its score): alone it never sends the session to review', async () => {
    const read = await scoreIntent({ intent: INTENT, actions: [act('volumes.list', 1)], now: NOW });
    assert.equal(read.perAction[0], 0);
    assert.equal(read.score, 0.6);
  });
});

describe('compareIntents', () => {
  it('finds a child intent near or far from its parent', async () => {
    const near = await compareIntents(INTENT, 'delete the QA invoices of last month');
    const far = await compareIntents(INTENT, 'rotate the database credentials of the api service');
    assert.ok(near.score >= 0.7, `near ${near.score}`);
    assert.ok(far.score <= 0.1, `far ${far.score}`);
  });
});

describe('text and configuration', () => {
  it('splits tool names and merges synonyms', () => {
    assert.deepEqual(tokens('billing.deleteRecords'), ['billing', 'delete', 'record']);
    assert.deepEqual(tokens('Clean up invoices'), ['delete', 'billing']);
    assert.match(actionText({ tool: 'env.modifyProduction', at: 0, args: { key: 'LOG_LEVEL', value: '[REDACTED]', service: 'api' } }), /LOG_LEVEL api$/);
  });

  it('reads the scorer from the environment', () => {
    assert.deepEqual(intentConfigFromEnv({}), { kind: 'local' });
    assert.deepEqual(intentConfigFromEnv({ GATEHOUSE_INTENT_HALF_LIFE_MS: '1000' }), { kind: 'local', halfLifeMs: 1000 });
    assert.deepEqual(
      intentConfigFromEnv({ GATEHOUSE_INTENT_SCORER: 'openai', GATEHOUSE_EMBEDDINGS_URL: 'http://127.0.0.1:9/v1', GATEHOUSE_EMBEDDINGS_API_KEY: 'k' }),
      { kind: 'openai', baseUrl: 'http://127.0.0.1:9/v1', model: 'text-embedding-3-small', apiKey: 'k' },
    );
    assert.throws(() => intentConfigFromEnv({ GATEHOUSE_INTENT_SCORER: 'openai' }), IntentConfigError);
    assert.throws(() => intentConfigFromEnv({ GATEHOUSE_INTENT_SCORER: 'bert' }), /unknown GATEHOUSE_INTENT_SCORER `bert`/);
    assert.throws(() => intentConfigFromEnv({ GATEHOUSE_INTENT_HALF_LIFE_MS: '-5' }), IntentConfigError);
    // Text that is no URL is not echoed: it may still hold a key.
    assert.throws(() => intentConfigFromEnv({ GATEHOUSE_INTENT_SCORER: 'openai', GATEHOUSE_EMBEDDINGS_URL: 'sk-live-abc123 https//x' }), (err: unknown) => {
      assert.ok(err instanceof IntentConfigError);
      assert.equal(err.message, 'invalid GATEHOUSE_EMBEDDINGS_URL: not a URL');
      return true;
    });
  });
});
