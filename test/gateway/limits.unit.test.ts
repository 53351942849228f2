/**
 * The per-agent token bucket (gateway/limits.ts) on a controlled clock: the burst, the refill
 * rate, the 429 problem and its `Retry-After`, agents kept apart, and the forgetting of full buckets.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_LIMITS, RateLimiter } from '../../gateway/limits';
import { Problem } from '../../gateway/problems';

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

/** The problem `take` throws, asserting it is the 429. */
function refused(limiter: RateLimiter, agent: string): Problem {
  try {
    limiter.take(agent);
  } catch (err) {
    assert.ok(err instanceof Problem, `not a problem: ${String(err)}`);
    assert.equal(err.status, 429);
    assert.equal(err.code, 'rate-limited');
    return err;
  }
  assert.fail(`\`${agent}\` was admitted over its limit`);
}

describe('RateLimiter', () => {
  it('admits exactly the burst at one instant, then answers 429 with the limits and Retry-After', () => {
    const c = clock();
    const limiter = new RateLimiter(2, 3, c.now);
    for (let i = 0; i < 3; i++) limiter.take('a');
    const p = refused(limiter, 'a');
    assert.equal(p.retryAfter, 1);
    assert.deepEqual(p.extra, { limit: 2, burst: 3 });
    assert.equal(p.message, 'agent `a` is over 2 requests per second');
    assert.equal(p.body().status, 429);
  });

  it('takes the tokens of a batch all or none, with the Retry-After until there are enough', () => {
    const c = clock();
    const limiter = new RateLimiter(2, 5, c.now);
    limiter.take('a', 3);
    let p: Problem | undefined;
    try {
      limiter.take('a', 3); // 2 left: refused whole
    } catch (err) {
      p = err as Problem;
    }
    assert.equal(p?.status, 429);
    assert.equal(p?.retryAfter, 1); // one token short at 2 per second
    assert.equal(p?.message, 'agent `a` is over 2 requests per second: a batch of 3 requests is over what is left');
    limiter.take('a');
    limiter.take('a'); // the refused batch took nothing
    refused(limiter, 'a');
  });

  it('refills at the sustained rate: one token per 1/perSecond, never above the burst', () => {
    const c = clock();
    const limiter = new RateLimiter(4, 2, c.now);
    limiter.take('a');
    limiter.take('a');
    refused(limiter, 'a');
    c.advance(249); // 0.996 tokens: not yet one
    refused(limiter, 'a');
    c.advance(1); // 1.0 token
    limiter.take('a');
    refused(limiter, 'a');
    c.advance(60_000); // a minute refills to the burst (2), not to 240
    limiter.take('a');
    limiter.take('a');
    refused(limiter, 'a');
  });

  it('Retry-After is the whole seconds until one token, at least 1', () => {
    const c = clock();
    const slow = new RateLimiter(0.25, 1, c.now); // one token every 4 s
    slow.take('a');
    assert.equal(refused(slow, 'a').retryAfter, 4);
    c.advance(1000); // 0.25 tokens (the refused attempt took none): 3 s to go
    assert.equal(refused(slow, 'a').retryAfter, 3);
    const fast = new RateLimiter(1000, 1, c.now);
    fast.take('b');
    assert.equal(refused(fast, 'b').retryAfter, 1);
  });

  it('keeps agents apart: one agent over its limit does not limit another', () => {
    const c = clock();
    const limiter = new RateLimiter(1, 1, c.now);
    limiter.take('a');
    refused(limiter, 'a');
    limiter.take('b');
    refused(limiter, 'b');
  });

  it('only full buckets are forgotten when the map is full: a half-refilled one is kept', () => {
    const c = clock();
    const limiter = new RateLimiter(0.5, 2, c.now);
    limiter.take('busy');
    limiter.take('busy'); // empty
    c.advance(1000); // half a token: not full
    for (let i = 0; i < 100_001; i++) limiter.take(`idle-${i}`); // over 100 000 buckets: the full ones are dropped
    refused(limiter, 'busy'); // kept with its half token, not forgotten into a fresh full bucket
    c.advance(4000);
    limiter.take('idle-0');
    limiter.take('idle-0');
    refused(limiter, 'idle-0');
  });

  it('holds at most 100,000 agents: one more drops every full bucket, one exactly refilled included', () => {
    const c = clock();
    const limiter = new RateLimiter(0.5, 2, c.now);
    for (let i = 0; i < 99_999; i++) limiter.take(`idle-${i}`); // one token left each
    c.advance(2000); // one more token each: exactly the burst, full
    limiter.take('x');
    assert.equal(limiter.tracked, 100_000, 'at the bound nothing is dropped');
    limiter.take('y');
    assert.equal(limiter.tracked, 2, 'past it the full buckets go; x and y, not full, stay');
    limiter.take('x'); // kept as it was, one token left (a forgotten bucket would start again at 2)
    refused(limiter, 'x');
  });

  it('defaults: 50 per second, a burst of 100, 20 open sessions, 64 KiB bodies, 30 minutes of MCP idleness, 200 requests open at once', () => {
    assert.deepEqual(DEFAULT_LIMITS, { requestsPerSecond: 50, burst: 100, openSessions: 20, bodyBytes: 65536, mcpIdleSeconds: 1800, requestsInFlight: 200 });
  });
});
