/**
 * `gatehouse keys create | list` as a user runs them: the private key file lands in the user's key
 * folder with mode 0600 and is never overwritten, the printed entry is what a keyset accepts, a
 * bad principal is refused, and `keys list` reads the keyset `GATEHOUSE_KEYS` names — or says
 * clearly, with the file and the path inside it, what is wrong with it.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readKeyFile } from '../../client/trust/key-files';
import { KeysetFileError, loadKeysetFile } from '../../client/trust/keyset-file';
import { parseKeyset, type KeyEntry } from '../../policies/trust';
import { parseJsonOutput, runCli } from '../e2e/processes';
import { testTrust, writeTestKeys } from '../support/trust';
import { cliEnv } from './cli-env';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-keys-cli-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('gatehouse keys create', () => {
  it('writes the private key with mode 0600 into the user key folder and prints the entry to register', async () => {
    const env = cliEnv(join(root, 'create'));
    const r = parseJsonOutput<{ path: string; entry: KeyEntry }>('keys create', await runCli(['keys', 'create', '--approver', 'alice', '--json'], env));
    assert.equal(r.path, join(env.XDG_CONFIG_HOME!, 'gatehouse', 'keys', 'alice.approver.key'));
    assert.equal(statSync(r.path).mode & 0o777, 0o600);
    const key = readKeyFile(r.path);
    assert.deepEqual(r.entry, { keyId: key.keyId, principal: 'alice', role: 'approver', publicKey: key.publicKey, revoked: false });
    assert.equal(parseKeyset({ keys: [r.entry] }).success, true, 'the printed entry is a valid keyset entry');
    assert.ok(!JSON.stringify(r).includes(key.secretKey), 'the secret key is never printed');
  });

  it('refuses to overwrite an existing key file and leaves it as it was', async () => {
    const env = cliEnv(join(root, 'twice'));
    const dir = join(root, 'twice-keys');
    const first = parseJsonOutput<{ path: string }>('keys create', await runCli(['keys', 'create', '--operator', 'ops', '--dir', dir, '--json'], env));
    const before = readFileSync(first.path, 'utf8');
    const again = await runCli(['keys', 'create', '--operator', 'ops', '--dir', dir], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `gatehouse: key file \`${first.path}\` exists: remove it first to replace the key\n`);
    assert.equal(readFileSync(first.path, 'utf8'), before);
  });

  it('refuses a principal that is not a plain name, and more or less than one role', async () => {
    const env = cliEnv(join(root, 'bad'));
    const bad = await runCli(['keys', 'create', '--approver', '../alice'], env);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'gatehouse: invalid principal `../alice`: use letters, digits and `._@-`\n');
    const two = await runCli(['keys', 'create', '--approver', 'a', '--operator', 'b'], env);
    assert.equal(two.code, 1);
    assert.equal(two.stderr, 'gatehouse: choose exactly one of `--approver <name>`, `--operator <name>` or `--service <name>`\n');
  });
});

describe('gatehouse keys list', () => {
  it('lists the keys of the keyset GATEHOUSE_KEYS names', async () => {
    const keysetFile = writeTestKeys(join(root, 'list-keys'));
    const env = { ...cliEnv(join(root, 'list')), GATEHOUSE_KEYS: keysetFile };
    const r = parseJsonOutput<{ keysetFile: string; keys: { keyId: string; principal: string; role: string; notAfter: string | null; revoked: boolean }[] }>('keys list', await runCli(['keys', 'list', '--json'], env));
    assert.equal(r.keysetFile, keysetFile);
    assert.deepEqual(r.keys, testTrust().keyset.keys.map((k) => ({ keyId: k.keyId, principal: k.principal, role: k.role, notAfter: null, revoked: false })));
    const text = await runCli(['keys', 'list'], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^${testTrust().operator.keyId} +test-operator +operator +- +-$`, 'm'));
  });

  it('says where no keyset is to be found', async () => {
    const r = await runCli(['keys', 'list'], cliEnv(join(root, 'none')));
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'gatehouse: no keyset: set `GATEHOUSE_KEYS` to the keyset file, or start the development stack with `npm start`\n');
  });
});

describe('keyset file errors', () => {
  const entries = () => testTrust().keyset.keys.slice(0, 2);

  it('a duplicate key id is refused with the file and the path of the second entry', async () => {
    const file = join(root, 'duplicate.json');
    const [a] = entries();
    await writeFile(file, JSON.stringify({ keys: [a, a] }));
    assert.throws(() => loadKeysetFile(file), (err: unknown) => {
      assert.ok(err instanceof KeysetFileError);
      assert.equal(err.message, `invalid keyset \`${file}\`: keys[1].keyId: duplicate key id \`${a!.keyId}\` (also keys.0)`);
      return true;
    });
    const r = await runCli(['keys', 'list'], { ...cliEnv(join(root, 'dup-cli')), GATEHOUSE_KEYS: file });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `gatehouse: invalid keyset \`${file}\`: keys[1].keyId: duplicate key id \`${a!.keyId}\` (also keys.0)\n`);
  });

  it('a public key that is not 32 bytes of base64 is refused with its path', async () => {
    const file = join(root, 'bad-public-key.yaml');
    const [a, b] = entries();
    await writeFile(file, JSON.stringify({ keys: [a, { ...b, publicKey: 'not-a-key' }] }));
    assert.throws(() => loadKeysetFile(file), (err: unknown) => {
      assert.ok(err instanceof KeysetFileError);
      assert.equal(err.message, `invalid keyset \`${file}\`: keys[1].publicKey: expected a base64 Ed25519 public key of 32 bytes`);
      assert.equal(err.path, file);
      return true;
    });
  });

  it('a notAfter without its offset, or not ISO, is refused where a keyset file is loaded; with one it is read as written', async () => {
    const [a, b] = entries();
    for (const [name, notAfter] of [['local.json', '2026-06-01T00:00:00'], ['date.yaml', '2026-06-01'], ['http-date.json', 'Mon, 01 Jun 2026 00:00:00 GMT']] as const) {
      const file = join(root, name);
      await writeFile(file, JSON.stringify({ keys: [a, { ...b, notAfter }] }));
      assert.throws(() => loadKeysetFile(file), (err: unknown) => {
        assert.ok(err instanceof KeysetFileError);
        assert.equal(err.message, `invalid keyset \`${file}\`: keys[1].notAfter: expected an ISO time with its offset (\`2026-06-01T00:00:00Z\`, \`+02:00\`), got \`${notAfter}\``);
        assert.deepEqual(err.issues.map((i) => i.path), ['keys[1].notAfter']);
        return true;
      });
      // The schema sessions snapshot keysets with still reads it (a history holding one must replay).
      assert.equal(parseKeyset({ keys: [a, { ...b, notAfter }] }).success, true);
    }
    const zoned = join(root, 'zoned.json');
    await writeFile(zoned, JSON.stringify({ keys: [{ ...a, notAfter: '2026-06-01T00:00:00Z' }, { ...b, notAfter: '2026-06-01T02:00:00+02:00' }] }));
    assert.deepEqual(loadKeysetFile(zoned).keys.map((k) => Date.parse(k.notAfter!)), [Date.parse('2026-06-01T00:00:00Z'), Date.parse('2026-06-01T00:00:00Z')]);
  });

  it('a field written twice in a JSON keyset is refused, not taken last-wins (JSON is read as YAML 1.2, keys unique)', async () => {
    const [a] = entries();
    const file = join(root, 'twice.json');
    const entry = JSON.stringify({ ...a, revoked: true }).replace(/}$/, ',"revoked":false}');
    await writeFile(file, `{"keys":[${entry}]}`);
    assert.throws(() => loadKeysetFile(file), (err: unknown) => err instanceof KeysetFileError && /^keyset file `.*twice\.json` is neither JSON nor YAML: Map keys must be unique/.test(err.message));
  });

  it('a development keyset is refused in production, accepted otherwise', async () => {
    const file = join(root, 'development.json');
    await writeFile(file, JSON.stringify({ development: true, keys: entries() }));
    assert.equal(loadKeysetFile(file).development, true);
    assert.throws(() => loadKeysetFile(file, { production: true }), (err: unknown) => err instanceof KeysetFileError && err.message === `keyset \`${file}\` holds development keys, which a production deployment refuses: register real keys (\`gatehouse keys create\`)`);
  });
});
