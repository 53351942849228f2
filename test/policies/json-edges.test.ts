/**
 * The pure parts of the gateway's edges: `canonicalJson` on values of any depth (iterative), the
 * args depth limit, and the open-session reservation (`policies/admissions.ts`).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from '../../policies/hash';
import { describePath, MAX_ARGS_DEPTH, tooDeepAt } from '../../policies/json-depth';
import { admit, admitRequestProblem, atCap, release, rootAgentOf } from '../../policies/admissions';
import { assertProposal } from '../../workflows/validate';

/** The recursive canonical form canonicalJson replaced, as the reference for shallow values. */
function recursiveCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(recursiveCanonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    return `{${Object.keys(record).sort().map((k) => `${JSON.stringify(k)}:${recursiveCanonical(record[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** `depth` containers, objects and arrays in turn, around `leaf`. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let v: unknown = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? { a: v } : [v];
  return v;
}

/** `depth` objects `{ a: … }` around 1. */
function objects(depth: number): Record<string, unknown> {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = { a: v };
  return v as Record<string, unknown>;
}

describe('canonicalJson', () => {
  it('equals the recursive canonical form on every JSON value, and parses back equal (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = canonicalJson(v);
        assert.equal(text, recursiveCanonical(v));
        assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 500 },
    );
  });

  it('writes values 100,000 deep without overflowing the stack, and reads back equal', () => {
    for (const depth of [3_000, 8_000, 100_000]) {
      assert.equal(canonicalJson(objects(depth)), `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
    }
    assert.deepEqual(JSON.parse(canonicalJson(nested(1_000))), nested(1_000));
  });

  it('drops undefined members with their key and comma, follows toJSON, and refuses a cycle', () => {
    assert.equal(canonicalJson({ b: undefined, a: [undefined, () => 1], c: { toJSON: () => ({ y: 2, x: undefined }) } }), '{"a":[null,null],"c":{"y":2}}');
    assert.equal(canonicalJson({ a: undefined, b: 1, c: undefined }), '{"b":1}');
    assert.equal(canonicalJson(undefined), 'null');
    const shared = { s: 1 };
    assert.equal(canonicalJson({ a: shared, b: [shared] }), '{"a":{"s":1},"b":[{"s":1}]}');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = { back: cyclic };
    assert.throws(() => canonicalJson(cyclic), /^TypeError: canonical json: the value is cyclic$/);
  });
});

describe('the args depth limit', () => {
  it('accepts 64 levels and names the path past them', () => {
    assert.equal(tooDeepAt(nested(MAX_ARGS_DEPTH, 'x'), MAX_ARGS_DEPTH), undefined);
    const path = tooDeepAt({ list: nested(3_000) }, MAX_ARGS_DEPTH);
    assert.equal(path?.length, MAX_ARGS_DEPTH);
    assert.equal(describePath(path!), 'list.0.a.0.a.0.a.0.a.0.a.0.…');
    assert.deepEqual(tooDeepAt(objects(MAX_ARGS_DEPTH + 1), MAX_ARGS_DEPTH), Array(MAX_ARGS_DEPTH).fill('a'));
    assert.equal(tooDeepAt({ wide: Array.from({ length: 10_000 }, (_, i) => ({ i })) }, MAX_ARGS_DEPTH), undefined);
  });

  it('is refused by the update validator with the path, before any size is computed', () => {
    assert.throws(() => assertProposal({ tool: 't', args: { deep: nested(8_000) }, reasoning: '' }), (err: Error) => {
      assert.match(err.message, /^invalid proposal: `args\.deep\.0\.a\.0.*` nests deeper than 64 levels$/);
      return true;
    });
    assert.throws(() => assertProposal({ tool: 't', args: objects(MAX_ARGS_DEPTH + 1), reasoning: '' }), /nests deeper than 64 levels/);
    assert.doesNotThrow(() => assertProposal({ tool: 't', args: objects(MAX_ARGS_DEPTH), reasoning: '' }));
  });
});

describe('open-session admissions', () => {
  it('admits up to the cap, repeats an id without a new slot, and frees released ids', () => {
    let state = {};
    for (let i = 0; i < 3; i++) {
      const r = admit(state, { sessionId: `s${i}`, cap: 3 }, 1000 + i);
      assert.deepEqual(r.result, { admitted: true, fresh: true });
      state = r.state;
    }
    assert.deepEqual(admit(state, { sessionId: 's1', cap: 3 }, 2000).result, { admitted: true, fresh: false });
    assert.equal(atCap(state, { sessionId: 's9', cap: 3 }), true);
    assert.equal(atCap(state, { sessionId: 's1', cap: 3 }), false);
    assert.deepEqual(admit(state, { sessionId: 's9', cap: 3 }, 2000).result, { admitted: false, held: [{ sessionId: 's0', at: 1000 }, { sessionId: 's1', at: 1001 }, { sessionId: 's2', at: 1002 }] });
    state = release(state, ['s1', 'unknown']);
    assert.deepEqual(admit(state, { sessionId: 's9', cap: 3 }, 3000).result, { admitted: true, fresh: true });
  });

  it('counts sub-agents on their root and refuses malformed requests', () => {
    assert.equal(rootAgentOf('billing-bot/cleanup-1'), 'billing-bot');
    assert.equal(rootAgentOf('billing-bot'), 'billing-bot');
    assert.equal(admitRequestProblem({ sessionId: '', cap: 1 }), 'expected `sessionId` to be 1 to 200 characters');
    assert.equal(admitRequestProblem({ sessionId: 's', cap: -1 }), 'expected `cap` to be a whole number from 0 to 100000');
    assert.equal(admitRequestProblem(null), 'expected an admission request');
  });
});
