/**
 * The console's passkeys without a browser: sign-in options are public, so the open challenges are
 * bounded — expired ones go first, and past the cap the oldest (issuing stops at the first unexpired
 * one: no full scan); and a passkey whose key id the keyset revokes signs in no more (the console reads
 * its keyset at start, so a revocation takes effect on restart, which also ends every open session).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Challenges, MAX_OPEN_CHALLENGES, Passkeys } from '../../console/passkeys';
import type { ConsoleStore } from '../../console/store';
import { testTrust } from '../support/trust';

test('a flood of challenges keeps at most the cap open, the newest usable, the oldest gone', () => {
  let now = 0;
  const open = new Challenges(() => now);
  const first = open.issue('c-first');
  const ids = Array.from({ length: MAX_OPEN_CHALLENGES + 500 }, (_, i) => open.issue(`c${i}`));
  assert.equal(open.size, MAX_OPEN_CHALLENGES);
  assert.throws(() => open.take(first), /unknown or expired/);
  assert.equal(open.take(ids.at(-1)).challenge, `c${MAX_OPEN_CHALLENGES + 499}`);
  // Five minutes on, the next issue drops every expired one.
  now = 5 * 60_000 + 1;
  open.issue('later');
  assert.equal(open.size, 1);
});

test('a passkey revoked in the keyset is withdrawn: it signs in no more', () => {
  const trust = testTrust();
  const keyId = 'p256:0123456789abcdef0123456789abcdef';
  const revokedSet = { ...trust.keyset, keys: [...trust.keyset.keys, { keyId, principal: 'alice', role: 'approver' as const, publicKey: '', revoked: true }] };
  const rp = { rpId: 'localhost', origin: 'http://localhost:4100' };
  const passkeys = new Passkeys(undefined as unknown as ConsoleStore, rp, trust.service, revokedSet as never);
  assert.match(passkeys.revoked(keyId) ?? '', /is revoked in the keyset/);
  assert.equal(passkeys.revoked('p256:ffffffffffffffffffffffffffffffff'), undefined);
  assert.match(passkeys.withdrawn(keyId, {}) ?? '', /is revoked/);
});
