/**
 * The OpenAI-compatible embeddings scorer against a local HTTP server started here (127.0.0.1,
 * free port) that answers `POST /v1/embeddings` with deterministic bag-of-words embeddings and
 * records each request: request shape, authentication, scoring in both directions, caching of
 * repeated texts, and failures mapped to retryable / non-retryable ApplicationFailures.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { createIntentActivities } from '../../activities/intent/activities';
import { intentConfigFromEnv } from '../../activities/intent/config';
import { createEmbeddingsClient, redactedEndpoint } from '../../activities/intent/embeddings';
import { createIntentScorer } from '../../activities/intent/scorer';
import { tokens } from '../../activities/intent/text';
import { intentScorerFor } from '../../worker/devstack/embeddings';

const DIM = 64;
interface Seen {
  readonly path: string;
  readonly auth: string | undefined;
  readonly body: { model: string; input: string[] };
}
const requests: Seen[] = [];
/** Status the server answers with next (200 = embeddings). */
let nextStatus = 200;
let server: Server;
let baseUrl: string;

/** A deterministic embedding: each canonical token hashed into one of DIM buckets. */
function embed(text: string): number[] {
  const v = new Array<number>(DIM).fill(0);
  for (const t of tokens(text)) v[createHash('sha256').update(t).digest()[0]! % DIM]! += 1;
  return v;
}

async function readBody(req: IncomingMessage): Promise<string> {
  let s = '';
  for await (const chunk of req) s += chunk;
  return s;
}

before(async () => {
  server = createServer(async (req, res) => {
    const body = JSON.parse(await readBody(req)) as Seen['body'];
    requests.push({ path: req.url ?? '', auth: req.headers.authorization, body });
    if (nextStatus !== 200) {
      res.writeHead(nextStatus, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'nope' } }));
      return;
    }
    // Answer in reverse order: the client must place embeddings by `index`.
    const data = body.input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })).reverse();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: body.model }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const INTENT = 'clean up the test billing records from last month';
const NOW = Date.parse('2026-11-21T12:00:00Z');

describe('openai-compatible embeddings scorer', () => {
  it('is selected by the environment and posts { model, input } with the api key', async () => {
    const config = intentConfigFromEnv({
      GATEHOUSE_INTENT_SCORER: 'openai',
      GATEHOUSE_EMBEDDINGS_URL: baseUrl,
      GATEHOUSE_EMBEDDINGS_MODEL: 'test-embed-1',
      GATEHOUSE_EMBEDDINGS_API_KEY: 'sk-test',
    });
    const scorer = createIntentScorer(config);
    assert.equal(scorer.kind, 'openai');
    const { scoreIntent } = createIntentActivities(scorer);
    const before = requests.length;
    const aligned = await scoreIntent({
      intent: INTENT,
      actions: [{ tool: 'billing.deleteRecords', description: 'Delete billing records of production matching a filter', args: { testOnly: true }, at: NOW }],
      now: NOW,
    });
    const drift = await scoreIntent({
      intent: INTENT,
      actions: [{ tool: 'volumes.unmount', description: 'Unmount a production volume', args: { volumeId: 'vol-db01' }, at: NOW }],
      now: NOW,
    });
    assert.equal(aligned.scorer, 'openai');
    assert.ok(aligned.score >= 0.8, `aligned ${aligned.score}`);
    assert.ok(drift.score <= 0.1, `drift ${drift.score}`);

    const seen = requests.slice(before);
    assert.equal(seen.length, 2);
    assert.deepEqual(seen.map((r) => [r.path, r.auth, r.body.model]), [
      ['/v1/embeddings', 'Bearer sk-test', 'test-embed-1'],
      ['/v1/embeddings', 'Bearer sk-test', 'test-embed-1'],
    ]);
    assert.equal(seen[0]!.body.input[0], INTENT);
    assert.equal(seen[1]!.body.input.includes(INTENT), false, 'the intent is embedded once, then cached');
  });

  it('returns a cached text\'s vector even when storing the call\'s new texts evicts it (512 remembered)', async () => {
    const client = createEmbeddingsClient({ kind: 'openai', baseUrl, model: 'm' });
    const first = Array.from({ length: 512 }, (_, i) => `text ${i} alpha`);
    await client(first);
    // `text 0 alpha` is cached and the oldest: storing `a new text` evicts it during this very call.
    const [old, fresh] = await client(['text 0 alpha', 'a new text']);
    assert.deepEqual(old, embed('text 0 alpha'));
    assert.deepEqual(fresh, embed('a new text'));
  });

  it('compares intents', async () => {
    const { compareIntents } = createIntentActivities(createIntentScorer({ kind: 'openai', baseUrl }));
    assert.ok((await compareIntents(INTENT, 'delete the QA invoices of last month')).score >= 0.7);
    assert.ok((await compareIntents(INTENT, 'rotate the api credentials')).score <= 0.1);
    assert.equal(requests.at(-1)!.auth, undefined, 'no key, no header');
  });

  it('maps a 5xx to a retryable failure and a 4xx to a non-retryable one', async () => {
    const { scoreIntent } = createIntentActivities(createIntentScorer({ kind: 'openai', baseUrl }));
    const input = (n: number) => ({ intent: `intent ${n}`, actions: [{ tool: 'billing.query', description: `q ${n}`, at: NOW }], now: NOW });
    try {
      nextStatus = 503;
      await assert.rejects(scoreIntent(input(1)), (e: unknown) => e instanceof ApplicationFailure && e.type === 'EmbeddingsUnavailable' && !e.nonRetryable);
      nextStatus = 401;
      await assert.rejects(scoreIntent(input(2)), (e: unknown) => e instanceof ApplicationFailure && e.type === 'EmbeddingsRejected' && e.nonRetryable === true);
    } finally {
      nextStatus = 200;
    }
    // Recovered: the same answer a scorer that never saw a failure gives, from a 200 of the server.
    const recovered = await scoreIntent(input(3));
    assert.equal(requests.at(-1)!.body.input.includes('intent 3'), true);
    const fresh = await createIntentActivities(createIntentScorer({ kind: 'openai', baseUrl })).scoreIntent(input(3));
    assert.deepEqual(recovered, fresh);
  });

  it('names its endpoint without the credentials the URL carries, in every failure and in the start banner', async () => {
    const input = { intent: 'x', actions: [{ tool: 'billing.query', at: NOW }], now: NOW };
    // A user name and password: Node's fetch refuses the URL, quoting it whole.
    const withUser = baseUrl.replace('http://', 'http://svc-user:pa%40ss-SECRET-1@');
    const refused = await createEmbeddingsClient({ kind: 'openai', baseUrl: withUser })(['a']).then(() => assert.fail('no error'), (e: unknown) => e as Error);
    assert.match(refused.message, /^embeddings endpoint `http:\/\/\*\*\*@127\.0\.0\.1:\d+\/v1\/embeddings` unreachable: /);
    for (const secret of ['svc-user', 'pa%40ss-SECRET-1', 'pa@ss-SECRET-1']) assert.equal(refused.message.includes(secret), false, `${secret} in ${refused.message}`);
    assert.equal(refused.cause, undefined, 'the refusal quoting the URL is not kept as the cause');
    // A key in the query string (the server answers 401 this time).
    try {
      nextStatus = 401;
      const keyed = createIntentActivities(createIntentScorer({ kind: 'openai', baseUrl: `${baseUrl}?api-key=KEY-SECRET-2` }));
      await assert.rejects(keyed.scoreIntent(input), (e: unknown) => e instanceof ApplicationFailure && e.type === 'EmbeddingsRejected' && !e.message.includes('KEY-SECRET-2') && e.message.includes('/v1?***'));
    } finally {
      nextStatus = 200;
    }
    // What `gatehouse start` prints of a configured endpoint.
    const chosen = await intentScorerFor({ GATEHOUSE_INTENT_SCORER: 'openai', GATEHOUSE_EMBEDDINGS_URL: 'https://svc-user:SECRET-3@embeddings.example/v1?api-key=SECRET-4', GATEHOUSE_EMBEDDINGS_MODEL: 'm' });
    assert.equal(chosen.description, 'embeddings at https://***@embeddings.example/v1?*** (m)');
  });

  it('redactedEndpoint hides user info, query string and fragment, and keeps the rest', () => {
    assert.equal(redactedEndpoint('http://127.0.0.1:8080/v1'), 'http://127.0.0.1:8080/v1');
    assert.equal(redactedEndpoint('https://key-only@api.example/v1'), 'https://***@api.example/v1');
    assert.equal(redactedEndpoint('https://:pw@api.example/v1'), 'https://***@api.example/v1', 'an empty user name');
    assert.equal(redactedEndpoint('https://u:p@ss@api.example/v1'), 'https://***@api.example/v1', 'an @ in the password');
    assert.equal(redactedEndpoint('https://api.example/v1?api-key=k#frag'), 'https://api.example/v1?***#***');
    assert.equal(redactedEndpoint('not a url user:pw@x?key=1'), 'not a url user:pw@x?***', 'what cannot be parsed: the query still hidden');
    assert.equal(redactedEndpoint('//user:pw@host/v1'), '//***@host/v1');
  });

  it('reports an unreachable endpoint as retryable', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const { scoreIntent } = createIntentActivities(createIntentScorer({ kind: 'openai', baseUrl: `http://127.0.0.1:${port}/v1`, timeoutMs: 2000 }));
    await assert.rejects(
      scoreIntent({ intent: 'x', actions: [{ tool: 'billing.query', at: NOW }], now: NOW }),
      (e: unknown) => e instanceof ApplicationFailure && e.type === 'EmbeddingsUnavailable' && !e.nonRetryable,
    );
  });
});
