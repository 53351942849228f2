/**
 * `GATEHOUSE_POLICIES`, the named policies a worker loads: `name=file,...` or a folder of
 * `<name>.yaml|yml|json`; a bad name, a duplicate, the reserved name `default` or a broken file is
 * refused with a message naming it, and nothing is loaded.
 */
import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { DEFAULT_POLICY_FILE } from '../../client/config';
import { approversOf, loadNamedPolicies, loadPolicyFile, policyFilesOf, PolicyRegistryError } from '../../worker/policy-registry';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-policies-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

const refused = (fn: () => unknown, message: string) =>
  assert.throws(fn, (err: unknown) => err instanceof PolicyRegistryError && err.message === message);

it('reads `name=file,...` relative to the working folder', () => {
  assert.deepEqual(policyFilesOf(' batch = a/batch.yaml , strict=/etc/strict.json', '/srv'), { batch: '/srv/a/batch.yaml', strict: '/etc/strict.json' });
  assert.deepEqual(policyFilesOf('', '/srv'), {});
});

it('reads a folder: every yaml, yml and json file under its name', async () => {
  const dir = join(root, 'folder');
  await mkdir(dir);
  await copyFile(DEFAULT_POLICY_FILE, join(dir, 'batch.yaml'));
  await copyFile(DEFAULT_POLICY_FILE, join(dir, 'strict.yml'));
  await writeFile(join(dir, 'README.md'), 'not a policy');
  const loaded = loadNamedPolicies(dir);
  assert.deepEqual(Object.keys(loaded), ['batch', 'strict']);
  assert.deepEqual(loaded.batch, loadPolicyFile(DEFAULT_POLICY_FILE));
});

it('refuses bad names, duplicates, the default policy\'s name and malformed entries', () => {
  refused(() => policyFilesOf('Bad Name=x.yaml'), 'invalid policy name `Bad Name` in `GATEHOUSE_POLICIES`: use lower-case letters, digits and `._-`');
  refused(() => policyFilesOf('a=x.yaml,a=y.yaml'), 'policy name `a` appears twice in `GATEHOUSE_POLICIES`');
  refused(() => policyFilesOf('default=x.yaml'), 'policy name `default` is the default policy\'s (`GATEHOUSE_POLICY`): choose another name');
  refused(() => policyFilesOf('a=x.yaml,b='), 'malformed entry `b=` in `GATEHOUSE_POLICIES`: expected `name=file`');
});

it('refuses a broken policy file, naming the file and the path inside it', async () => {
  const file = join(root, 'broken.yaml');
  await writeFile(file, 'version: 1\nbudget:\n  actions: -5\n');
  assert.throws(() => loadNamedPolicies(`broken=${file}`), (err: unknown) => err instanceof PolicyRegistryError && err.message.startsWith(`invalid policy \`${file}\`: budget.actions: `));
  refused(() => loadNamedPolicies(`gone=${join(root, 'gone.yaml')}`), `cannot read policy \`${join(root, 'gone.yaml')}\`: ENOENT`);
});

it('refuses an empty or truncated policy file instead of loading the default policy, and a JSON file with a key twice', async () => {
  for (const [name, text] of [['empty.yaml', ''], ['comment.yaml', '# budget: 3 writes, cut off here\n'], ['tilde.yml', '~\n']] as const) {
    const file = join(root, name);
    await writeFile(file, text);
    refused(() => loadPolicyFile(file), `invalid policy \`${file}\`: the policy file is empty: write \`{}\` to mean the default policy`);
    refused(() => loadNamedPolicies(`cut=${file}`), `invalid policy \`${file}\`: the policy file is empty: write \`{}\` to mean the default policy`);
  }
  const twice = join(root, 'twice.json');
  await writeFile(twice, '{"budget": {"writes": 1}, "budget": {"writes": 100}}');
  refused(() => loadPolicyFile(twice), `invalid policy \`${twice}\`: invalid JSON at line 1, column 27: map keys must be unique`);
  const defaults = join(root, 'defaults.yaml');
  await writeFile(defaults, '{}\n');
  assert.equal(loadPolicyFile(defaults).name, 'default');
});

it('lists every approver the policies name, once', () => {
  assert.deepEqual(approversOf([loadPolicyFile(DEFAULT_POLICY_FILE)]), ['data-lee', 'eng-007', 'eng-012', 'sre-ana', 'sre-raj']);
});
