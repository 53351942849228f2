/**
 * `gatehouse --version` (and `-V`) prints the package's version and exits 0, without loading a
 * command family or reaching a server.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli } from '../e2e/processes';

const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

for (const flag of ['--version', '-V']) {
  test(`gatehouse ${flag} prints the package version`, async () => {
    const r = await runCli([flag], { ...process.env }, 60_000);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), version);
  });
}
