/**
 * As root, PostgreSQL runs as the `postgres` user: a data folder that user cannot reach (inside a
 * private home, like a clone under /root) gets a folder of its own instead of a failed start. Not
 * as root, the folder is kept as given. Each run checks its own branch and names the one it skips.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { reachableDataDir } from '../../worker/devstack/postgres';

const root = userInfo().uid === 0;

// Each environment runs the tests of its own branch; the other branch's are skipped saying why.
describe('reachableDataDir, not as root', { skip: root ? 'as root: the tests below' : false }, () => {
  it('keeps even a private folder: postgres runs as this user, who can reach it', async () => {
    const home = await mkdtemp(join(tmpdir(), 'gatehouse-private-'));
    try {
      await chmod(home, 0o700);
      const preferred = join(home, 'clone', '.data', 'postgres');
      assert.equal(await reachableDataDir(preferred), preferred);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('reachableDataDir, as root', { skip: root ? false : `not root (uid ${userInfo().uid}): only root runs postgres as another user` }, () => {
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
