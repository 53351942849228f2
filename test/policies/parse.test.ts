import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { canonicalJson, compilePolicy, formatPath, parsePolicy, parsePolicyText, sha256Hex, type PolicyIssue } from '../../policies';
import { EXAMPLE_POLICY, TOOLS, policyOf } from './fixtures';

function issuesOf(input: unknown): readonly PolicyIssue[] {
  const r = parsePolicy(input);
  assert.equal(r.success, false, 'expected the policy to be rejected');
  return r.success ? [] : r.issues;
}

test('an empty document is the default policy of the issue', () => {
  const r = parsePolicy({});
  assert.ok(r.success);
  const d = r.data;
  assert.deepEqual(d.tiers.read, { default: 'autonomous' });
  assert.deepEqual(d.tiers.write, { staging: 'autonomous', production: 'approval', default: 'approval' });
  assert.deepEqual(d.tiers.destructive, { default: 'approval' });
  assert.deepEqual({ ...d.budget }, { windowMinutes: 30, actions: 20, writes: 5, critical: 1, readOnlyAt: 0.8 });
  assert.equal(d.intent.reviewBelow, 0.55);
  assert.deepEqual(d.subAgents, { budgetShare: 0.25, inheritTransitions: true });
  assert.equal(d.approvers.default.timeoutMinutes, 15);
  assert.equal(d.approvers.default.approversRequired, 1);
  assert.deepEqual(d.alwaysBlocked, ['audit.*', 'iam.crossAccount*', 'kms.*']);
  assert.deepEqual({ ...d.rateLimits.perTool }, { max: 100, perSeconds: 60 });
  assert.equal(d.mode, 'enforce');
});

test('a wrong type names the path, what was expected and what was found', () => {
  const issues = issuesOf({ budget: { writes: 'five' } });
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), ['budget.writes: expected a whole number ≥ 0, got "five"']);
});

test('every schema error of a malformed document is reported with its path', () => {
  const issues = issuesOf({
    mode: 'loud',
    tiers: { write: { production: 'maybe' } },
    alwaysBlocked: [42],
    tools: { 'billing.summary': { args: { months: { min: 1, max: 'many' } }, blastRadius: { approvalAbove: 10, denyAbove: 5 } } },
    budget: { windowMinutes: 0, actions: -1, readOnlyAt: 2 },
    transitions: [{ from: 'volumes.list' }, { sequence: ['only-one'] }],
    rateLimits: { perTool: { max: 1.5, perSeconds: 60 } },
    intent: { reviewBelow: 3 },
    approvers: { groups: { ops: ['ann'] }, default: { groups: ['ghosts'] } },
    colour: 'blue',
  });
  const paths = issues.map((i) => i.path);
  for (const expected of [
    'mode',
    'tiers.write.production',
    'alwaysBlocked[0]',
    'tools["billing.summary"].args.months.max',
    'tools["billing.summary"].blastRadius',
    'budget.windowMinutes',
    'budget.actions',
    'budget.readOnlyAt',
    'transitions[0]',
    'transitions[1].sequence',
    'rateLimits.perTool.max',
    'intent.reviewBelow',
    'colour',
  ]) {
    assert.ok(paths.includes(expected), `missing issue at ${expected}; got ${JSON.stringify(paths)}`);
  }
  assert.ok(issues.every((i) => i.message.length > 0 && i.code.length > 0));
  assert.match(issues.find((i) => i.path === 'colour')?.message ?? '', /unknown field `colour`/);
  assert.match(issues.find((i) => i.path === 'mode')?.message ?? '', /expected one of `enforce`, `shadow`, got "loud"/);
});

test('approver rules must name known groups and one escalation step per extra group', () => {
  const issues = issuesOf({
    approvers: {
      groups: { a: [], b: [] },
      default: { groups: ['a', 'b'], escalateAfterMinutes: [5, 6] },
      rules: [{ tools: ['x'], groups: ['a', 'zzz'], escalateAfterMinutes: [20], timeoutMinutes: 15 }],
    },
  });
  const text = issues.map((i) => `${i.path}: ${i.message}`);
  assert.ok(text.includes('approvers.default.escalateAfterMinutes: expected 1 escalation steps (one per group after the first)'), text.join('\n'));
  assert.ok(text.includes('approvers.rules[0].groups[1]: unknown approver group `zzz`'), text.join('\n'));
  assert.ok(text.includes('approvers.rules[0].escalateAfterMinutes[0]: expected increasing minutes below `timeoutMinutes`'), text.join('\n'));
});

test('transition ids must be unique', () => {
  const issues = issuesOf({ transitions: [{ from: 'a', to: 'b' }, { from: 'a', to: 'b' }] });
  assert.deepEqual(issues.map((i) => i.path), ['transitions[1].id']);
});

test('a bad regular expression in an argument bound is reported', () => {
  const issues = issuesOf({ tools: { x: { args: { name: { pattern: '([' } } } } });
  assert.deepEqual(issues.map((i) => `${i.path}: ${i.message}`), ['tools.x.args.name.pattern: expected a valid regular expression']);
});

test('YAML syntax errors and duplicate keys are reported with a line, and nothing loads', () => {
  const bad = parsePolicyText('budget:\n  writes: [1, 2\n', 'bad.yaml');
  assert.equal(bad.success, false);
  if (!bad.success) {
    assert.equal(bad.issues[0]?.code, 'syntax');
    assert.equal(bad.issues[0]?.path, 'bad.yaml');
    assert.match(bad.issues[0]?.message ?? '', /invalid YAML at line \d+, column \d+/);
  }
  const dup = parsePolicyText('budget:\n  writes: 1\n  writes: 2\n', 'dup.yaml');
  assert.equal(dup.success, false);
});

test('JSON text is parsed as JSON when the file name says so', () => {
  const ok = parsePolicyText('{"budget":{"writes":3}}', 'p.json');
  assert.ok(ok.success && ok.data.budget.writes === 3);
  const bad = parsePolicyText('{"budget":', 'p.json');
  assert.ok(!bad.success && bad.issues[0]?.code === 'syntax' && /invalid JSON/.test(bad.issues[0].message));
});

test('a file with no document is refused, so a truncated policy never loads as the default; `{}` is the default on purpose', () => {
  const empty = { code: 'syntax', path: 'empty.yaml', message: 'the policy file is empty: write `{}` to mean the default policy' };
  for (const text of ['', '\n', '# only a comment\n', '---\n', '--- # c\n...\n', '~', 'null\n']) {
    const r = parsePolicyText(text, 'empty.yaml');
    assert.deepEqual(r.success ? [] : r.issues, [empty], JSON.stringify(text));
  }
  for (const [text, file] of [['{}', 'p.yaml'], ['{}\n', 'p.yml'], ['{}', 'p.json'], ['# defaults on purpose\n{}\n', 'p.yaml']] as const) {
    const r = parsePolicyText(text, file);
    assert.ok(r.success && r.data.name === 'default', `${JSON.stringify(text)} in ${file}`);
  }
});

test('a key twice in one JSON mapping is refused like in YAML, not taken last-wins', () => {
  const only = (r: ReturnType<typeof parsePolicyText>) => (r.success ? [] : r.issues);
  assert.deepEqual(only(parsePolicyText('{"budget":{"writes":1},"budget":{"writes":50}}', 'p.json')), [
    { code: 'syntax', path: 'p.json', message: 'invalid JSON at line 1, column 24: map keys must be unique' },
  ]);
  // Nested, and spelled with an escape: the same key to JSON.parse.
  const nested = '{\n  "tools": {\n    "db.drop": { "tier": "blocked" },\n    "db.dro\\u0070": { "tier": "autonomous" }\n  }\n}\n';
  assert.deepEqual(only(parsePolicyText(nested, 'P.JSON')), [{ code: 'syntax', path: 'P.JSON', message: 'invalid JSON at line 4, column 5: map keys must be unique' }]);
  // The same key in two mappings is no duplicate.
  assert.equal(parsePolicyText('{"tools":{"a.b":{"tier":"blocked"},"c.d":{"tier":"blocked"}}}', 'p.json').success, true);
});

test('parsePolicy never throws on non-documents and names the root', () => {
  for (const input of [null, undefined, 42, 'policy', [], [1, 2], true]) {
    const r = parsePolicy(input);
    assert.equal(r.success, false, `should reject ${JSON.stringify(input)}`);
  }
  const r = parsePolicy([]);
  assert.ok(!r.success && r.issues[0]?.path === '' && /expected a policy document/.test(r.issues[0].message));
});

test('the example policy parses, compiles without warnings over the sample catalog', () => {
  const r = parsePolicyText(readFileSync(EXAMPLE_POLICY, 'utf8'), EXAMPLE_POLICY);
  assert.ok(r.success, JSON.stringify(!r.success && r.issues));
  const compiled = compilePolicy(r.data, TOOLS);
  assert.deepEqual(compiled.warnings, []);
  assert.match(compiled.hash, /^[0-9a-f]{64}$/);
});

test('compiling warns about rules that match no tool of the catalog', () => {
  const p = policyOf({ tools: { 'nothing.here': { tier: 'blocked' } }, transitions: [{ from: 'volumes.list', to: 'nope.*' }] });
  assert.deepEqual(p.warnings.map((w) => w.path), ['transitions[0].to', 'tools["nothing.here"]']);
});

test('the policy hash is sha256 of the canonical normalised document', () => {
  const a = policyOf({ budget: { writes: 5, actions: 20 }, name: 'p' });
  const b = policyOf({ name: 'p', budget: { actions: 20 } });
  const c = policyOf({ name: 'p', budget: { actions: 21 } });
  assert.equal(a.hash, b.hash, 'spelling out a default does not change the hash');
  assert.notEqual(a.hash, c.hash);
  assert.equal(a.hash, sha256Hex(canonicalJson(a.document)));
});

test('canonicalJson sorts keys at every level and sha256Hex matches the known vector', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: undefined } }), '{"a":{"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.equal(canonicalJson([undefined, Number.NaN, 'x']), '[null,null,"x"]');
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('text that is no text, JSON by a case-insensitive extension, YAML errors word for word, an alias bomb', () => {
  const only = (r: ReturnType<typeof parsePolicyText>) => (r.success ? [] : r.issues);
  assert.deepEqual(only(parsePolicyText(5 as unknown as string)), [{ code: 'syntax', path: 'policy', message: 'expected the policy as text' }]);
  assert.deepEqual(only(parsePolicyText(5 as unknown as string, 'a.yaml')), [{ code: 'syntax', path: 'a.yaml', message: 'expected the policy as text' }]);
  const json = only(parsePolicyText('{', 'P.JSON'));
  assert.deepEqual(json.map((i) => [i.code, i.path]), [['syntax', 'P.JSON']]);
  // V8's own text after the position differs between Node versions
  assert.match(json[0]?.message ?? '', /^invalid JSON: expected property name or '\}' in JSON at position 1\b/);
  assert.equal(parsePolicyText('{"name":"x"}', 'P.JSON').success, true);
  assert.deepEqual(only(parsePolicyText('budget:\n  writes: [1, 2\n')), [
    { code: 'syntax', path: 'policy', message: 'invalid YAML at line 3, column 1: flow sequence in block collection must be sufficiently indented and end with a ]' },
  ]);
  assert.deepEqual(only(parsePolicyText('a: 1\na: 2\n', 'd.yaml')), [{ code: 'syntax', path: 'd.yaml', message: 'invalid YAML at line 2, column 1: map keys must be unique' }]);
  const tenth = `${Array.from({ length: 9 }, (_, i) => `n${i}: 1`).join('\n')}\ntools: {aaaaaaaaaa: 1, aaaaaaaaaa: 2}\n`;
  assert.deepEqual(only(parsePolicyText(tenth, 'long.yaml')), [{ code: 'syntax', path: 'long.yaml', message: 'invalid YAML at line 10, column 24: map keys must be unique' }]);
  const bomb = '- &a [x]\n- &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n- &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n- &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n';
  assert.deepEqual(only(parsePolicyText(bomb, 'bomb.yaml')), [{ code: 'syntax', path: 'bomb.yaml', message: 'invalid YAML: excessive alias count indicates a resource exhaustion attack' }]);
  assert.deepEqual(only(parsePolicyText('~', 'null.yaml')), [{ code: 'syntax', path: 'null.yaml', message: 'the policy file is empty: write `{}` to mean the default policy' }], 'a null document is no policy');
  assert.ok(parsePolicyText('name: x\n', 'x.json.yml').success, 'YAML unless the name ends in .json');
});

test('a document that throws when read is refused, the error\'s first line lower-cased', () => {
  const issues = (input: unknown) => {
    const r = parsePolicy(input);
    return r.success ? [] : r.issues;
  };
  assert.deepEqual(issues({ get budget() { throw new Error('Boom.\nsecond line'); } }), [{ code: 'invalid', path: '', message: 'cannot read the policy document: boom' }]);
  assert.deepEqual(issues({ get budget() { throw 'Plain'; } }), [{ code: 'invalid', path: '', message: 'cannot read the policy document: plain' }]);
  assert.deepEqual(issues({ get budget() { throw new Error('Read of x.y failed.'); } }), [{ code: 'invalid', path: '', message: 'cannot read the policy document: read of x.y failed' }]);
  assert.deepEqual(issues({ get budget() { throw new Error('`Budget` is locked'); } }), [{ code: 'invalid', path: '', message: 'cannot read the policy document: `Budget` is locked' }]);
});

test('paths: names plain, indexes and other keys bracketed', () => {
  assert.equal(formatPath(['a', 0, 'b-c', 'd.e', '_x', 'X9', '9x', '', 1]), 'a[0].b-c["d.e"]._x.X9["9x"][""][1]');
  assert.equal(formatPath([0, 'a']), '[0].a');
  assert.equal(formatPath(['a b']), '["a b"]');
  assert.equal(formatPath([]), '');
});

test('what was found: rendered as JSON, else as text, cut after 57 characters past 60', () => {
  const got = (writes: unknown) => {
    const r = parsePolicy({ budget: { writes } });
    return r.success ? '' : r.issues.map((i) => i.message).join('; ');
  };
  assert.equal(got('y'.repeat(58)), `expected a whole number ≥ 0, got "${'y'.repeat(58)}"`);
  assert.equal(got('y'.repeat(59)), `expected a whole number ≥ 0, got "${'y'.repeat(56)}...`);
  assert.equal(got(10n), 'expected a whole number ≥ 0, got 10');
  assert.equal(got(Symbol('s')), 'expected a whole number ≥ 0, got Symbol(s)');
});

test('a bare alwaysBlocked list that leaves out a default says which, and how to say it on purpose', () => {
  const notes = (alwaysBlocked: unknown) => {
    const r = parsePolicy({ alwaysBlocked });
    assert.ok(r.success);
    return r.notes;
  };
  assert.deepEqual(notes(['audit.*']), [{
    code: 'drops-default',
    path: 'alwaysBlocked',
    message: 'the list replaces the defaults and drops `iam.crossAccount*`, `kms.*`: write `{ extends: defaults, add: [...] }` to keep them, or `{ extends: none, add: [...] }` to drop them on purpose',
  }]);
  assert.deepEqual(notes([{ tool: 'kms.*' }, 'audit.*', 'iam.crossAccount*']), []);
  assert.deepEqual(notes({ extends: 'none', add: [] }), []);
  assert.equal(notes([]).length, 1);
  assert.deepEqual(notes(undefined), [], 'no list: the defaults');
});
