/** Reading an upstream estimator's count: a number or a list's length at a path, or the whole text as a number; nothing else. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { countOf } from '../../activities/tools/upstream-estimate';

describe('countOf', () => {
  it('reads a number or a list length at a path of the structured content', () => {
    assert.equal(countOf({ structuredContent: { n: 14200 } }, 'n'), 14200);
    assert.equal(countOf({ structuredContent: { result: { entities: [{}, {}, {}] } } }, 'result.entities'), 3);
    assert.equal(countOf({ structuredContent: { entities: [] } }, 'entities'), 0);
  });
  it('reads the whole text content as a whole number when no path is given', () => {
    assert.equal(countOf({ content: [{ type: 'text', text: ' 42\n' }] }, undefined), 42);
  });
  it('gives no count for anything else, never a guess', () => {
    assert.equal(countOf({ content: [{ type: 'text', text: '42 rows' }] }, undefined), undefined);
    assert.equal(countOf({ structuredContent: { n: -1 } }, 'n'), undefined);
    assert.equal(countOf({ structuredContent: { n: 2.5 } }, 'n'), undefined);
    assert.equal(countOf({ structuredContent: { n: '7' } }, 'n'), undefined);
    assert.equal(countOf({}, 'n'), undefined);
    assert.equal(countOf(null, undefined), undefined);
  });
});
