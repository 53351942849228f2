/**
 * The keys of `gatehouse start`'s stack: on embedded defaults it makes development keys once under
 * `.data/keys/` (an operator, the approvals service, every approver of the policies it loads),
 * writes where they are into the stack file, and reuses them on the next start; `GATEHOUSE_KEYS`
 * replaces them; `GATEHOUSE_ENV=production` refuses development keys before anything starts.
 * Runs against the test servers (TEMPORAL_ADDRESS / DATABASE_URL), so no server is started here.
 */
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { DEFAULT_POLICY_FILE } from '../../client/config';
import { readKeyFile } from '../../client/trust/key-files';
import { KeysetFileError, loadKeysetFile } from '../../client/trust/keyset-file';
import { DEV_APPROVALS_SERVICE, DEV_CONSOLE_REGISTRAR, DEV_OPERATOR, DevelopmentKeysError, ensureDevelopmentKeys } from '../../worker/devstack/dev-keys';
import { startStack, StackKeysError } from '../../worker/devstack/stack';
import { approversOf, loadPolicyFile } from '../../worker/policy-registry';
import { getTestServers } from '../support/servers';
import { writeTestKeys } from '../support/trust';

let root: string;
let admin: pg.Client;
const databases: string[] = [];
const quiet = () => undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-stack-keys-'));
  await chmod(root, 0o755);
  admin = new pg.Client({ connectionString: (await getTestServers()).postgres.adminUrl });
  await admin.connect();
});
after(async () => {
  for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
  await rm(root, { recursive: true, force: true });
});

/** An environment on the test servers with a private data folder and databases of its own. */
async function env(name: string): Promise<NodeJS.ProcessEnv> {
  const servers = await getTestServers();
  const suffix = `${name.replace(/\W/g, '_')}_${Date.now().toString(36)}`;
  for (const db of [`keys_audit_${suffix}`, `keys_prod_${suffix}`]) {
    await admin.query(`CREATE DATABASE ${db}`);
    databases.push(db);
  }
  const e: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_DATA_DIR: join(root, name),
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_NAMESPACE: servers.namespace,
    DATABASE_URL: servers.postgres.urlFor(`keys_audit_${suffix}`),
    GATEHOUSE_PRODUCTION_DATABASE_URL: servers.postgres.urlFor(`keys_prod_${suffix}`),
  };
  for (const key of ['GATEHOUSE_STACK_FILE', 'SLACK_BOT_TOKEN', 'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICIES', 'GATEHOUSE_POLICY']) delete e[key];
  return e;
}

test('the first start makes development keys for every approver of the policy, the next start reuses them', async () => {
  const e = await env('dev');
  const keyDir = join(e.GATEHOUSE_DATA_DIR!, 'keys');
  const lines: string[] = [];
  const first = await startStack({ env: e, worker: false, log: (l) => lines.push(l) });
  let firstIds: string[];
  try {
    const keys = first.stackFile.keys;
    assert.deepEqual(keys, { keysetFile: join(keyDir, 'keyset.json'), developmentOperatorKey: join(keyDir, `${DEV_OPERATOR}.operator.key`), keyDir });
    const keyset = loadKeysetFile(keys.keysetFile);
    assert.equal(keyset.development, true);
    const approvers = approversOf([loadPolicyFile(DEFAULT_POLICY_FILE)]);
    assert.deepEqual(
      keyset.keys.map((k) => `${k.role}:${k.principal}`).sort(),
      [`approvals-service:${DEV_APPROVALS_SERVICE}`, ...approvers.map((a) => `approver:${a}`), `operator:${DEV_OPERATOR}`, `registrar:${DEV_CONSOLE_REGISTRAR}`].sort(),
    );
    assert.equal(statSync(keys.developmentOperatorKey!).mode & 0o777, 0o600);
    assert.equal(readKeyFile(keys.developmentOperatorKey!).keyId, keyset.keys.find((k) => k.principal === DEV_OPERATOR)!.keyId);
    assert.ok(lines.some((l) => l.startsWith(`gatehouse: development keys made in ${keyDir} for ${DEV_OPERATOR}, ${DEV_APPROVALS_SERVICE}`)), lines.join('\n'));
    assert.ok(first.parts.some((p) => p.name === 'keys' && p.where.includes('development keys')));
    firstIds = keyset.keys.map((k) => k.keyId);
  } finally {
    await first.stop();
  }

  const again: string[] = [];
  const second = await startStack({ env: e, worker: false, log: (l) => again.push(l) });
  try {
    assert.deepEqual(loadKeysetFile(second.stackFile.keys!.keysetFile).keys.map((k) => k.keyId), firstIds);
    assert.ok(again.includes(`gatehouse: using the development keys in ${keyDir}`), again.join('\n'));
  } finally {
    await second.stop();
  }
});

test('GATEHOUSE_KEYS replaces the development keys: none are made', async () => {
  const e = await env('own-keys');
  const keysetFile = writeTestKeys(join(root, 'own-keys-files'));
  const stack = await startStack({ env: { ...e, GATEHOUSE_KEYS: keysetFile, GATEHOUSE_ENV: 'production' }, worker: false, log: quiet });
  try {
    assert.deepEqual(stack.stackFile.keys, { keysetFile });
    assert.equal(existsSync(join(e.GATEHOUSE_DATA_DIR!, 'keys')), false);
  } finally {
    await stack.stop();
  }
});

test('a production stack refuses development keys, and refuses to run without a keyset, before anything starts', async () => {
  const dev = ensureDevelopmentKeys(join(root, 'dev-keys-for-production'), ['alice']);
  const e = await env('production');
  const lines: string[] = [];
  await assert.rejects(startStack({ env: { ...e, GATEHOUSE_KEYS: dev.keysetFile, GATEHOUSE_ENV: 'production' }, worker: false, log: (l) => lines.push(l) }), (err: unknown) => {
    assert.ok(err instanceof KeysetFileError);
    assert.equal(err.message, `keyset \`${dev.keysetFile}\` holds development keys, which a production deployment refuses: register real keys (\`gatehouse keys create\`)`);
    return true;
  });
  await assert.rejects(startStack({ env: { ...e, GATEHOUSE_ENV: 'production' }, worker: false, log: (l) => lines.push(l) }), StackKeysError);
  assert.deepEqual(lines.filter((l) => l.includes('migrations')), [], 'nothing was migrated');
  assert.equal(existsSync(join(e.GATEHOUSE_DATA_DIR!, 'keys')), false, 'no development keys were made');
});

test('development keys are added for an approver a later policy names, and a non-development keyset in their place is refused', async () => {
  const dir = join(root, 'grow');
  const first = ensureDevelopmentKeys(dir, ['alice']);
  assert.deepEqual(first.created, [DEV_OPERATOR, DEV_APPROVALS_SERVICE, DEV_CONSOLE_REGISTRAR, 'alice']);
  const second = ensureDevelopmentKeys(dir, ['alice', 'bob']);
  assert.deepEqual(second.created, ['bob']);
  assert.deepEqual(second.keyset.keys.slice(0, 4), first.keyset.keys);
  assert.deepEqual(ensureDevelopmentKeys(dir, ['alice', 'bob']).created, []);

  const other = join(root, 'not-dev');
  const keysetFile = writeTestKeys(other);
  assert.throws(() => ensureDevelopmentKeys(other, []), (err: unknown) => {
    assert.ok(err instanceof DevelopmentKeysError);
    assert.equal(err.message, `\`${keysetFile}\` is not a development keyset: set \`GATEHOUSE_KEYS\` to it instead, or move it away`);
    return true;
  });
});

test('a revoked development key is replaced by a new key on the next start; the revoked entry stays', async () => {
  const dir = join(root, 'revoke');
  const first = ensureDevelopmentKeys(dir, ['alice']);
  const old = first.keyset.keys.find((k) => k.principal === 'alice')!;
  const revokedSet = { ...first.keyset, keys: first.keyset.keys.map((k) => (k.keyId === old.keyId ? { ...k, revoked: true } : k)) };
  await writeFile(first.keysetFile, `${JSON.stringify(revokedSet, null, 2)}\n`);

  const second = ensureDevelopmentKeys(dir, ['alice']);
  assert.deepEqual(second.created, ['alice']);
  const alice = second.keyset.keys.filter((k) => k.principal === 'alice');
  assert.equal(alice.length, 2);
  assert.deepEqual(alice[0], { ...old, revoked: true }, 'the revoked entry stays revoked');
  assert.notEqual(alice[1]!.keyId, old.keyId);
  assert.equal(alice[1]!.revoked, false);
  const keyFile = join(dir, 'alice.approver.key');
  assert.equal(readKeyFile(keyFile).keyId, alice[1]!.keyId, 'the key file holds the new key');
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  assert.deepEqual(loadKeysetFile(first.keysetFile), second.keyset);
  assert.deepEqual(ensureDevelopmentKeys(dir, ['alice']).created, [], 'and the start after reuses it');
  assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temporary file is left');
});

test('key files that would make an invalid keyset are refused before the keyset is written', async () => {
  const dir = join(root, 'invalid');
  const first = ensureDevelopmentKeys(dir, ['alice']);
  // bob's key file holds the operator's key (a copy gone wrong): registering it would list one key id twice.
  await copyFile(join(dir, `${DEV_OPERATOR}.operator.key`), join(dir, 'bob.approver.key'));
  const before = await readFile(first.keysetFile, 'utf8');
  assert.throws(() => ensureDevelopmentKeys(dir, ['alice', 'bob']), (err: unknown) => {
    assert.ok(err instanceof DevelopmentKeysError, String(err));
    assert.match(err.message, /do not make a valid keyset: keys\[4\]\.keyId: duplicate key id `ed25519:[0-9a-f]{32}` \(also keys\.0\); nothing was written/);
    return true;
  });
  assert.equal(await readFile(first.keysetFile, 'utf8'), before, 'the keyset is as it was');
  assert.deepEqual(loadKeysetFile(first.keysetFile), first.keyset);
});
