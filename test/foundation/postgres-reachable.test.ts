/**
 * As root, PostgreSQL runs as the `postgres` user: a data folder that user cannot reach (inside a
 * private home, like a clone under /root) gets a folder of its own instead of a failed start.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { reachableDataDir } from '../../worker/devstack/postgres';

describe('reachableDataDir', { skip: userInfo().uid !== 0 ? 'only root runs postgres as another user' : false }, () => {
  const made: string[] = [];
  after(async () => {
    for (const dir of made) await rm(dir, { recursive: true, force: true });
  });

  it('keeps a folder the postgres user can reach', async () => {
    const open = await mkdtemp(join(tmpdir(), 'gatehouse-open-'));
    made.push(open);
    await chmod(open, 0o755);
    assert.equal(await reachableDataDir(join(open, 'postgres')), join(open, 'postgres'));
  });

  it('moves a folder inside a private home to one of its own, the same on every start', async () => {
    const home = await mkdtemp(join(tmpdir(), 'gatehouse-private-'));
    made.push(home);
    await chmod(home, 0o700);
    const preferred = join(home, 'clone', '.data', 'postgres');
    const dir = await reachableDataDir(preferred);
    assert.notEqual(dir, preferred);
    assert.match(dir, /^\/var\/lib\/gatehouse\/postgres-[0-9a-f]{12}$/);
    assert.equal(await reachableDataDir(preferred), dir);
  });
});
