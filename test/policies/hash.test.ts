/**
 * canonicalJson and sha256Hex (policies/hash.ts) pinned on small values, each case exact: every
 * scalar's text, what JSON drops, key order and commas, `toJSON` chains up to their bound, and
 * known sha256 vectors (UTF-8). Values of any depth and the property against a recursive form:
 * test/policies/json-edges.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, sha256Hex } from '../../policies/hash';

/** An object whose `toJSON` returns another such object, `n` times, then `'end'`. */
function chain(n: number): unknown {
  return n === 0 ? 'end' : { toJSON: () => chain(n - 1) };
}

test('each scalar: strings escaped, numbers as JSON (non-finite as null), booleans, bigints, null', () => {
  const cases: [unknown, string][] = [
    ['a"b\n', '"a\\"b\\n"'],
    ['', '""'],
    [1.5, '1.5'],
    [-0, '0'],
    [Number.POSITIVE_INFINITY, 'null'],
    [Number.NaN, 'null'],
    [true, 'true'],
    [false, 'false'],
    [12n, '12'],
    [null, 'null'],
    [undefined, 'null'],
    [() => 1, 'null'],
    [Symbol('s'), 'null'],
  ];
  for (const [value, text] of cases) assert.equal(canonicalJson(value), text, String(text));
});

test('containers: keys sorted, commas only between written members, empty ones, dropped members', () => {
  const cases: [unknown, string][] = [
    [{}, '{}'],
    [[], '[]'],
    [[1, 2, 3], '[1,2,3]'],
    [[[], {}], '[[],{}]'],
    [{ b: 1, a: 2, c: { z: [], y: {} } }, '{"a":2,"b":1,"c":{"y":{},"z":[]}}'],
    [{ a: undefined }, '{}'],
    [{ a: 1, b: () => 1, c: Symbol('s'), d: 2 }, '{"a":1,"d":2}'],
    [[undefined, () => 1, 1], '[null,null,1]'],
    [{ 'a"b': 1 }, '{"a\\"b":1}'],
  ];
  for (const [value, text] of cases) assert.equal(canonicalJson(value), text, text);
});

test('toJSON is followed (a Date, a chain of 100), and a longer chain is refused', () => {
  assert.equal(canonicalJson(new Date(Date.UTC(2026, 0, 2))), '"2026-01-02T00:00:00.000Z"');
  assert.equal(canonicalJson({ a: { toJSON: () => undefined } }), '{}');
  assert.equal(canonicalJson({ toJSON: () => [1, { toJSON: () => 2 }] }), '[1,2]');
  assert.equal(canonicalJson(chain(100)), '"end"');
  assert.throws(() => canonicalJson(chain(101)), /^TypeError: canonical json: more than 100 nested `toJSON` results$/);
  assert.equal(canonicalJson({ toJSON: 1, a: 1 }), '{"a":1,"toJSON":1}', 'a toJSON that is no function is a member');
});

test('the same object twice (not a cycle) is written twice; a cycle is refused', () => {
  const shared = [1];
  assert.equal(canonicalJson([shared, shared, { s: shared }]), '[[1],[1],{"s":[1]}]');
  const cyclic: unknown[] = [];
  cyclic.push([cyclic]);
  assert.throws(() => canonicalJson(cyclic), /^TypeError: canonical json: the value is cyclic$/);
});

test('a member named `undefined` is written once', () => {
  assert.equal(canonicalJson({ undefined: 1 }), '{"undefined":1}');
});

test('sha256Hex: known vectors, over the UTF-8 bytes', () => {
  assert.equal(sha256Hex(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  assert.equal(sha256Hex('é'), '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c');
});
