/**
 * The `policy` command family in-process (fast): option validation, JSON output and the
 * custom catalog. `cli.test.ts` runs the real binary end to end.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PolicyCommandError } from '../../cli/commands/policy';
import { EXAMPLE_POLICY, examplePolicy } from './fixtures';
import { runPolicyCli } from './policy-cli';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-cmd-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}


test('check --json lists every issue with its path', async () => {
  const bad = file('bad.yaml', 'budget:\n  writes: five\ncolour: blue\n');
  const r = await runPolicyCli('policy', 'check', bad, '--json');
  assert.equal(r.exitCode, 1);
  const parsed = JSON.parse(r.stdout) as { valid: boolean; issues: { path: string; message: string }[] };
  assert.equal(parsed.valid, false);
  assert.deepEqual(parsed.issues.map((i) => i.path).sort(), ['budget.writes', 'colour']);
  const ok = await runPolicyCli('policy', 'check', EXAMPLE_POLICY, '--json');
  assert.equal(ok.exitCode, 0);
  assert.equal((JSON.parse(ok.stdout) as { valid: boolean }).valid, true);
});

test('analyze --json carries the summary; a bad --max-length is refused', async () => {
  const r = await runPolicyCli('policy', 'analyze', EXAMPLE_POLICY, '--json', '--max-length', '2');
  assert.deepEqual((JSON.parse(r.stdout) as { summary: unknown }).summary, { paths: 18, blocked: 4, approval: 14, autonomous: 0 });
  await assert.rejects(runPolicyCli('policy', 'analyze', EXAMPLE_POLICY, '--max-length', 'ten'), (e: unknown) => e instanceof PolicyCommandError && /invalid `--max-length`: expected a whole number from 2 to 8, got `ten`/.test(e.message));
});

test('eval: a bad --now, --facts or history line is a PolicyCommandError', async () => {
  const empty = file('empty.jsonl', '');
  const p = JSON.stringify({ tool: 'billing.query', args: {}, reasoning: 'x' });
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', empty, '--proposal', p, '--now', 'soon'), /invalid `--now`: expected an ISO time, got `soon`/);
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', empty, '--proposal', p, '--facts', '{'), /invalid `--facts`: not JSON/);
  const backwards = file('back.jsonl', [`{"at":"2026-11-21T10:05:00Z","proposal":{"tool":"billing.query","args":{},"reasoning":"x"},"status":"executed"}`, `{"at":"2026-11-21T10:00:00Z","proposal":{"tool":"billing.query","args":{},"reasoning":"x"},"status":"executed"}`].join('\n'));
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', backwards, '--proposal', p), /line 2: `at` goes back in time/);
  const badPolicy = file('bad-policy.yaml', 'budget: { writes: -1 }\n');
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', badPolicy, '--history', empty, '--proposal', p), /policy `.*bad-policy\.yaml` is invalid: budget\.writes: expected a whole number ≥ 0, got -1/);
});

test('eval: a history line whose `session` is empty or not a string is refused at its line', async () => {
  const p = JSON.stringify({ tool: 'billing.query', args: {}, reasoning: 'x' });
  const line = (session: unknown) => JSON.stringify({ at: '2026-11-21T10:00:00Z', proposal: { tool: 'billing.query', args: {}, reasoning: 'x' }, status: 'executed', session });
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', file('s-empty.jsonl', line('')), '--proposal', p), /history `.*s-empty\.jsonl` line 1: session: /);
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', file('s-num.jsonl', line(7)), '--proposal', p), /history `.*s-num\.jsonl` line 1: session: /);
});

test('eval: a history with an intent score and facts is folded; a malformed proposal is a deny, not a crash', async () => {
  const history = file(
    'h.jsonl',
    [
      { at: '2026-11-21T10:00:00Z', proposal: { tool: 'billing.query', args: {}, reasoning: 'x' }, status: 'executed', intentScore: 0.1 },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n'),
  );
  const write = JSON.stringify({ tool: 'staging.writeConfig', args: { key: 'a', value: 'b' }, reasoning: 'x' });
  const r = await runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', history, '--proposal', write, '--now', '2026-11-21T10:01:00Z', '--json');
  const d = JSON.parse(r.stdout) as { verdict: string; reasons: { rule: string }[] };
  assert.equal(d.verdict, 'approve');
  assert.deepEqual(d.reasons.map((x) => x.rule), ['intent.review']);
  const m = await runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', history, '--proposal', '"just a string"', '--json');
  assert.equal((JSON.parse(m.stdout) as { reasons: { rule: string }[] }).reasons[0]?.rule, 'proposal.malformed');
});

test('eval: agent-wide rules count the agent’s other sessions (lines with `session`) and this one’s', async () => {
  // The example with its `agent:` section replaced by one budget of this test's.
  const withAgent = (budget: Record<string, unknown>) => JSON.stringify({ ...examplePolicy().document, agent: { budgets: [{ tools: ['billing.query'], max: 1, windowMinutes: 60, ...budget }] } });
  const policy = file('agent-budget.json', withAgent({}));
  const query = { tool: 'billing.query', args: { customer: 'acme', period: '2026-10' }, reasoning: 'x' };
  const history = (at: string, session?: string) => file(`h-${at.replace(/:/g, '')}-${session ?? 'this'}.jsonl`, JSON.stringify({ at, proposal: query, status: 'executed', ...(session ? { session } : {}) }));
  const evalAt = async (h: string) => JSON.parse((await runPolicyCli('policy', 'eval', '--policy', policy, '--history', h, '--proposal', JSON.stringify(query), '--now', '2026-11-21T10:05:00Z', '--json')).stdout) as { verdict: string; reasons: { rule: string }[] };

  const otherSession = await evalAt(history('2026-11-21T10:00:00Z', 'yesterday'));
  assert.deepEqual([otherSession.verdict, otherSession.reasons.map((r) => r.rule)], ['deny', ['agent.budget']]);
  assert.equal((await evalAt(history('2026-11-21T10:00:00Z'))).verdict, 'deny', 'this session’s own call counts too');
  assert.equal((await evalAt(history('2026-11-21T08:00:00Z', 'yesterday'))).verdict, 'allow', 'outside the window');
  const text = await runPolicyCli('policy', 'eval', '--policy', policy, '--history', history('2026-11-21T10:00:00Z', 'yesterday'), '--proposal', JSON.stringify(query), '--now', '2026-11-21T10:05:00Z');
  assert.match(text.stdout, /agent\.budget: `billing\.query` ran 1 times in the last 60 minutes/);
  assert.match(text.stdout, /session: 0 past actions \(and 1 in 1 other session\(s\) of the agent\)/);

  // The same budget in shadow mode: allowed, with what it would have denied.
  const shadow = file('agent-budget-shadow.json', withAgent({ mode: 'shadow' }));
  const tried = await runPolicyCli('policy', 'eval', '--policy', shadow, '--history', history('2026-11-21T10:00:00Z', 'yesterday'), '--proposal', JSON.stringify(query), '--now', '2026-11-21T10:05:00Z');
  assert.match(tried.stdout, /^verdict: allow/m);
  assert.match(tried.stdout, /^shadow: would deny\n  - agent\.budget: /m);
});

test('--tools: a malformed catalog is refused with the offending entry', async () => {
  const badTools = file('bad-tools.json', JSON.stringify([{ name: 'x', effect: 'explode' }]));
  await assert.rejects(runPolicyCli('policy', 'check', EXAMPLE_POLICY, '--tools', badTools), /tools `.*bad-tools\.json`: 0\.effect:/);
  await assert.rejects(runPolicyCli('policy', 'check', EXAMPLE_POLICY, '--tools', file('nojson.json', '[')), /tools `.*nojson\.json`: invalid JSON/);
});

test('missing files, bad history lines and bad proposal JSON are clear errors', async () => {
  const p = JSON.stringify({ tool: 'billing.query', args: {}, reasoning: 'x' });
  await assert.rejects(runPolicyCli('policy', 'check', join(dir, 'nope.yaml')), /cannot read policy file `.*nope\.yaml`: no such file/);
  await assert.rejects(runPolicyCli('policy', 'check', dir), /cannot read policy file `.*`: it is a directory/);
  const badLine = file('bad.jsonl', `{"at":"2026-11-21T10:00:00Z","proposal":{"tool":"billing.query","args":{},"reasoning":"x"},"status":"executed"}\n{"at":"yesterday","proposal":{},"status":"done"}\n`);
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', badLine, '--proposal', p), /history `.*bad\.jsonl` line 2: at: expected an iso time/);
  const notJson = file('notjson.jsonl', '{"at":\n');
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', notJson, '--proposal', p), /history `.*notjson\.jsonl` line 1: invalid JSON/);
  const empty = file('empty2.jsonl', '');
  await assert.rejects(runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', empty, '--proposal', '{tool:'), /invalid `--proposal`: not JSON/);
});

test('--tools takes a custom catalog', async () => {
  const tools = file('tools.json', JSON.stringify([{ name: 'db.read', description: 'read', effect: 'read', environment: 'production', resource: 'db' }, { name: 'db.drop', description: 'drop', effect: 'destructive', environment: 'production', resource: 'db' }]));
  const r = await runPolicyCli('policy', 'analyze', EXAMPLE_POLICY, '--tools', tools, '--max-length', '2');
  assert.equal(r.exitCode, 0);
  assert.match(r.stdout, /approval\s+db\.read → db\.drop/);
  assert.match(r.stdout, /1 paths, 0 blocked, 1 need approval, 0 autonomous/);
  const check = await runPolicyCli('policy', 'check', EXAMPLE_POLICY, '--tools', tools);
  assert.equal(check.exitCode, 1, 'rules naming tools the catalog lacks fail the check');
  assert.match(check.stderr, /^tools\["billing\.deleteRecords"\]: `billing\.deleteRecords` matches no tool of the catalog$/m);
  // Approver rules count too: a rule naming no tool leaves the tool it meant with the default approvers.
  assert.match(check.stderr, /^approvers\.rules\[0\]\.tools\[0\]: `volumes\.delete` matches no tool of the catalog$/m);
  assert.match(check.stderr, /^approvers\.rules\[1\]\.tools\[0\]: `billing\.\*` matches no tool of the catalog$/m);
  const listed = check.stderr.match(/matches no tool of the catalog$/gm)?.length ?? 0;
  assert.match(check.stderr, new RegExp(`^${listed} rule\\(s\\) name tools the catalog lacks \\(\`.*tools\\.json\`; upstream tools need \`--config <file>\`\\): fix them, or pass \`--allow-unknown-tools\``, 'm'));
  const allowed = await runPolicyCli('policy', 'check', EXAMPLE_POLICY, '--tools', tools, '--allow-unknown-tools');
  assert.equal(allowed.exitCode, 0);
  assert.match(allowed.stderr, /warning: tools\["billing\.deleteRecords"\]: `billing\.deleteRecords` matches no tool of the catalog/);
});

test('a typo in a tool name fails the check with the catalog\'s closest name, and changes no decision silently', async () => {
  const typo = file('typo.yaml', 'tools:\n  billing.deleteRecordz: { tier: approval }\ntransitions:\n  - { from: volumes.lst, to: volumes.unmount }\n');
  const r = await runPolicyCli('policy', 'check', typo);
  assert.equal(r.exitCode, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^transitions\[0\]\.from: `volumes\.lst` matches no tool of the catalog: did you mean `volumes\.list`\?$/m);
  assert.match(r.stderr, /^tools\["billing\.deleteRecordz"\]: `billing\.deleteRecordz` matches no tool of the catalog: did you mean `billing\.deleteRecords`\?$/m);
  const json = JSON.parse((await runPolicyCli('policy', 'check', typo, '--json')).stdout) as { valid: boolean; issues: { code: string; path: string }[] };
  assert.equal(json.valid, false);
  assert.deepEqual(json.issues.map((i) => [i.code, i.path]), [['unknown-tool', 'transitions[0].from'], ['unknown-tool', 'tools["billing.deleteRecordz"]']]);
  // A glob or a name far from every tool gets no guess.
  const far = await runPolicyCli('policy', 'check', file('far.yaml', 'tools:\n  kubernetes.nuke: { tier: approval }\n'));
  assert.match(far.stderr, /^tools\["kubernetes\.nuke"\]: `kubernetes\.nuke` matches no tool of the catalog$/m);
});

test('a typo that would loosen the gate fails the check, with the closest name: always-blocked, approver rule, tier environment, bound path', async () => {
  const typos = file(
    'loosening.yaml',
    [
      'alwaysBlocked: { extends: defaults, add: [volumes.delet] }',
      'approvers:',
      '  groups: { on-call: [eng-007], sre-leads: [sre-ana] }',
      '  rules: [{ tools: [volumes.delte], groups: [sre-leads], approversRequired: 2 }]',
      'tiers:',
      '  write: { Production: approval, default: autonomous }',
      'tools:',
      '  billing.query:',
      '    args:',
      '      Limit: { max: 20 }',
      '',
    ].join('\n'),
  );
  const r = await runPolicyCli('policy', 'check', typos);
  assert.equal(r.exitCode, 1);
  assert.equal(r.stdout, '');
  assert.equal(
    r.stderr,
    [
      'alwaysBlocked: `volumes.delet` matches no tool of the catalog: did you mean `volumes.delete`?',
      'approvers.rules[0].tools[0]: `volumes.delte` matches no tool of the catalog: did you mean `volumes.delete`?',
      'tiers.write.Production: no tool of the catalog is in environment `Production`: did you mean `production`?',
      'tools["billing.query"].args.Limit: argument path `Limit` is not declared by tool `billing.query`: the bound holds nothing back: did you mean `limit`?',
      '2 rule(s) name tools the catalog lacks (the sample catalog; upstream tools need `--config <file>`): fix them, or pass `--allow-unknown-tools` when the catalog is not loaded here',
      '2 rule(s) name environments or argument paths the catalog lacks: fix them, or pass `--allow-unknown-tools` when the catalog is not loaded here',
      '',
    ].join('\n'),
  );
  const json = JSON.parse((await runPolicyCli('policy', 'check', typos, '--json')).stdout) as { valid: boolean; issues: { code: string; path: string }[] };
  assert.deepEqual(json.issues.map((i) => [i.code, i.path]), [
    ['unknown-tool', 'alwaysBlocked'],
    ['unknown-tool', 'approvers.rules[0].tools[0]'],
    ['unknown-environment', 'tiers.write.Production'],
    ['unknown-argument', 'tools["billing.query"].args.Limit'],
  ]);
  // Spelt right, the same document checks clean; the defaults (`audit.*`, `kms.*`, ...) and the default tier table are never reported.
  const right = await runPolicyCli('policy', 'check', file('loosening-fixed.yaml', readFileSync(typos, 'utf8').replace('volumes.delet]', 'volumes.delete]').replace('volumes.delte', 'volumes.delete').replace('Production:', 'production:').replace('Limit:', 'limit:')));
  assert.equal(right.exitCode, 0, right.stderr);
  assert.equal(right.stderr, '');
  const catalogLacksIt = await runPolicyCli('policy', 'check', file('other-envs.yaml', 'tiers:\n  write: { staging: autonomous, production: approval, default: approval }\n'), '--tools', file('prod-only.json', JSON.stringify([{ name: 'db.drop', description: 'drop', effect: 'destructive', environment: 'production', resource: 'db' }])));
  assert.equal(catalogLacksIt.stderr, '', 'the default table written out is not the document\'s choice of names');
  // A nested path is judged level by level; a glob's bound, against every tool it matches.
  const nested = await runPolicyCli('policy', 'check', file('nested.yaml', "tools:\n  'billing.*':\n    args:\n      customerId: { pattern: '^c_' }\n      customer.id: { pattern: '^c_' }\n"));
  assert.match(nested.stderr, /^tools\["billing\.\*"\]\.args\["customer\.id"\]: argument path `customer\.id` is not declared by any of the 3 tools `billing\.\*` matches: the bound holds nothing back/m);
  assert.doesNotMatch(nested.stderr, /args\.customerId/);
});

test('a destructive tool that runs autonomously is a warning: deletions are never automatic', async () => {
  const r = await runPolicyCli('policy', 'check', file('autonomous.yaml', 'tiers:\n  destructive: { staging: autonomous, default: approval }\ntools:\n  volumes.delete: { tier: autonomous }\n  billing.deleteRecords: { tier: autonomous, mode: shadow }\n'));
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(
    r.stderr,
    [
      'warning: tiers.destructive.staging: destructive tools in `staging` run autonomously: deletions are never automatic, use `approval`',
      'warning: tools["volumes.delete"].tier: destructive tool `volumes.delete` runs autonomously: deletions are never automatic, use `approval`',
      '',
    ].join('\n'),
    'a shadow override enforces nothing: no warning',
  );
});

test('a bare alwaysBlocked list that drops a default fails the check; `extends: defaults | none` says which on purpose', async () => {
  const dropped = await runPolicyCli('policy', 'check', file('dropped.yaml', 'alwaysBlocked: [secrets.delete]\n'));
  assert.equal(dropped.exitCode, 1);
  assert.match(dropped.stderr, /^alwaysBlocked: the list replaces the defaults and drops `audit\.\*`, `iam\.crossAccount\*`, `kms\.\*`: write `\{ extends: defaults, add: \[\.\.\.\] \}` to keep them/m);
  const kept = await runPolicyCli('policy', 'check', file('kept.yaml', 'alwaysBlocked:\n  extends: defaults\n  add: [volumes.delete]\n'), '--json');
  assert.equal(kept.exitCode, 0, kept.stderr);
  const keptHash = (JSON.parse(kept.stdout) as { hash: string }).hash;
  // The same meaning written as the whole list hashes alike: the normalised document is the list.
  const listed = await runPolicyCli('policy', 'check', file('listed.yaml', "alwaysBlocked: ['audit.*', 'iam.crossAccount*', 'kms.*', volumes.delete]\n"), '--json');
  assert.equal((JSON.parse(listed.stdout) as { hash: string }).hash, keptHash);
  const none = await runPolicyCli('policy', 'check', file('none.yaml', 'alwaysBlocked: { extends: none, add: [volumes.delete] }\n'));
  assert.equal(none.exitCode, 0, none.stderr);
  const bad = await runPolicyCli('policy', 'check', file('bad-extends.yaml', 'alwaysBlocked: { extends: everything }\n'));
  assert.match(bad.stderr, /^alwaysBlocked\.extends: expected `defaults` or `none`, got "everything"$/m);
});

test('an error inside a default names the default the document does not set, not a path the user never wrote', async () => {
  const r = await runPolicyCli('policy', 'check', file('groups.yaml', 'approvers:\n  groups: { data-owners: [data-lee] }\n'));
  assert.equal(r.exitCode, 1);
  assert.match(r.stderr, /^approvers\.default\.groups\[0\]: unknown approver group `on-call`: from the default of `approvers\.default`, which the document does not set$/m);
});

test('check lists agent- and owner-wide rules, and a broken section is an error with its path', async () => {
  const r = await runPolicyCli('policy', 'check', join(__dirname, '..', '..', 'policies', 'examples', 'agent-wide.yaml'));
  assert.equal(r.exitCode, 0);
  assert.match(r.stdout, /agent-wide budget `billing.delete\*`: at most 20 calls of `billing.delete\*` per 60 minutes/);
  assert.match(r.stdout, /agent-wide transition `volumes.list -> volumes.unmount`: `volumes.unmount` denied within 30 minutes of `volumes.list`/);
  assert.match(r.stdout, /owner-wide budget `owner-production-writes`/);
  assert.doesNotMatch(r.stdout, /shadow/);
  const trial = await runPolicyCli('policy', 'check', file('trial-agent.yaml', "agent:\n  budgets: [{ id: trial, tools: ['billing.query'], max: 5, windowMinutes: 60, mode: shadow }]\n"));
  assert.match(trial.stdout, /agent-wide budget `trial`: at most 5 calls of `billing.query` per 60 minutes \(shadow: reported, not enforced\)/);
  const bad = await runPolicyCli('policy', 'check', file('bad-agent.yaml', 'agent:\n  budgets: [{ tools: [], max: five, windowMinutes: 60 }]\n'), '--json');
  assert.equal(bad.exitCode, 1);
  assert.deepEqual((JSON.parse(bad.stdout) as { issues: { path: string }[] }).issues.map((i) => i.path).sort(), ['agent.budgets[0].max', 'agent.budgets[0].tools']);
});

test('every shipped example policy checks clean against the catalog it is written for', async () => {
  const examples = join(__dirname, '..', '..', 'policies', 'examples');
  for (const name of ['production.yaml', 'agent-wide.yaml']) {
    const r = await runPolicyCli('policy', 'check', join(examples, name));
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr, '', `${name} checks without a warning`);
  }
  // The filesystem example classifies an upstream MCP server's tools: checked with that server listed.
  const scratch = mkdtempSync(join(tmpdir(), 'gatehouse-fs-example-'));
  try {
    const config = file('fs-config.yaml', `mcp:\n  upstreams:\n    filesystem:\n      command: npx\n      args: [-y, "@modelcontextprotocol/server-filesystem", ${JSON.stringify(scratch)}]\n`);
    const r = await runPolicyCli('policy', 'check', join(examples, 'mcp-filesystem.yaml'), '--config', config);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr, '');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('check fails on a transition within 0 minutes (the rule would never apply), whatever the catalog', async () => {
  const zero = file('within-zero.yaml', 'transitions:\n  - from: volumes.list\n    to: volumes.unmount\n    within: { minutes: 0 }\n');
  for (const extra of [[], ['--allow-unknown-tools']]) {
    const r = await runPolicyCli('policy', 'check', zero, ...extra);
    assert.equal(r.exitCode, 1);
    assert.equal(r.stderr, 'transitions[0].within.minutes: a rule within 0 minutes never applies: omit `within` for no time limit, or give the minutes it means\n');
  }
});

test('eval --intent: a staging write under a declared intent that only looks needs approval (`intent.effect`); under one that asks for the change it runs', async () => {
  const empty = file('no-history.jsonl', '');
  const write = JSON.stringify({ tool: 'staging.writeConfig', args: { key: 'feature.flag', value: 'on' }, reasoning: 'set the flag' });
  const evalUnder = async (...intent: string[]) => JSON.parse((await runPolicyCli('policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', empty, '--proposal', write, ...intent, '--json')).stdout) as { verdict: string; reasons: { rule: string }[] };
  const looks = await evalUnder('--intent', 'look at the staging config');
  assert.equal(looks.verdict, 'approve');
  assert.ok(looks.reasons.some((r) => r.rule === 'intent.effect'), JSON.stringify(looks.reasons));
  const sets = await evalUnder('--intent', 'set the feature flag in the staging config');
  assert.deepEqual([sets.verdict, sets.reasons.some((r) => r.rule === 'intent.effect')], ['allow', false]);
  // Without `--intent` no intent is known: the rule holds nothing.
  assert.equal((await evalUnder()).verdict, 'allow');
});
