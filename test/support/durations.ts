/**
 * Expected duration of each test file, for starting the longest first (`test/run.ts`). With three
 * files at a time, a long file started last leaves the other slots idle while it finishes; started
 * first, it runs beside the many short ones. Sources, first found wins: the last measured time in
 * the user cache (`~/.cache/gatehouse/test-durations.json`, written after every run without name
 * filters), then the committed `test/durations.json` (a fresh machine's first run). A file in
 * neither (a new one) counts as the longest: it starts first, and its time is learnt.
 *
 * `npm run test:durations` writes the cache's figures for the files that exist into the committed file.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { findTests } from './find-tests';

const ROOT = resolve(__dirname, '..', '..');

/** The committed durations, seconds per file path relative to the repository (forward slashes). */
export const COMMITTED_DURATIONS = join(ROOT, 'test', 'durations.json');

/** The last measured durations of this machine, same format (`GATEHOUSE_TEST_DURATIONS` names another file). */
export function cachedDurationsPath(): string {
  return process.env.GATEHOUSE_TEST_DURATIONS || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'gatehouse', 'test-durations.json');
}

type Durations = Record<string, number>;

/** The key of `file` (absolute) in a durations file. */
export function durationKey(file: string): string {
  return relative(ROOT, file).split(sep).join('/');
}

async function readDurations(path: string): Promise<Durations> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    if (!parsed || typeof parsed !== 'object') return {};
    return Object.fromEntries(Object.entries(parsed).filter((e): e is [string, number] => typeof e[1] === 'number' && Number.isFinite(e[1])));
  } catch {
    return {}; // missing or unreadable: the order is a speed-up, never a reason to fail
  }
}

/** `files` (absolute) longest expected first; unknown files first of all, ties in name order. */
export async function longestFirst(files: readonly string[]): Promise<string[]> {
  const [cached, committed] = await Promise.all([readDurations(cachedDurationsPath()), readDurations(COMMITTED_DURATIONS)]);
  const expected = (f: string) => cached[durationKey(f)] ?? committed[durationKey(f)] ?? Infinity;
  return [...files].sort((a, b) => expected(b) - expected(a) || (a < b ? -1 : a > b ? 1 : 0));
}

/** Records the measured wall times (ms per absolute file) in the user cache, keeping the other files' figures. */
export async function rememberDurations(measured: ReadonlyArray<{ file: string; ms: number }>): Promise<void> {
  if (measured.length === 0) return;
  const path = cachedDurationsPath();
  const durations = await readDurations(path);
  for (const { file, ms } of measured) durations[durationKey(file)] = Math.round(ms / 100) / 10;
  await writeSorted(path, durations);
}

async function writeSorted(path: string, durations: Durations): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(durations).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(sorted, null, 1)}\n`);
  await rename(tmp, path); // two runs at once: the last one wins, never a torn file
}

/** `npm run test:durations`: the cache's figures, for the test files that exist, into the committed file. */
async function writeCommitted(): Promise<void> {
  const cached = await readDurations(cachedDurationsPath());
  const files = (await findTests(join(ROOT, 'test'))).map(durationKey);
  const known = Object.fromEntries(files.filter((f) => f in cached).map((f) => [f, cached[f]!]));
  const missing = files.filter((f) => !(f in cached));
  await writeSorted(COMMITTED_DURATIONS, known);
  process.stdout.write(`wrote ${Object.keys(known).length} file(s) to ${relative(process.cwd(), COMMITTED_DURATIONS)}${missing.length ? `; not measured yet (they will start first): ${missing.join(', ')}` : ''}\n`);
}

if (require.main === module) {
  writeCommitted().catch((err: unknown) => {
    process.stderr.write(`test:durations: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
