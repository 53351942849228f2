/**
 * A new update answered "not found" by Temporal: a session that exists but has closed is 409
 * session-closed (a halt finishing as the agent proposes again), only a session that does not exist
 * (or cannot be described) is 404. Other problems pass through untouched.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionHandle } from '../../client';
import { Problem } from '../../gateway/problems';
import { closedNotMissing } from '../../gateway/sessions';

function handleWith(describeResult: () => Promise<{ status: { name: string } }>): SessionHandle {
  return { sessionId: 's-1', workflow: { describe: describeResult } } as unknown as SessionHandle;
}

describe('closedNotMissing', () => {
  it('a closed workflow is session-closed, naming how it closed', async () => {
    const p = await closedNotMissing(handleWith(async () => ({ status: { name: 'COMPLETED' } })), new Problem('not-found', 'no session `s-1`'));
    assert.deepEqual([p.code, p.message], ['session-closed', 'session `s-1` is closed (completed)']);
  });

  it('a running or missing workflow keeps the not-found answer', async () => {
    const notFound = new Problem('not-found', 'no session `s-1`');
    assert.equal(await closedNotMissing(handleWith(async () => ({ status: { name: 'RUNNING' } })), notFound), notFound);
    assert.equal(await closedNotMissing(handleWith(async () => Promise.reject(new Error('workflow not found'))), notFound), notFound);
  });

  it('any other problem is returned as it is, without asking Temporal', async () => {
    const other = new Problem('invalid-proposal', 'bad');
    let asked = false;
    assert.equal(await closedNotMissing(handleWith(async () => { asked = true; return { status: { name: 'COMPLETED' } }; }), other), other);
    assert.equal(asked, false);
  });
});
