/** The Markdown pages a reader meets, for the docs tests: the README, BENCHMARKS.md and everything under docs/. */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../e2e/processes';

/** A fenced block's opening or closing line (a line of its own: "``` `x` ```" inline code is not one). */
export const FENCE = /^\s*```[A-Za-z0-9_-]*\s*$/;

export function pages(): string[] {
  const found = [join(ROOT, 'README.md'), join(ROOT, 'BENCHMARKS.md')];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name.endsWith('.md')) found.push(full);
    }
  };
  walk(join(ROOT, 'docs'));
  return found;
}
