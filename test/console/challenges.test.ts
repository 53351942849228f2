/**
 * Passkey challenges, pure: sign-in options are public, so the open challenges are bounded — expired
 * ones go first, and past the cap the oldest (issuing stops at the first unexpired one: no full scan).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Challenges, MAX_OPEN_CHALLENGES } from '../../console/passkeys';

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
