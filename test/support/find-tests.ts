/** Every `*.test.ts` under a folder: the files `npm test` runs without paths (`test/run.ts`). */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Every `*.test.ts` under `dir`, sorted, skipping node_modules and dot folders. */
export async function findTests(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await findTests(full)));
    else if (entry.name.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}
