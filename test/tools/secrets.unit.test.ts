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

test('a multi-line secret is hunted line by line: a diff echoing it with `+` before each line shows none', () => {
  const newText = 'DB_PASSWORD=Xk9#long-db-pass\r\nAPI_KEY=sk_live_51Habc123SECRET\n\nok';
  const secrets = secretsAt({ edits: [{ oldText: 'DB_PASSWORD=old-pass-1\nx', newText }] }, ['edits']);
  assert.deepEqual(secrets, [newText, 'API_KEY=sk_live_51Habc123SECRET', 'DB_PASSWORD=Xk9#long-db-pass', 'DB_PASSWORD=old-pass-1', 'DB_PASSWORD=old-pass-1\nx'].sort((a, b) => b.length - a.length));
  const diff = '--- .env\n+++ .env\n-DB_PASSWORD=old-pass-1\n+DB_PASSWORD=Xk9#long-db-pass\n+API_KEY=sk_live_51Habc123SECRET\n+\n+ok';
  assert.equal(withoutSecrets({ content: [{ type: 'text', text: diff }] }, secrets).content[0]!.text, '--- .env\n+++ .env\n-[REDACTED]\n+[REDACTED]\n+[REDACTED]\n+\n+ok');
});
