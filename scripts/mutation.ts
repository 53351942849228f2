/**
 * `npm run mutation`: Stryker over the pure decisions and the gateway's edges, one run per group
 * (each with its unit tests only and an incremental file of its own, so a run re-tests only the
 * mutants whose code or tests changed), then per group the score and the surviving mutants, and
 * on the last line one JSON object `{"policies", "trust", "gateway", "caller", "survivors"}`.
 *
 *   npm run mutation                 every group
 *   npm run mutation -- trust gateway   only these groups (the others' last reports are still read)
 *   npm run mutation -- --report     no run: print the last reports
 *   npm run mutation -- policies --files policies/admissions.ts,policies/agent-id.ts
 *                                    one group, only these of its files mutated (the recorded
 *                                    results of its other files are kept: Stryker's incremental
 *                                    mode carries mutants outside `mutate` over unchanged)
 *   npm run mutation -- policies --files policies/intent.ts --tests test/policies/intent.test.ts
 *                                    and only these of its unit tests run: a lower bound for those
 *                                    files, much faster when they have many static mutants (each
 *                                    runs every test given); a later run with more tests re-tests
 *                                    the survivors they cover and every static mutant
 *
 * The incremental files are committed (test/mutation/*.incremental.json): a fresh clone and CI
 * start from the last recorded results instead of a full run (about an hour on 2 cores).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(__dirname, '..');
const OUT = join(ROOT, 'reports', 'mutation');

interface Group {
  readonly mutate: readonly string[];
  readonly tests: readonly string[];
}

/** What each group mutates and the unit tests that may kill its mutants (nothing here starts a server). */
export const GROUPS: Readonly<Record<string, Group>> = {
  policies: {
    mutate: ['policies/*.ts'],
    tests: [
      'test/policies/admissions.test.ts',
      'test/policies/analyze.test.ts',
      'test/policies/compile.test.ts',
      'test/policies/document.test.ts',
      'test/policies/evaluate.test.ts',
      'test/policies/evaluate-checks.test.ts',
      'test/policies/gate-checks.test.ts',
      'test/policies/gate.test.ts',
      'test/policies/hash.test.ts',
      'test/policies/intent.test.ts',
      'test/policies/intent-clauses.test.ts',
      'test/policies/intent-identifiers.test.ts',
      'test/policies/intent-lookalike.test.ts',
      'test/policies/intent-negation.test.ts',
      'test/policies/intent-reversible.test.ts',
      'test/policies/intent-scope.test.ts',
      'test/policies/intent-scope-edges.test.ts',
      'test/policies/intent-signal-messages.test.ts',
      'test/policies/intent-versions.test.ts',
      'test/policies/json-edges.test.ts',
      'test/policies/ledger-checks.test.ts',
      'test/policies/ledger-leases.test.ts',
      'test/policies/ledger.test.ts',
      'test/policies/parse.test.ts',
      'test/policies/properties.test.ts',
      'test/policies/replay-paths.test.ts',
      'test/policies/session.test.ts',
      'test/policies/state-fold.test.ts',
      'test/policies/sub-agents.test.ts',
      'test/policies/suggest.test.ts',
      'test/policies/upstream-subjects.test.ts',
      'test/policies/upstream.test.ts',
      'test/upstreams/classify.test.ts',
      'test/workflows/units.test.ts',
    ],
  },
  trust: {
    mutate: ['policies/trust/*.ts'],
    tests: ['test/policies/trust.test.ts', 'test/policies/votes.test.ts', 'test/policies/webauthn.test.ts'],
  },
  gateway: {
    mutate: ['gateway/auth.ts', 'gateway/limits.ts'],
    tests: ['test/gateway/auth.unit.test.ts', 'test/gateway/limits.unit.test.ts'],
  },
  caller: {
    mutate: ['activities/caller.ts', 'activities/caller-claims.ts'],
    tests: ['test/tools/caller.unit.test.ts'],
  },
};

interface MutantResult {
  readonly mutatorName: string;
  readonly replacement?: string;
  readonly status: string;
  readonly location: { start: { line: number; column: number } };
}
interface Report {
  readonly files: Record<string, { mutants: MutantResult[] }>;
}

const DETECTED = new Set(['Killed', 'Timeout']);
const VALID = new Set(['Killed', 'Timeout', 'Survived', 'NoCoverage']);

/** Whether `file` is one of `patterns` (a path, or `dir/*.ts`: that folder's .ts files, not its subfolders'). */
export function inGroup(file: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('/*.ts') ? file.startsWith(p.slice(0, -4)) && file.endsWith('.ts') && !file.slice(p.length - 4).includes('/') : file === p));
}

function run(name: string, group: Group, files?: readonly string[], tests?: readonly string[]): number {
  mkdirSync(OUT, { recursive: true });
  const base = JSON.parse(readFileSync(join(ROOT, 'stryker.config.json'), 'utf8')) as Record<string, unknown>;
  // The TypeScript checker compiles one program per batch of mutants: only this group's files and
  // their imports (≈ 190 files for trust instead of ≈ 1,050 for every group), five times faster.
  // Inside the project, since Stryker checks in its sandbox copy; ignored by git.
  const tsconfig = `test/mutation/.tsconfig.${name}.json`;
  // With --files/--tests, only those (and their imports): a far smaller program per mutant; a mutant
  // that breaks only a file outside them then counts as compiling (tested, not a compile error).
  const include = [...(files ?? group.mutate), ...(tests ?? group.tests)].map((p) => `../../${p}`);
  writeFileSync(join(ROOT, tsconfig), `${JSON.stringify({ extends: '../../tsconfig.json', include }, null, 2)}\n`);
  const config = {
    ...base,
    mutate: files ?? group.mutate,
    tsconfigFile: tsconfig,
    // a sandbox folder per group, so two groups can run at once
    tempDirName: `.stryker-tmp/${name}`,
    incrementalFile: `test/mutation/${name}.incremental.json`,
    jsonReporter: { fileName: `reports/mutation/${name}.json` },
  };
  const file = join(OUT, `${name}.config.json`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', '@stryker-mutator', 'core', 'bin', 'stryker.js'), 'run', file], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, GATEHOUSE_MUTATION_TESTS: (tests ?? group.tests).join(',') },
  });
  console.log(`mutation: ${name} took ${Math.round((Date.now() - t0) / 1000)} s`);
  return r.status ?? 1;
}

/**
 * Score as Stryker counts it: detected over valid (compile errors and ignored mutants do not
 * count). Read from the group's incremental file, the kept record: it holds every mutant of a
 * finished run, and of an interrupted one the mutants tested so far (a later run goes on from there).
 */
function summarise(name: string, files?: readonly string[]): { score: number | null; survivors: number } {
  const path = join(ROOT, 'test', 'mutation', `${name}.incremental.json`);
  if (!existsSync(path)) {
    console.log(`\n${name}: no results yet (run \`npm run mutation -- ${name}\`)`);
    return { score: null, survivors: 0 };
  }
  const report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  const finished = existsSync(join(OUT, `${name}.json`)) && statSync(join(OUT, `${name}.json`)).mtimeMs >= statSync(path).mtimeMs - 5000;
  let detected = 0;
  let valid = 0;
  const survivors: string[] = [];
  for (const [file, { mutants }] of Object.entries(report.files)) {
    for (const m of mutants) {
      if (!VALID.has(m.status)) continue;
      valid += 1;
      if (DETECTED.has(m.status)) detected += 1;
      else survivors.push(`  ${file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} ${m.status === 'NoCoverage' ? '(no coverage) ' : ''}→ ${(m.replacement ?? '').replace(/\s+/g, ' ').slice(0, 100)}`);
    }
  }
  const score = valid === 0 ? null : Math.round((detected / valid) * 10000) / 100;
  const total = Object.values(report.files).reduce((n, f) => n + f.mutants.length, 0);
  console.log(`\n${name}: ${score ?? '-'} % (${detected} of ${valid} mutants detected, ${survivors.length} survived; ${total} recorded${finished ? '' : ', possibly an interrupted run: see its log'})`);
  for (const s of survivors) console.log(s);
  // with --files: each file's own line (its mutants, compile errors, detected over valid)
  for (const f of files ?? []) {
    const mutants = report.files[f]?.mutants ?? [];
    const v = mutants.filter((m) => VALID.has(m.status));
    const d = v.filter((m) => DETECTED.has(m.status)).length;
    console.log(`  ${f}: ${v.length === 0 ? '-' : Math.round((d / v.length) * 10000) / 100} % (${mutants.length} mutants, ${mutants.filter((m) => m.status === 'CompileError').length} do not compile, ${d} of ${v.length} detected)`);
  }
  return { score, survivors: survivors.length };
}

function main(): void {
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) throw new Error(`stryker 10 needs node 22 or later, this is node ${process.versions.node}`);
  // Not strict: another `--flag` is ignored, as before `--files`/`--tests` existed.
  const { values, positionals: names } = parseArgs({
    options: { report: { type: 'boolean' }, files: { type: 'string' }, tests: { type: 'string' } },
    allowPositionals: true,
    strict: false,
  });
  const reportOnly = values.report === true;
  const listed = (flag: 'files' | 'tests'): string[] | undefined => {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    const value = (typeof raw === 'string' ? raw : '').split(',').filter((f) => f.length > 0);
    if (value.length === 0) throw new Error(`expected \`--${flag}\` to name files, comma-separated`);
    return value;
  };
  for (const n of names) if (!(n in GROUPS)) throw new Error(`unknown group \`${n}\` (one of ${Object.keys(GROUPS).join(', ')})`);
  const files = listed('files');
  const tests = listed('tests');
  if ((files ?? tests) !== undefined && names.length !== 1) throw new Error('`--files` and `--tests` need exactly one group');
  const group = GROUPS[names[0]!];
  for (const f of files ?? []) {
    if (!inGroup(f, group!.mutate) || !existsSync(join(ROOT, f))) throw new Error(`\`${f}\` is not a file of the \`${names[0]}\` group (${group!.mutate.join(', ')})`);
  }
  for (const t of tests ?? []) if (!group!.tests.includes(t)) throw new Error(`\`${t}\` is not a unit test of the \`${names[0]}\` group`);
  let status = 0;
  if (!reportOnly) {
    for (const name of names.length > 0 ? names : Object.keys(GROUPS)) status ||= run(name, GROUPS[name]!, files, tests);
  }
  const result: Record<string, number | null> = {};
  let survivors = 0;
  for (const name of Object.keys(GROUPS)) {
    const s = summarise(name, name === names[0] ? files : undefined);
    result[name] = s.score;
    survivors += s.survivors;
  }
  console.log(JSON.stringify({ ...result, survivors }));
  process.exitCode = status;
}

main();
