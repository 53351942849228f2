/**
 * The console's passkeys without a browser: sign-in options are public, so a challenge is stored by
 * nobody until it is answered — a flood of options cannot push out the one a person is answering —
 * and each is answered once (a failed answer gives it back); and a passkey whose key id the keyset
 * revokes signs in no more (the console reads its keyset at start, so a revocation takes effect on
 * restart, which also ends every open session).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Challenges, Passkeys } from '../../console/passkeys';
import type { ConsoleStore } from '../../console/store';
import { testTrust } from '../support/trust';

const take = (open: Challenges, id: unknown) => open.answer(id, async (c) => c);

test('a flood of challenges stores nothing: one issued before it is still answered, once', async () => {
  let now = 0;
  const open = new Challenges(() => now);
  const mine = open.issue('c-mine', 'invite-1');
  for (let i = 0; i < 50_000; i++) open.issue(`c${i}`);
  assert.equal(open.answered, 0);
  assert.deepEqual(await take(open, mine), { challenge: 'c-mine', inviteId: 'invite-1' });
  await assert.rejects(take(open, mine), /unknown, used or expired/);
  assert.equal(open.answered, 1);
  // Kept as answered until it expires; then forgotten.
  now = 5 * 60_000 + 1;
  await assert.rejects(take(open, open.issue('x').replace(/^[^.]+/, 'AAAA')), /unknown, used or expired/);
  assert.equal(open.answered, 0);
});

test('a failed answer gives the challenge back; a forged, another process\'s or an expired one is refused', async () => {
  let now = 0;
  const open = new Challenges(() => now);
  const id = open.issue('c1');
  await assert.rejects(open.answer(id, async () => Promise.reject(new Error('does not verify'))), /does not verify/);
  assert.equal(open.answered, 0);
  assert.equal((await take(open, id)).challenge, 'c1');
  // The sealed part names the invite: another invite's content under this seal is refused.
  const other = open.issue('c2', 'invite-a');
  const [, seal] = other.split('.');
  const forged = `${Buffer.from(JSON.stringify(['c2', 5 * 60_000, 'invite-b'])).toString('base64url')}.${seal}`;
  await assert.rejects(take(open, forged), /unknown, used or expired/);
  await assert.rejects(take(new Challenges(() => now), other), /unknown, used or expired/);
  for (const junk of [undefined, 5, '', '.', 'a'.repeat(3000), `${other}x`]) await assert.rejects(take(open, junk), /unknown, used or expired/);
  now = 5 * 60_000 + 1;
  await assert.rejects(take(open, other), /unknown, used or expired/);
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
