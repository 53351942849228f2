/**
 * `gatehouse policy check | analyze | eval`, run as a user runs them: `node bin/gatehouse.js`.
 * Few spawns (each pays the whole CLI's start-up); error paths are covered in-process by
 * `cli-commands.test.ts`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXAMPLE_POLICY, ROOT } from './fixtures';

const BIN = join(ROOT, 'bin', 'gatehouse.js');
let dir = '';

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Every invocation starts at once in `before` (each spawn pays tsx start-up); tests read results. */
const runs = new Map<string, Promise<Run>>();
function start(key: string, ...args: string[]): void {
  runs.set(
    key,
    new Promise((resolve) => {
      execFile(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      });
    }),
  );
}
async function gatehouse(key: string): Promise<Run> {
  const r = runs.get(key);
  assert.ok(r, `no run named ${key}`);
  return r;
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const HISTORY = [
  { at: '2026-11-21T10:00:00Z', proposal: { tool: 'billing.query', args: { customerId: 'c-1' }, reasoning: 'look' }, status: 'executed' },
  { at: '2026-11-21T10:01:00Z', proposal: { tool: 'volumes.list', args: {}, reasoning: 'find volumes' }, status: 'executed' },
];
const UNMOUNT = JSON.stringify({ tool: 'volumes.unmount', args: { volumeId: 'vol-1' }, reasoning: 'free it' });
const DELETE = JSON.stringify({ tool: 'billing.deleteRecords', args: { period: '2026-10' }, reasoning: 'clean up test rows' });

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-cli-'));
  const bad = file('bad.yaml', 'budget:\n  writes: five\ntiers:\n  write: { production: maybe }\ncolour: blue\n');
  const history = file('history.jsonl', HISTORY.map((l) => JSON.stringify(l)).join('\n') + '\n');

  start('check-ok', 'policy', 'check', EXAMPLE_POLICY);
  start('check-bad', 'policy', 'check', bad);
  start('check-empty', 'policy', 'check', file('truncated.yaml', '# cut off\n'));
  start('check-twice', 'policy', 'check', file('twice.json', '{"budget": {"writes": 1},\n "budget": {"writes": 100}}\n'));
  start('analyze', 'policy', 'analyze', EXAMPLE_POLICY, '--max-length', '2');
  start('eval-unmount', 'policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', history, '--proposal', UNMOUNT, '--now', '2026-11-21T10:02:00Z', '--json');
  start('eval-delete', 'policy', 'eval', '--policy', EXAMPLE_POLICY, '--history', history, '--proposal', DELETE, '--facts', '{"blastRadius":14200}', '--now', '2026-11-21T10:02:00Z');
});
after(async () => {
  await Promise.all(runs.values());
  rmSync(dir, { recursive: true, force: true });
});

test('policy check: the example is valid; a broken file exits 1 with every issue as `path: message`', async () => {
  const ok = await gatehouse('check-ok');
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /is valid: policy `production` \(enforce\), hash [0-9a-f]{64}/);

  const r = await gatehouse('check-bad');
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.ok(lines.includes('budget.writes: expected a whole number ≥ 0, got "five"'), r.stderr);
  assert.ok(lines.some((l) => l.startsWith('tiers.write.production: expected one of `autonomous`, `approval`, `blocked`')), r.stderr);
  assert.ok(lines.includes('colour: unknown field `colour`'), r.stderr);

  assert.equal(lines.length, 3, 'one line per issue');
});

test('policy check: an empty file and a JSON key written twice are not valid', async () => {
  const empty = await gatehouse('check-empty');
  assert.equal(empty.code, 1, empty.stdout);
  assert.match(empty.stderr, /the policy file is empty: write `\{\}` to mean the default policy/);
  const twice = await gatehouse('check-twice');
  assert.equal(twice.code, 1, twice.stdout);
  assert.match(twice.stderr, /invalid JSON at line 2, column 2: map keys must be unique/);
});

test('policy analyze: each path marked, then a summary line', async () => {
  const r = await gatehouse('analyze');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[lines.length - 1], '18 paths, 4 blocked, 14 need approval, 0 autonomous');
  assert.ok(lines.some((l) => /^blocked\s+volumes\.list → volumes\.unmount\s+volumes\.unmount: transition\.forbidden/.test(l)), r.stdout);
});

test('policy eval: folds the history, then prints the decision (incident 2 and incident 1)', async () => {
  const r = await gatehouse('eval-unmount');
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as { verdict: string; reasons: { rule: string }[]; policyHash: string; unlock?: unknown };
  assert.equal(d.verdict, 'deny');
  assert.equal(d.reasons[0]?.rule, 'transition.forbidden');
  assert.match(d.policyHash, /^[0-9a-f]{64}$/);
  assert.ok(d.unlock);

  const human = await gatehouse('eval-delete');
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^verdict: approve \(tier approval\)/);
  assert.match(human.stdout, /blast-radius\.limit: `billing\.deleteRecords` would affect 14,200 rows/);
  assert.match(human.stdout, /session: 2 past actions, mode normal/);
});

