/**
 * The agent credentials an external authorization server's tokens stand for
 * (`GATEHOUSE_OAUTH_AGENT_CREDENTIALS`): a file of bearer tokens, so it is refused like a key file
 * when group or others may read it, and two credentials of one agent are refused rather than the
 * last one silently winning.
 */
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ExternalIssuer, readCredentialsFile } from '../../gateway/oauth/external';
import { externalIssuer, GatewayConfigError } from '../../gateway/start';
import { testTrust } from '../support/trust';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-external-credentials-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function credentialsFile(name: string, lines: readonly string[], mode: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${lines.join('\n')}\n`);
  await chmod(path, mode);
  return path;
}

describe('the external issuer\'s agent credentials file', () => {
  it('is read when only its owner may read it: one token a line, comments and blank lines skipped', async () => {
    const a = await testTrust().credential('ext-a', 'eng-021');
    const b = await testTrust().credential('ext-b', 'eng-021');
    const file = await credentialsFile('private.txt', ['# agents of the external issuer', a, '', b], 0o600);
    assert.deepEqual(readCredentialsFile(file), [a, b]);
    assert.equal(externalIssuer({ GATEHOUSE_OAUTH_ISSUER: 'https://issuer.example', GATEHOUSE_OAUTH_AGENT_CREDENTIALS: file }).issuer, 'https://issuer.example');
  });

  it('is refused when group or others may read it, like a key file', async () => {
    const token = await testTrust().credential('ext-a', 'eng-021');
    for (const mode of [0o644, 0o640, 0o604]) {
      const file = await credentialsFile(`open-${mode.toString(8)}.txt`, [token], mode);
      const why = `agent credentials file \`${file}\` is readable by others (mode ${mode.toString(8)}): chmod 600 it`;
      assert.throws(() => readCredentialsFile(file), (err: unknown) => err instanceof Error && err.message === why);
      assert.throws(
        () => externalIssuer({ GATEHOUSE_OAUTH_ISSUER: 'https://issuer.example', GATEHOUSE_OAUTH_AGENT_CREDENTIALS: file }),
        (err: unknown) => err instanceof GatewayConfigError && err.message === `\`GATEHOUSE_OAUTH_AGENT_CREDENTIALS\` cannot be read: ${why}`,
      );
    }
  });

  it('refuses two credentials of one agent instead of taking the last', async () => {
    const first = await testTrust().credential('ext-a', 'eng-021', { policies: [] });
    const second = await testTrust().credential('ext-a', 'eng-021', { policies: ['wide-open'] });
    const why = 'two agent credentials for the external issuer name agent `ext-a`: keep one';
    assert.throws(() => new ExternalIssuer({ issuer: 'https://issuer.example', credentials: [first, second] }), (err: unknown) => err instanceof Error && err.message === why);
    const file = await credentialsFile('twice.txt', [first, second], 0o600);
    assert.throws(() => externalIssuer({ GATEHOUSE_OAUTH_ISSUER: 'https://issuer.example', GATEHOUSE_OAUTH_AGENT_CREDENTIALS: file }), (err: unknown) => err instanceof Error && err.message === why);
  });
});
