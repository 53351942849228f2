/**
 * `gatehouse agents create | revoke` as an operator runs them: the credential is signed with the
 * operator's key and verifies against the keyset naming the agent, owner and policies; a policy
 * the worker does not load is refused; without an operator key the command says where it looked
 * and how to make one; a revocation lands in PostgreSQL, where the revocation store refuses every
 * credential issued until then; run as the runtime role (which may only read the list), it says
 * to use the owner's URL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { RevocationStore } from '../../audit/credentials';
import { ensureRuntimeRole, runtimeDatabaseUrl } from '../../audit/roles';
import { REVOKE_NEEDS_OWNER } from '../../cli/commands/agents';
import { DEFAULT_POLICY_FILE } from '../../client/config';
import { verifyAgentCredential } from '../../client/trust/credentials';
import type { KeyEntry, Keyset } from '../../policies/trust';
import { parseJsonOutput, runCli } from '../e2e/processes';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { testTrust } from '../support/trust';
import { cliEnv } from './cli-env';

let root: string;
let db: TestDatabase;
let env: NodeJS.ProcessEnv;
let keyset: Keyset;
/** A runtime role of this file's own (roles are the cluster's: dropped after the database). */
const runtimeRole = `gh_rt_agents_${randomBytes(4).toString('hex')}`;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-agents-cli-'));
  db = await createTestDatabase('agents_cli');
  env = { ...cliEnv(join(root, 'operator')), DATABASE_URL: db.url };
  // An operator makes a key and registers it in the keyset the worker loads.
  const made = parseJsonOutput<{ entry: KeyEntry }>('keys create', await runCli(['keys', 'create', '--operator', 'ops', '--json'], env));
  keyset = { ...testTrust().keyset, keys: [...testTrust().keyset.keys, made.entry] };
  const keysetFile = join(root, 'keyset.json');
  await writeFile(keysetFile, JSON.stringify(keyset));
  env.GATEHOUSE_KEYS = keysetFile;
  env.GATEHOUSE_POLICIES = `billing-cleanup=${DEFAULT_POLICY_FILE}`;
});
after(async () => {
  await db?.drop();
  const admin = new pg.Client({ connectionString: (await getTestServers()).postgres.adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP ROLE IF EXISTS ${runtimeRole}`);
  } finally {
    await admin.end();
  }
  await rm(root, { recursive: true, force: true });
});

interface Created {
  readonly agentId: string;
  readonly owner: string;
  readonly token: string;
  readonly expiresAt: string;
  readonly credentialId: string;
}

describe('gatehouse agents create', () => {
  it('prints the token once, signed with the operator key, naming agent, owner and policies', async () => {
    const started = Date.now();
    const r = parseJsonOutput<Created>('agents create', await runCli(['agents', 'create', 'billing-bot', '--owner', 'eng-007', '--policy', 'billing-cleanup', '--expires', '2d', '--json'], env));
    assert.deepEqual(Object.keys(r).sort(), ['agentId', 'credentialId', 'expiresAt', 'owner', 'token']);
    assert.equal(r.agentId, 'billing-bot');
    assert.equal(r.owner, 'eng-007');
    const check = await verifyAgentCredential(r.token, keyset);
    assert.ok(check.ok, check.ok ? '' : check.message);
    assert.equal(check.credential.agentId, 'billing-bot');
    assert.equal(check.credential.owner, 'eng-007');
    assert.deepEqual(check.credential.policies, ['billing-cleanup']);
    assert.equal(check.credential.credentialId, r.credentialId);
    assert.equal(check.credential.issuerKeyId, keyset.keys.at(-1)!.keyId);
    assert.equal(check.credential.expiresAt, r.expiresAt);
    assert.equal(Date.parse(r.expiresAt) - Date.parse(check.credential.issuedAt), 2 * 86_400_000, 'valid for two days');
    const issuedAt = Date.parse(check.credential.issuedAt);
    assert.ok(issuedAt >= started - 1000 && issuedAt <= Date.now(), 'issued now (to the second)');
  });

  it('refuses a policy the worker does not load, naming the ones it does', async () => {
    const r = await runCli(['agents', 'create', 'billing-bot', '--owner', 'eng-007', '--policy', 'anything-goes'], env);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'gatehouse: unknown policy `anything-goes`: the worker loads `default`, `billing-cleanup`\n');
    assert.equal(r.stdout, '');
  });

  it('refuses a malformed expiry and a malformed agent id', async () => {
    const expiry = await runCli(['agents', 'create', 'billing-bot', '--owner', 'eng-007', '--expires', 'soon'], env);
    assert.equal(expiry.code, 1);
    assert.match(expiry.stderr, /^gatehouse: --expires: malformed duration `soon`: /);
    const id = await runCli(['agents', 'create', 'billing bot', '--owner', 'eng-007'], env);
    assert.equal(id.code, 1);
    assert.equal(id.stderr, 'gatehouse: invalid agent id `billing bot`: 1 to 120 letters, digits or `._@:-`\n');
  });

  it('without an operator key, says where it looked and how to make one', async () => {
    const bare: NodeJS.ProcessEnv = { ...cliEnv(join(root, 'nobody')), GATEHOUSE_KEYS: env.GATEHOUSE_KEYS };
    const r = await runCli(['agents', 'create', 'billing-bot', '--owner', 'eng-007'], bare);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `gatehouse: no operator key: looked in \`${join(bare.XDG_CONFIG_HOME!, 'gatehouse', 'keys')}\`; make one with \`gatehouse keys create --operator <name>\` and register it in the keyset, or start the development stack with \`npm start\`\n`,
    );
    const named = await runCli(['agents', 'create', 'billing-bot', '--owner', 'eng-007', '--as', 'root'], bare);
    assert.equal(named.code, 1);
    assert.match(named.stderr, /^gatehouse: no operator key for `root`: looked for `root\.operator\.key` in .*; make one with `gatehouse keys create --operator root`/);
  });
});

describe('gatehouse agents revoke', () => {
  it('writes the revocation list: every credential issued until then is refused', async () => {
    const issued = parseJsonOutput<Created>('agents create', await runCli(['agents', 'create', 'cleanup-bot', '--owner', 'eng-012', '--json'], env));
    const check = await verifyAgentCredential(issued.token, keyset);
    assert.ok(check.ok);
    const store = new RevocationStore(db.pool);
    assert.equal(await store.isRevoked('cleanup-bot', check.credential.issuedAt), false);

    const r = parseJsonOutput<{ agentId: string; revokedBy: string; reason: string }>('agents revoke', await runCli(['agents', 'revoke', 'cleanup-bot', '--reason', 'token leaked', '--as', 'ops', '--json'], env));
    assert.deepEqual({ agentId: r.agentId, revokedBy: r.revokedBy, reason: r.reason }, { agentId: 'cleanup-bot', revokedBy: 'ops', reason: 'token leaked' });
    assert.equal(await store.isRevoked('cleanup-bot', check.credential.issuedAt), true);
    const row = await store.find('cleanup-bot');
    assert.equal(row?.revokedBy, 'ops');
    assert.equal(await store.isRevoked('billing-bot', new Date().toISOString()), false, 'other agents are untouched');
  });

  it('as the runtime role, which may only read the list, says to use the owner\'s URL and writes nothing', async () => {
    const password = randomBytes(12).toString('hex');
    await ensureRuntimeRole(db.pool, { role: runtimeRole, password });
    const runtimeEnv = { ...env, DATABASE_URL: runtimeDatabaseUrl(db.url, runtimeRole, password) };
    const r = await runCli(['agents', 'revoke', 'runtime-bot', '--as', 'ops'], runtimeEnv);
    assert.equal(r.code, 1, r.stdout);
    assert.equal(r.stderr, `gatehouse: ${REVOKE_NEEDS_OWNER}\n`);
    assert.equal(await new RevocationStore(db.pool).find('runtime-bot'), undefined);
  });
});
