/**
 * The docs' `$ gatehouse …` examples that need no running stack are run as printed, from the
 * repository's root, and must print exactly the lines the page shows under them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, runCli } from '../e2e/processes';
import { FENCE, pages } from './pages';

/** Commands that read only files: `policy check|analyze|eval`, `intent score|calibrate`, `--version`. */
const STACKLESS = /^(policy\s|intent\s|--version$)/;

interface Example {
  readonly where: string;
  readonly command: string;
  readonly shown: string[];
}

/** Each `$ gatehouse …` line of a fenced block with the lines after it, up to the next `$` or the fence. */
function examples(page: string): Example[] {
  const out: Example[] = [];
  let fenced = false;
  let current: Example | undefined;
  readFileSync(page, 'utf8').split('\n').forEach((line, i) => {
    if (FENCE.test(line)) {
      fenced = !fenced;
      current = undefined;
      return;
    }
    if (!fenced) return;
    const m = /^\$ gatehouse (.*)$/.exec(line);
    if (m) {
      current = { where: `${relative(ROOT, page)}:${i + 1}`, command: m[1]!.trim(), shown: [] };
      if (STACKLESS.test(current.command)) out.push(current);
    } else if (line.startsWith('$ ')) current = undefined;
    else current?.shown.push(line);
  });
  return out;
}

/** Splits a command line into words the way a shell would for plain and quoted words. */
const words = (line: string): string[] => [...line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]!);

describe('the docs examples that need no stack', () => {
  const all = pages().flatMap(examples);

  it('there are some (the policy reference shows two)', () => {
    assert.ok(all.length >= 2, `found ${all.length}`);
  });

  for (const example of all) {
    it(`${example.where}: gatehouse ${example.command}`, async () => {
      const r = await runCli(words(example.command), { ...process.env }, 60_000);
      const printed = `${r.stdout}${r.stderr}`.trimEnd().split('\n');
      while (example.shown.at(-1) === '') example.shown.pop();
      assert.deepEqual(printed, example.shown);
    });
  }
});
