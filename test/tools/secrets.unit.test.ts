/**
 * Redaction by value, pure: the secrets a call carries (every string at its sensitive paths) are
 * hunted for in text a server sends back, as written and as JSON escapes them.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { secretsAt, withoutSecrets } from '../../activities/tools/redact';

test('the secrets at sensitive paths, and every echo of them, as written or JSON-escaped', () => {
  const secrets = secretsAt({ path: '/etc/app.env', edits: [{ oldText: 'pw="hunter2"\\x', newText: 'abc' }], token: 'tk-9' }, ['edits', 'token']);
  assert.deepEqual(secrets, ['pw="hunter2"\\x', 'tk-9'], 'longest first; `abc` is too short to hunt for');
  const echoed = `no match for ${'pw="hunter2"\\x'}; in JSON {"old":${JSON.stringify('pw="hunter2"\\x')}}; tk-9`;
  assert.equal(withoutSecrets(echoed, secrets), 'no match for [REDACTED]; in JSON {"old":"[REDACTED]"}; [REDACTED]');
  assert.deepEqual(withoutSecrets({ diff: ['- pw="hunter2"\\x'], 'tk-9': 1 }, secrets), { diff: ['- [REDACTED]'], '[REDACTED]': 1 });
});
