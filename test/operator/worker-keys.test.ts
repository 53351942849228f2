/**
 * The worker process (`worker/main.ts`, what docker-compose runs) will not start without a keyset
 * (`GATEHOUSE_KEYS`), and with `GATEHOUSE_ENV=production` it refuses a development keyset — both
 * before it connects to anything, with one clear line naming what is wrong.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { ensureDevelopmentKeys } from '../../worker/devstack/dev-keys';
import { ROOT } from '../e2e/processes';
import { runMain } from '../support/run-main';
import { cliEnv } from './cli-env';
import { testTrust } from '../support/trust';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-worker-keys-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});


function workerEnv(): NodeJS.ProcessEnv {
  return {
    ...cliEnv(join(root, 'env')),
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    GATEHOUSE_PRODUCTION_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
  };
}

it('refuses to start without GATEHOUSE_KEYS', async () => {
  const r = await runMain('worker/main.ts', workerEnv());
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'gatehouse worker: `GATEHOUSE_KEYS` is not set: point it at the keyset file the worker trusts (see docs/reference/cli.md, "Keys and credentials")\n');
});

it('refuses a development keyset with GATEHOUSE_ENV=production', async () => {
  const dev = ensureDevelopmentKeys(join(root, 'dev'), ['alice']);
  const r = await runMain('worker/main.ts', { ...workerEnv(), GATEHOUSE_KEYS: dev.keysetFile, GATEHOUSE_ENV: 'production' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `gatehouse worker: keyset \`${dev.keysetFile}\` holds development keys, which a production deployment refuses: register real keys (\`gatehouse keys create\`)\n`);
});

it('refuses, in production, a Temporal connection with neither a client certificate nor an API key', async () => {
  const keysetFile = join(root, 'real-keyset.json');
  writeFileSync(keysetFile, JSON.stringify(testTrust().keyset));
  const r = await runMain('worker/main.ts', { ...workerEnv(), GATEHOUSE_KEYS: keysetFile, GATEHOUSE_ENV: 'production' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^gatehouse worker: `GATEHOUSE_ENV=production` connects to Temporal only with a client certificate .* or an API key \(`TEMPORAL_API_KEY`\)/);
  // Said knowingly, it goes on to connect (and fails there: nothing listens at the test's address).
  const knowingly = await runMain('worker/main.ts', { ...workerEnv(), GATEHOUSE_KEYS: keysetFile, GATEHOUSE_ENV: 'production', GATEHOUSE_ALLOW_INSECURE_TEMPORAL: '1' });
  assert.doesNotMatch(knowingly.stderr, /connects to Temporal only with/);
});

it('refuses a malformed GATEHOUSE_POLICIES before connecting', async () => {
  const dev = ensureDevelopmentKeys(join(root, 'dev-policies'), []);
  const r = await runMain('worker/main.ts', { ...workerEnv(), GATEHOUSE_KEYS: dev.keysetFile, GATEHOUSE_POLICIES: 'batch' });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `gatehouse worker: \`GATEHOUSE_POLICIES\` names \`${join(ROOT, 'batch')}\`, which does not exist: give a folder or \`name=file,name2=file2\`\n`);
});

it('refuses an empty GATEHOUSE_POLICY file before connecting, instead of enforcing the default policy', async () => {
  const dev = ensureDevelopmentKeys(join(root, 'dev-empty-policy'), []);
  const policy = join(root, 'truncated.yaml');
  writeFileSync(policy, '# the operator\'s policy, cut off\n');
  const r = await runMain('worker/main.ts', { ...workerEnv(), GATEHOUSE_KEYS: dev.keysetFile, GATEHOUSE_POLICY: policy });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `gatehouse worker: invalid policy \`${policy}\`: the policy file is empty: write \`{}\` to mean the default policy\n`);
});
