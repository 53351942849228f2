/**
 * `sharedBundle` (test/support/shared-bundle.ts), the one workflow bundle per `npm test` run: one
 * build per kind across processes, and every way the shared copy can fail falls back to a build of
 * one's own. The builds here are stand-ins (no webpack): what is checked is who builds and what
 * each caller gets.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { BUNDLE_DIR_ENV, sharedBundle } from '../support/shared-bundle';

const fake = (code: string): WorkflowBundleWithSourceMap => ({ code, sourceMap: { version: 3, sources: [], names: [], mappings: '' } as never });

describe('the shared workflow bundle', () => {
  let root: string;
  let dir: string;
  let saved: string | undefined;
  let n = 0;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'gatehouse-shared-bundle-'));
    saved = process.env[BUNDLE_DIR_ENV];
  });
  after(() => {
    if (saved === undefined) delete process.env[BUNDLE_DIR_ENV];
    else process.env[BUNDLE_DIR_ENV] = saved;
    rmSync(root, { recursive: true, force: true });
  });
  // A fresh folder per test, as each run of the runner has.
  const fresh = () => {
    dir = join(root, `run-${++n}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    process.env[BUNDLE_DIR_ENV] = dir;
  };

  it('without the runner every caller builds its own', async () => {
    delete process.env[BUNDLE_DIR_ENV];
    let builds = 0;
    const b = await sharedBundle('k', async () => fake(`own-${++builds}`));
    assert.equal(b.code, 'own-1');
    assert.equal((await sharedBundle('k', async () => fake(`own-${++builds}`))).code, 'own-2');
    fresh();
  });

  it('under the runner the first caller builds, the others (at the same time too) read its bundle', async () => {
    fresh();
    let builds = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = sharedBundle('session', async () => {
      builds++;
      await gate;
      return fake('built-once');
    });
    const second = sharedBundle('session', async () => fake(`second-${++builds}`));
    release();
    assert.deepEqual([(await first).code, (await second).code], ['built-once', 'built-once']);
    assert.equal((await sharedBundle('session', async () => fake(`third-${++builds}`))).code, 'built-once');
    assert.equal(builds, 1);
    assert.equal((await sharedBundle('other-kind', async () => fake('other'))).code, 'other', 'one bundle per kind');
    assert.deepEqual(readFileSync(join(dir, 'bundles.log'), 'utf8').trim().split('\n'), ['session built', 'session shared', 'session shared', 'other-kind built']);
  });

  it('a builder that died (its lock names a process that is gone) is taken over', async () => {
    fresh();
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'session.json.lock'), dead.stdout);
    assert.equal((await sharedBundle('session', async () => fake('taken-over'))).code, 'taken-over');
    assert.equal((await sharedBundle('session', async () => fake('again'))).code, 'taken-over');
  });

  it('a failed build fails its caller and leaves the next one free to build', async () => {
    fresh();
    await assert.rejects(sharedBundle('session', async () => Promise.reject(new Error('webpack broke'))), /webpack broke/);
    assert.equal(existsSync(join(dir, 'session.json.lock')), false);
    assert.equal((await sharedBundle('session', async () => fake('second-try'))).code, 'second-try');
  });

  it('an unreadable shared copy is never used: the caller builds its own', async () => {
    fresh();
    writeFileSync(join(dir, 'session.json'), '{"code": trunc');
    assert.equal((await sharedBundle('session', async () => fake('own'))).code, 'own');
  });
});
