/**
 * Argument bounds judge what the tool runs (`policies/evaluate.ts`, `CompileOptions.argumentsAsRun`):
 * a pattern-bound string with a dot segment, a backslash or a control character fails its bound; a
 * missing argument is judged at the default the tool publishes; a list or other non-object value met
 * on a bound's path fails it; `policy check` refuses paths that would enter a list. Compiled as
 * sessions recorded before (`argumentsAsRun: false`), every one of these decides as it did. The
 * example `mcp-filesystem.yaml` holds against the paths that fooled it. Pure and fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { compilePolicy, estimateWithinRules, evaluate, initialSessionState, parsePolicy, parsePolicyText, type CompiledPolicy, type Decision, type ToolInfo } from '../../policies';
import { UNSAFE_URI, patternTextProblem } from '../../policies/unsafe-text';
import { Driver, ROOT, TOOLS, call, policyOf, rules } from './fixtures';

const quiet = { budget: { actions: 1000, writes: 1000, critical: 1000 }, tiers: { write: { default: 'autonomous' }, destructive: { default: 'autonomous' } } };

/** A policy document compiled both ways: as today's sessions (`asRun`) and as sessions recorded before. */
function bothWays(doc: Record<string, unknown>, tools: readonly ToolInfo[] = TOOLS): { asRun: Driver; recorded: Driver } {
  const parsed = parsePolicy({ ...quiet, ...doc });
  if (!parsed.success) assert.fail(JSON.stringify(parsed.issues));
  return { asRun: new Driver(compilePolicy(parsed.data, tools)), recorded: new Driver(compilePolicy(parsed.data, tools, { argumentsAsRun: false })) };
}

const messages = (d: Decision): string[] => d.reasons.filter((r) => r.rule === 'args.bounds').map((r) => r.message);

test('a pattern-bound string with a dot segment, a backslash or a control character fails the bound', () => {
  const { asRun, recorded } = bothWays({ tools: { 'staging.writeConfig': { args: { value: { pattern: '/(protected|notes)/[^/]+$' } } } } });
  const write = (value: string) => call('staging.writeConfig', { key: 'k', value });
  const refused = [
    '/srv/config.json/notes/..',
    '/srv/config.json/notes/.',
    '/srv/notes/../notes/x',
    '/srv/./notes/x',
    '../notes/x',
    './notes/x',
    '..',
    '/srv/notes/x\\..',
    '/srv\\notes/x',
    '/srv/notes/x\u0000',
    '/srv/notes/x\n',
    '/srv/notes/x\u001f',
    '/srv/notes/x\u007f',
    '/srv/notes/x\u0085',
    '/srv/notes/x\u009f',
    // Encoded: a URL parser resolves them before the server acts.
    '/srv/notes/%2e%2e',
    '/srv/notes/%2E%2e/x',
    '/srv%2fnotes/x',
    '/srv/notes/a%5Cb',
  ];
  for (const value of refused) {
    const d = asRun.peek(write(value));
    assert.equal(d.verdict, 'deny', JSON.stringify(value));
    assert.deepEqual(rules(d), ['args.bounds']);
    assert.match(messages(d)[0]!, /^argument `value` of `staging\.writeConfig` is `.*`: it holds a dot segment \(`\.` or `\.\.`\), an encoded `\.`, `\/` or `\\`, a backslash or a control character, which the pattern `\/\(protected\|notes\)\/\[\^\/\]\+\$` cannot judge$/s, JSON.stringify(value));
    // Sessions recorded before judged the raw string: what the pattern matches, passes.
    if (/\/(protected|notes)\/[^/]+$/u.test(value)) assert.equal(recorded.peek(write(value)).verdict, 'allow', JSON.stringify(value));
  }
  // Dots that are not a whole segment, and other text, are judged by the pattern alone.
  for (const value of ['/srv/notes/..x', '/srv/notes/x..', '/srv/.hidden/notes/a.b', '/srv/notes/...', '/srv/notes/a b', '/srv/notes/é']) {
    assert.equal(asRun.peek(write(value)).verdict, 'allow', JSON.stringify(value));
  }
  assert.match(messages(asRun.peek(write('/srv/other/x')))[0]!, /does not match the pattern/);
  // Only pattern bounds: a string under `maxLength` or `enum` alone is not a path.
  const plain = bothWays({ tools: { 'staging.writeConfig': { args: { value: { maxLength: 20 }, key: { enum: ['..'] } } } } }).asRun;
  assert.equal(plain.peek(call('staging.writeConfig', { key: '..', value: 'a/../b\\c' })).verdict, 'allow');
});

test('the text rule is shared with resource URIs, which keep exactly the rule they had', () => {
  const OLD_URI = /(^|\/)\.\.?(\/|$|[?#])|%2e|%2f|%5c|%25|\\|[\s\u0000-\u001f\u007f]/i;
  const piece = fc.constantFrom('/', '\\', '.', '..', '?', '#', 'a', '%2e', '%2F', '%5c', '%25', ' ', '\u0001', '\u007f', '\u0085', 'file:', 'x');
  fc.assert(fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
    const text = parts.join('');
    assert.equal(UNSAFE_URI.test(text), OLD_URI.test(text), JSON.stringify(text));
    // Every text the pattern rule refuses for a dot segment or a backslash, a URI is refused for too.
    if (patternTextProblem(text) !== undefined && !/[\u0080-\u009f]/.test(text)) assert.equal(UNSAFE_URI.test(text), true, JSON.stringify(text));
  }), { numRuns: 3000 });
});

test('a missing bounded argument is judged at the default the tool publishes', () => {
  const { asRun, recorded } = bothWays({ tools: { 'billing.query': { args: { limit: { max: 20 } } }, 'volumes.list': { args: { limit: { max: 100 } } } } });
  const left = asRun.peek(call('billing.query', {}));
  assert.equal(left.verdict, 'deny');
  assert.deepEqual(messages(left), ['argument `limit` of `billing.query` is not given, and the tool runs it at its default, which is 50: above the maximum 20']);
  assert.equal(asRun.peek(call('billing.query', { limit: 20 })).verdict, 'allow');
  assert.equal(asRun.peek(call('volumes.list', {})).verdict, 'allow', 'a default within the bound holds');
  assert.equal(recorded.peek(call('billing.query', {})).verdict, 'allow', 'sessions recorded before: a missing argument passed');
  // A catalog that publishes no defaults (one snapshotted before they were published): missing, as before.
  const bare = TOOLS.map(({ argumentDefaults: _d, ...t }) => t);
  assert.equal(bothWays({ tools: { 'billing.query': { args: { limit: { max: 20 } } } } }, bare).asRun.peek(call('billing.query', {})).verdict, 'allow');
  // `required` still asks the agent for the value, default or not.
  const required = bothWays({ tools: { 'billing.query': { args: { limit: { max: 100, required: true } } } } }).asRun;
  assert.deepEqual(messages(required.peek(call('billing.query', {}))), ['argument `limit` of `billing.query` is required by policy']);
});

test('defaults of nested properties: under a given object, and under a defaulted one', () => {
  const tool: ToolInfo = {
    name: 'fs.edit', description: 'edit', effect: 'write', environment: 'staging', resource: 'files', estimatesBlastRadius: false,
    argumentDefaults: { dryRun: false, options: { mode: 'fast' }, 'options.depth': 3, 'nested.inner.flag': 'on' },
  };
  const d = bothWays({ tools: { 'fs.edit': { args: { dryRun: { enum: [true] }, 'options.mode': { enum: ['safe'] }, 'options.depth': { max: 2 }, 'nested.inner.flag': { enum: ['off'] } } } } }, [tool]).asRun;
  const problems = (args: Record<string, unknown>) => messages(d.peek(call('fs.edit', args)));
  assert.deepEqual(problems({}), [
    'argument `dryRun` of `fs.edit` is not given, and the tool runs it at its default, which is `false`: not one of `true`',
    // `options` left out runs as its default `{ mode: fast }`, then its own `depth` default fills in.
    'argument `options.mode` of `fs.edit` is not given, and the tool runs it at its default, which is `"fast"`: not one of `"safe"`',
    'argument `options.depth` of `fs.edit` is not given, and the tool runs it at its default, which is 3: above the maximum 2',
    // `nested` has no default of its own: left out, nothing under it runs.
  ]);
  assert.deepEqual(problems({ dryRun: true, options: { mode: 'safe' }, nested: { inner: {} } }), [
    'argument `options.depth` of `fs.edit` is not given, and the tool runs it at its default, which is 3: above the maximum 2',
    'argument `nested.inner.flag` of `fs.edit` is not given, and the tool runs it at its default, which is `"on"`: not one of `"off"`',
  ]);
  assert.deepEqual(problems({ dryRun: true, options: { mode: 'safe', depth: 1 }, nested: { inner: { flag: 'off' } } }), []);
  // An inherited key is not an argument: `constructor` names nothing the agent sent.
  const proto = bothWays({ tools: { 'billing.query': { args: { 'constructor.name': { enum: ['x'] } } } } });
  assert.equal(proto.asRun.peek(call('billing.query', {})).verdict, 'allow');
});

test('a list or other non-object value on a bound\'s path fails the bound; sessions recorded before read it as missing', () => {
  const tool: ToolInfo = { name: 'pay.batch', description: 'pay', effect: 'write', environment: 'staging', resource: 'payments', estimatesBlastRadius: false };
  for (const path of ['transfers.amount', 'transfers.*.amount', 'transfers.0.amount']) {
    const { asRun, recorded } = bothWays({ tools: { 'pay.batch': { args: { [path]: { max: 1000 } } } } }, [tool]);
    const big = call('pay.batch', { transfers: [{ amount: 1e9 }] });
    assert.deepEqual(messages(asRun.peek(big)), [`argument \`${path}\` of \`pay.batch\` cannot be checked: \`transfers\` is a list, not an object (a bound path names object keys only)`]);
    assert.equal(recorded.peek(big).verdict, 'allow', `${path}: sessions recorded before`);
    assert.equal(asRun.peek(call('pay.batch', {})).verdict, 'allow', `${path}: absent, nothing to check`);
  }
  const { asRun } = bothWays({ tools: { 'pay.batch': { args: { 'transfer.amount': { max: 1000 } } } } }, [tool]);
  assert.equal(asRun.peek(call('pay.batch', { transfer: { amount: 10 } })).verdict, 'allow');
  assert.equal(asRun.peek(call('pay.batch', { transfer: { amount: 1e9 } })).verdict, 'deny');
  for (const [transfer, kind] of [['1e9', 'a string'], [1e9, 'a number'], [true, 'a boolean'], [null, 'null']] as const) {
    assert.deepEqual(messages(asRun.peek(call('pay.batch', { transfer }))), [`argument \`transfer.amount\` of \`pay.batch\` cannot be checked: \`transfer\` is ${kind}, not an object (a bound path names object keys only)`]);
  }
});

test('`policy check` refuses a bound path with a `*` or an all-digit segment (a note); a running worker still loads the document', () => {
  const doc = { tools: { 'pay.*': { args: { 'transfers.*.amount': { max: 1 }, 'transfers.0.amount': { max: 1 }, 'a.b2.c': { max: 1 }, 'x*': { max: 1 } } } } };
  const parsed = parsePolicy(doc);
  assert.ok(parsed.success);
  assert.deepEqual(parsed.notes.map((n) => [n.code, n.path]), [
    ['arg-path', 'tools["pay.*"].args["transfers.*.amount"]'],
    ['arg-path', 'tools["pay.*"].args["transfers.0.amount"]'],
    ['arg-path', 'tools["pay.*"].args["x*"]'],
  ]);
  assert.equal(parsed.notes[0]!.message, 'argument path `transfers.*.amount` cannot enter a list (segment `*`): a bound path names object keys only, and a call meeting a list on it is refused; bound the list with `maxItems`, or the tool\'s argument as a whole');
  const clean = parsePolicy({ tools: { 'billing.query': { args: { 'filter.ids': { maxItems: 2 }, limit: { max: 20 } } } } });
  assert.ok(clean.success);
  assert.deepEqual(clean.notes, []);
});

/** The tools of `@modelcontextprotocol/server-filesystem` as the worker lists them (`ToolInfo` of an upstream). */
function filesystemTools(): ToolInfo[] {
  const names = ['read_text_file', 'write_file', 'edit_file', 'create_directory', 'list_directory', 'list_directory_with_sizes', 'directory_tree', 'move_file', 'search_files', 'get_file_info'];
  const destructive = new Set(['write_file', 'edit_file', 'move_file']);
  return names.map((tool) => ({
    name: `filesystem.${tool}`,
    description: tool,
    effect: 'destructive',
    environment: 'production',
    resource: 'filesystem',
    estimatesBlastRadius: false,
    upstream: { server: 'filesystem', tool, ...(destructive.has(tool) ? { destructiveHint: true } : { readOnlyHint: true }) },
    ...(tool === 'edit_file' ? { argumentDefaults: { dryRun: false } } : {}),
  }));
}

function filesystemExample(): CompiledPolicy {
  const file = join(ROOT, 'policies', 'examples', 'mcp-filesystem.yaml');
  const parsed = parsePolicyText(readFileSync(file, 'utf8'), file);
  if (!parsed.success) assert.fail(JSON.stringify(parsed.issues));
  assert.deepEqual(parsed.notes, []);
  return compilePolicy(parsed.data, filesystemTools());
}

test('mcp-filesystem.yaml: writes land only in `protected/` or `notes/` under an absolute path, whatever the spelling', () => {
  const policy = filesystemExample();
  assert.deepEqual(policy.warnings.filter((w) => w.code === 'unused'), []);
  const state = initialSessionState(policy, { startedAt: 0 });
  const write = (path: string) => evaluate(policy, state, call('filesystem.write_file', { path, content: 'x' }), {}, 1);
  // Destructive by the server's hint: an allowed path waits for a human.
  assert.equal(write('/srv/scratch/protected/release-notes.txt').verdict, 'approve');
  assert.equal(write('/srv/scratch/notes/todo.txt').verdict, 'approve');
  for (const path of ['/srv/scratch/config.json/notes/..', '/srv/scratch/notes/../config.json', 'notes/todo.txt', 'scratch/notes/x', '/srv/scratch/notes/', '/srv/scratch/notes/a/b', 'C:\\scratch\\notes\\x', '/srv/scratch/notes/x\n']) {
    const d = write(path);
    assert.equal(d.verdict, 'deny', path);
    assert.deepEqual(rules(d).filter((r) => r !== 'tier.destructive'), ['args.bounds'], path);
  }
});

test('mcp-filesystem.yaml: every listing tool of the server, then `move_file`, is a forbidden transition', () => {
  const policy = filesystemExample();
  for (const listing of ['list_directory', 'list_directory_with_sizes', 'directory_tree', 'search_files']) {
    const d = new Driver(policy);
    assert.equal(d.run(call(`filesystem.${listing}`, { path: '/srv/scratch' })).verdict, 'allow', listing);
    const move = d.peek(call('filesystem.move_file', { source: '/srv/scratch/inbox/a.txt', destination: '/srv/scratch/a.txt' }));
    assert.equal(move.verdict, 'deny', listing);
    assert.ok(rules(move).includes('transition.forbidden'), `${listing}: ${JSON.stringify(move.reasons)}`);
  }
  // Reading a file is not listing a folder: a move after it waits for its approver only.
  const d = new Driver(policy);
  d.run(call('filesystem.get_file_info', { path: '/srv/scratch/a.txt' }));
  assert.equal(d.peek(call('filesystem.move_file', { source: '/srv/scratch/a.txt', destination: '/srv/scratch/b.txt' })).verdict, 'approve');
});

test('an estimate call keeps the estimator\'s argument bounds as they are run too', () => {
  const policy = policyOf({ ...quiet, tools: { 'billing.query': { args: { limit: { max: 20 } } } } });
  assert.equal(estimateWithinRules(policy, { tool: 'billing.query', args: {} }), false, 'its default is above the bound');
  assert.equal(estimateWithinRules(policy, { tool: 'billing.query', args: { limit: 5 } }), true);
});
