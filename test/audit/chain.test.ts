/** Pure tests of the hash chain: normalization, hashing, and what `checkChain` catches. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GENESIS_HASH, checkChain, eventHash, normalizeEvent } from '../../audit/chain';
import type { ChainedEvent } from '../../audit/chain';
import { AuditInputError } from '../../audit/errors';
import type { AuditEventInput } from '../../audit/types';

function chain(events: readonly AuditEventInput[]): ChainedEvent[] {
  let prev = GENESIS_HASH;
  return events.map((raw) => {
    const event = normalizeEvent(raw);
    const hash = eventHash(prev, event);
    const link = { event, prevHash: prev, hash };
    prev = hash;
    return link;
  });
}

const base: AuditEventInput[] = [
  { sessionId: 's1', seq: 1, kind: 'session-started', at: '2026-11-01T10:00:00Z' },
  { sessionId: 's1', seq: 2, kind: 'proposed', at: '2026-11-01T10:00:01.5Z', proposalSeq: 1, tool: 'billing.query', args: { b: 1, a: [1, 2] }, reasoning: 'why' },
  { sessionId: 's1', seq: 3, kind: 'executed', at: '2026-11-01T10:00:02Z', proposalSeq: 1, tool: 'billing.query', latencyMs: 12, resultStatus: 'executed' },
];

test('normalization gives the form the database returns', () => {
  const e = normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', tool: undefined, args: { x: undefined, y: 1 }, detail: null as never, error: 'a\u0000b' });
  assert.equal(e.at, '2026-11-01T10:00:00.000Z');
  assert.deepEqual(e.args, { y: 1 });
  assert.equal('tool' in e, false);
  assert.equal('detail' in e, false);
  assert.equal(e.error, 'a\uFFFDb');
});

test('key order and time spelling do not change the hash; content does', () => {
  const a = normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', args: { a: 1, b: 2 } });
  const b = normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '2026-11-01T11:00:00.000+01:00', args: { b: 2, a: 1 } });
  const c = normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', args: { a: 1, b: 3 } });
  assert.equal(eventHash(GENESIS_HASH, a), eventHash(GENESIS_HASH, b));
  assert.notEqual(eventHash(GENESIS_HASH, a), eventHash(GENESIS_HASH, c));
  assert.notEqual(eventHash(GENESIS_HASH, a), eventHash('f'.repeat(64), a));
});

test('bad seq or time is refused with an input error', () => {
  assert.throws(() => normalizeEvent({ sessionId: 's', seq: 0, kind: 'proposed', at: '2026-11-01T10:00:00Z' }), AuditInputError);
  assert.throws(() => normalizeEvent({ sessionId: 's', seq: 1.5, kind: 'proposed', at: '2026-11-01T10:00:00Z' }), AuditInputError);
  assert.throws(() => normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: 'yesterday' }), /unreadable time `yesterday`/);
  assert.throws(() => normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '-200000-01-01T00:00:00Z' }), AuditInputError);
  assert.throws(() => normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '2026-11-01T10:00:00Z', proposalSeq: 2 ** 31 }), /proposalSeq that is not a whole number/);
  assert.equal(normalizeEvent({ sessionId: 's', seq: 1, kind: 'proposed', at: '0001-01-01T00:00:00Z' }).at, '0001-01-01T00:00:00.000Z');
});

test('an intact chain verifies', () => {
  assert.equal(checkChain('s1', chain(base)), undefined);
  assert.equal(checkChain('s1', []), undefined);
});

test('an edited event breaks its own hash', () => {
  const links = chain(base);
  links[1] = { ...links[1]!, event: { ...links[1]!.event, args: { b: 1, a: [1, 2, 3] } } };
  const broken = checkChain('s1', links);
  assert.equal(broken?.seq, 2);
  assert.equal(broken?.problem, 'hash');
  assert.equal(broken?.actual, links[1]!.hash);
});

test('an edited event with a recomputed hash breaks the next link', () => {
  const links = chain(base);
  const edited = normalizeEvent({ ...links[1]!.event, reasoning: 'rewritten' });
  links[1] = { event: edited, prevHash: links[1]!.prevHash, hash: eventHash(links[1]!.prevHash, edited) };
  const broken = checkChain('s1', links);
  assert.equal(broken?.seq, 3);
  assert.equal(broken?.problem, 'prev-hash');
});

test('a removed event breaks the sequence', () => {
  const links = chain(base);
  links.splice(1, 1);
  const broken = checkChain('s1', links);
  assert.equal(broken?.seq, 3);
  assert.equal(broken?.problem, 'sequence');
  assert.equal(broken?.expected, 'seq 2');
});
