/**
 * "Did you mean" (policies/suggest.ts) pinned exactly: the edit-distance limit at its edges, the
 * nearest name (the first on a tie), globs never answered, and the distance itself against a reference.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { closestName } from '../../policies/suggest';

/** Levenshtein distance, the textbook recursion (memoised): the reference. */
function levenshtein(a: string, b: string): number {
  const memo = new Map<string, number>();
  const d = (i: number, j: number): number => {
    if (i === 0) return j;
    if (j === 0) return i;
    const key = `${i},${j}`;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    const v = Math.min(d(i - 1, j) + 1, d(i, j - 1) + 1, d(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
    memo.set(key, v);
    return v;
  };
  return d(a.length, b.length);
}

describe('closestName', () => {
  it('answers a typo within a third of the name, at most 3 edits', () => {
    // 9 characters: up to 3 edits
    assert.equal(closestName('volumesXX', ['volumes.list']), undefined);
    assert.equal(closestName('volumes.l', ['volumes.list']), 'volumes.list');
    assert.equal(closestName('volum.l', ['volumes.list']), undefined, '7 characters allow 2 edits, this is 5');
    // 6 characters: 2 edits; 5: 1
    assert.equal(closestName('abcdef', ['abcdXY']), 'abcdXY');
    assert.equal(closestName('abcdef', ['abcXYZ']), undefined);
    assert.equal(closestName('abcde', ['abcdX']), 'abcdX');
    assert.equal(closestName('abcde', ['abcXY']), undefined);
    // 2 characters: no edit at all; an exact name is its own answer
    assert.equal(closestName('ab', ['ax']), undefined);
    assert.equal(closestName('ab', ['ab']), 'ab');
    // 15 characters would allow 5: the cap is 3
    assert.equal(closestName('billing.queryXY', ['billing.query']), 'billing.query');
    assert.equal(closestName('billing.queXYZW', ['billing.queryAB']), undefined);
    assert.equal(closestName('billing.queXYZ', ['billing.queryA']), 'billing.queryA');
  });

  it('counts insertions, deletions and substitutions as one edit each', () => {
    assert.equal(closestName('secrets.rotate', ['secrets.rotates']), 'secrets.rotates');
    assert.equal(closestName('secrets.rotate', ['secrets.rotat']), 'secrets.rotat');
    assert.equal(closestName('secrets.rotate', ['secrets.rotaTe']), 'secrets.rotaTe');
    assert.equal(closestName('secrets.rotate', ['SECRETS.rotate']), undefined);
  });

  it('answers the nearest name, the first of equals', () => {
    assert.equal(closestName('billing.query', ['billing.quXXX', 'billing.quer', 'billing.qu']), 'billing.quer');
    assert.equal(closestName('billing.query', ['billing.queryA', 'billing.queryB']), 'billing.queryA');
    assert.equal(closestName('billing.query', ['billing.queryAB', 'billing.queryA', 'billing.query']), 'billing.query');
  });

  it('never answers for a glob, or without names', () => {
    assert.equal(closestName('billing.*', ['billing.query', 'billing.']), undefined);
    assert.equal(closestName('billing.quer?', ['billing.query']), undefined);
    assert.equal(closestName('*', ['*']), undefined);
    assert.equal(closestName('billing.query', []), undefined);
  });

  it('matches the reference distance for every pair of short names (property)', () => {
    const name = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 9 });
    fc.assert(
      fc.property(name, name, name, (n, x, y) => {
        const limit = Math.min(3, Math.floor(n.length / 3));
        const dx = levenshtein(n, x);
        const dy = levenshtein(n, y);
        const expected = dx <= limit && (dx <= dy || dy > limit) ? x : dy <= limit ? y : undefined;
        assert.equal(closestName(n, [x, y]), expected);
      }),
      { numRuns: 300 },
    );
  });
});
