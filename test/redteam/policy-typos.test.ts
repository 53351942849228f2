/**
 * Red team: an operator's typo in a policy file that the schema takes and that silently loosens the
 * gate. `Limit: { max: 20 }` for `limit` bounds an argument no call carries, so the agent reads 500
 * rows where the operator capped it at 20; an always-blocked entry or an approver rule naming no
 * tool, a tier-table environment no tool has, do the same to other rules. `gatehouse policy check`
 * fails on each with the name it meant; the worker compiles every policy it loads at start and logs
 * each warning on one escaped line, and a production worker refuses to start on one, naming the
 * file and the warning, as it refuses a top-level `mode: shadow` unless told
 * `GATEHOUSE_ALLOW_SHADOW_POLICY=1`.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePolicyText } from '../../policies';
import { reviewPolicies, type LoadedPolicy } from '../../worker/policy-registry';
import { ROOT } from '../e2e/processes';
import { cliEnv } from '../operator/cli-env';
import { call, Driver, policyOf, rules, TOOLS } from '../policies/fixtures';
import { eventually } from '../support/eventually';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { testTrust, writeTestKeys } from '../support/trust';
import { workerBundleFile } from '../support/worker-bundle';
import { runMain } from '../support/run-main';
import { runPolicyCli } from '../policies/policy-cli';

/** The typo: `Limit` where the tool's argument is `limit`. */
const TYPO_POLICY = 'tools:\n  billing.query:\n    args:\n      Limit: { max: 20 }\n';
const TYPO_WARNING = 'tools["billing.query"].args.Limit: argument path `Limit` is not declared by tool `billing.query`: the bound holds nothing back: did you mean `limit`?';
/** What a terminal acts on, but the line break that ends a line. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-typos-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


/** A production worker's environment: real (not development) keys, Temporal and PostgreSQL at addresses nobody listens on. */
function productionEnv(extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const keys = file('keyset.json', JSON.stringify(testTrust().keyset));
  return {
    ...cliEnv(join(dir, 'env')),
    GATEHOUSE_ENV: 'production',
    GATEHOUSE_KEYS: keys,
    // Past the Temporal check (tested elsewhere), to reach the policies.
    GATEHOUSE_ALLOW_INSECURE_TEMPORAL: '1',
    TEMPORAL_ADDRESS: '127.0.0.1:1',
    DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    GATEHOUSE_PRODUCTION_DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
    ...extra,
  };
}

describe('a misspelt bound path (`Limit` for `limit`)', () => {
  it('bounds nothing: the read the operator capped at 20 rows runs with 500', () => {
    const meant = new Driver(policyOf({ tools: { 'billing.query': { args: { limit: { max: 20 } } } } }));
    assert.equal(meant.peek(call('billing.query', { limit: 500 })).verdict, 'deny');
    const typo = new Driver(policyOf({ tools: { 'billing.query': { args: { Limit: { max: 20 } } } } }));
    const d = typo.peek(call('billing.query', { limit: 500 }));
    assert.equal(d.verdict, 'allow');
    assert.deepEqual(rules(d), ['tier.read']);
  });

  it('fails `gatehouse policy check`, naming the path it meant', async () => {
    const { stdout, stderr, exitCode } = await runPolicyCli('policy', 'check', file('typo.yaml', TYPO_POLICY));
    assert.equal(exitCode, 1);
    assert.equal(stdout, '');
    assert.equal(stderr, `${TYPO_WARNING}\n1 rule(s) name environments or argument paths the catalog lacks: fix them, or pass \`--allow-unknown-tools\` when the catalog is not loaded here\n`);
  });

  it('stops a production worker before it connects to anything, naming the file and the warning', async () => {
    const policy = file('production-typo.yaml', TYPO_POLICY);
    const r = await runMain('worker/main.ts', productionEnv({ GATEHOUSE_POLICY: policy }));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      [
        `gatehouse worker: policy \`default\` (\`${policy}\`): warning: ${TYPO_WARNING}`,
        `gatehouse worker: policy \`default\` (\`${policy}\`) silently loosens the gate, which a production worker refuses: ${TYPO_WARNING}`,
        '',
      ].join('\n'),
    );
  });

  it('stops it as well in a named policy, and for the other typos: always-blocked, approver rule, tier environment', async () => {
    const folder = join(dir, 'named');
    mkdirSync(folder);
    const named = join(folder, 'batch.yaml');
    writeFileSync(
      named,
      'alwaysBlocked: { extends: defaults, add: [volumes.delet] }\napprovers:\n  groups: { on-call: [a] }\n  rules: [{ tools: [volumes.delte], groups: [on-call] }]\ntiers:\n  write: { Production: approval, default: autonomous }\n',
    );
    const r = await runMain('worker/main.ts', productionEnv({ GATEHOUSE_POLICIES: folder }));
    assert.equal(r.code, 1);
    const last = r.stderr.trimEnd().split('\n').at(-1);
    assert.equal(
      last,
      `gatehouse worker: policy \`batch\` (\`${named}\`) silently loosens the gate, which a production worker refuses: alwaysBlocked: \`volumes.delet\` matches no tool of the catalog; approvers.rules[0].tools[0]: \`volumes.delte\` matches no tool of the catalog; tiers.write.Production: no tool of the catalog is in environment \`Production\`: did you mean \`production\`?`,
    );
  });
});

describe('a destructive tool that runs autonomously', () => {
  it('stops a production worker: deletions are never automatic', async () => {
    const policy = file('autonomous-delete.yaml', 'tools:\n  volumes.delete: { tier: autonomous }\n');
    const r = await runMain('worker/main.ts', productionEnv({ GATEHOUSE_POLICY: policy }));
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trimEnd().split('\n').at(-1),
      `gatehouse worker: policy \`default\` (\`${policy}\`) silently loosens the gate, which a production worker refuses: tools["volumes.delete"].tier: destructive tool \`volumes.delete\` runs autonomously: deletions are never automatic, use \`approval\``,
    );
  });
});

describe('a top-level `mode: shadow` policy in production', () => {
  it('is refused, naming the file, unless `GATEHOUSE_ALLOW_SHADOW_POLICY=1` says it is meant', async () => {
    const policy = file('shadow.yaml', 'mode: shadow\n');
    const refused = await runMain('worker/main.ts', productionEnv({ GATEHOUSE_POLICY: policy }));
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `gatehouse worker: policy \`default\` (\`${policy}\`) has \`mode: shadow\`: it enforces no rule but the floor, which a production worker refuses; set \`GATEHOUSE_ALLOW_SHADOW_POLICY=1\` to run it knowingly\n`,
    );
    // Said knowingly, it goes on to connect (and fails there: nothing listens at the test's address).
    const knowingly = await runMain('worker/main.ts', productionEnv({ GATEHOUSE_POLICY: policy, GATEHOUSE_ALLOW_SHADOW_POLICY: '1' }));
    assert.equal(knowingly.code, 1);
    assert.equal(knowingly.stderr, 'gatehouse worker: connect ECONNREFUSED 127.0.0.1:1\n');
  });
});

describe('the start-up review (`reviewPolicies`)', () => {
  const loaded = (text: string): LoadedPolicy[] => {
    const parsed = parsePolicyText(text, 'p.yaml');
    assert.ok(parsed.success);
    return [{ name: 'default', file: 'p.yaml', document: parsed.data }];
  };
  const review = (text: string, opts: { production: boolean; upstreamServers?: string[] }) => {
    const lines: string[] = [];
    let error: unknown;
    try {
      reviewPolicies(loaded(text), { tools: TOOLS, schemas: new Map(), upstreamServers: opts.upstreamServers ?? [], production: opts.production, allowShadow: false, log: (l) => lines.push(l) });
    } catch (err) {
      error = err;
    }
    return { lines, error };
  };

  it('leaves alone a name under a configured upstream server (its tools are listed after start), and judges the rest', () => {
    const text = 'alwaysBlocked: { extends: defaults, add: [github.delete_repo, volumes.delet] }\n';
    const r = review(text, { production: true, upstreamServers: ['github'] });
    assert.deepEqual(r.lines, ['policy `default` (`p.yaml`): warning: alwaysBlocked: `volumes.delet` matches no tool of the catalog']);
    assert.ok(r.error instanceof Error && /silently loosens the gate/.test(r.error.message));
    const upstreamOnly = review('alwaysBlocked: { extends: defaults, add: [github.delete_repo] }\n', { production: true, upstreamServers: ['github'] });
    assert.deepEqual(upstreamOnly, { lines: [], error: undefined });
  });

  it('in development, logs and goes on; a typo in `tools` or `transitions` is logged, never refused', () => {
    const dev = review('alwaysBlocked: { extends: defaults, add: [volumes.delet] }\n', { production: false });
    assert.equal(dev.error, undefined);
    assert.equal(dev.lines.length, 1);
    const unclassified = review('tools:\n  volumes.delet: { tier: blocked }\n', { production: true });
    assert.equal(unclassified.error, undefined);
    assert.deepEqual(unclassified.lines, ['policy `default` (`p.yaml`): warning: tools["volumes.delet"]: `volumes.delet` matches no tool of the catalog']);
  });
});

describe('a development worker with a misspelt policy', () => {
  let audit: TestDatabase;
  let production: TestDatabase;
  let worker: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';

  before(async () => {
    const servers = await getTestServers();
    audit = await createTestDatabase('policy_typos_audit');
    production = await createTestDatabase('policy_typos_prod');
    // The typo, and an entry whose name carries terminal controls: the log line shows them escaped.
    const policy = file('dev-typo.yaml', `${TYPO_POLICY}alwaysBlocked: { extends: defaults, add: ["volumes.\\e]52;c;aGVsbG8=\\a\\r\\e[2K"] }\n`);
    const folder = join(dir, 'dev-named');
    mkdirSync(folder);
    writeFileSync(join(folder, 'trial.yaml'), 'mode: shadow\n');
    const env: NodeJS.ProcessEnv = {
      ...cliEnv(join(dir, 'dev-worker')),
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_NAMESPACE: servers.namespace,
      GATEHOUSE_TASK_QUEUE: `policy-typos-${randomUUID()}`,
      DATABASE_URL: audit.url,
      GATEHOUSE_PRODUCTION_DATABASE_URL: production.url,
      GATEHOUSE_KEYS: writeTestKeys(join(dir, 'keys')),
      GATEHOUSE_POLICY: policy,
      GATEHOUSE_POLICIES: folder,
      GATEHOUSE_WORKFLOW_BUNDLE: await workerBundleFile(dir),
    };
    worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    worker.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    worker.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  });
  after(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await audit?.drop();
    await production?.drop();
  });

  it('logs each warning on one escaped line, starts, and names every policy and its mode', async () => {
    await eventually(() => stdout.includes('polling task queue'), { what: `the worker started (stderr: ${stderr})` });
    assert.match(stdout, /; policies default \(enforce\), trial \(shadow\)\n$/);
    const lines = stderr.split('\n').filter((l) => l.includes('warning: '));
    assert.equal(lines.length, 2, stderr);
    assert.ok(lines.some((l) => l.endsWith(`: warning: ${TYPO_WARNING}`)), stderr);
    assert.ok(lines.some((l) => l.includes('alwaysBlocked: `volumes.\\u001b]52;c;aGVsbG8=\\u0007\\u000d\\u001b[2K` matches no tool of the catalog')), stderr);
    assert.doesNotMatch(stderr, CONTROL, JSON.stringify(stderr));
  });
});
