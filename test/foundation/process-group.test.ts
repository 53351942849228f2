/**
 * worker/devstack/process-group.ts: `stop()` resolves only once no process of the group is left,
 * also when a grandchild ignores the stop signal and outlives its leader (what a server's helper
 * process does); a caller that checks for leftovers right after `stop()` finds none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { spawnGroup } from '../../worker/devstack/process-group';

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

test('stop() resolves after the whole group is gone, a grandchild that ignores SIGTERM included', async () => {
  // The leader exits on SIGTERM; its child ignores SIGTERM and is only ended by the group SIGKILL.
  const proc = spawnGroup('/bin/sh', ['-c', '(trap "" TERM; echo ready; while :; do sleep 1; done) & wait']);
  await new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      if (proc.outputTail().includes('ready')) {
        clearInterval(poll);
        resolve();
      }
    }, 10);
  });
  assert.equal(groupAlive(proc.pid), true);
  await proc.stop({ graceMs: 200 });
  assert.equal(groupAlive(proc.pid), false, 'a process of the group outlived stop()');
});
