/**
 * The count of notes a call relayed (what lets the MCP gateway answer without a NOTIFY barrier):
 * the worker's connection to the real `server-everything` (stdio) tells the call of every progress
 * notification the gateways were sent, and not of one whose relay failed, nor of another call's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UpstreamConnection } from '../../activities/upstreams/connection';
import type { UpstreamNote } from '../../audit/upstream-listing';
import { npmServer } from './stack';

const LONG = 'trigger-long-running-operation';

describe('notes relayed for an upstream call', () => {
  const relayed: UpstreamNote[] = [];
  /** Progress values whose relay fails (the database refused the NOTIFY). */
  const refuse = new Set<number>();
  let connection: UpstreamConnection;

  before(async () => {
    connection = new UpstreamConnection({
      server: npmServer('everything', '@modelcontextprotocol/server-everything', ['stdio']),
      onTools: () => undefined,
      onNote: async (note) => {
        if (refuse.has(note.params.progress as number)) throw new Error('NOTIFY refused');
        relayed.push(note);
      },
    });
    await connection.start();
    assert.equal(connection.state, 'up');
  });
  after(() => connection.close());

  const call = async (tool: string, args: Record<string, unknown>, key?: string): Promise<number> => {
    let counted = 0;
    await connection.callTool(tool, args, { signal: AbortSignal.timeout(20_000), timeoutMs: 20_000, ...(key ? { key, onRelayed: () => void (counted += 1) } : {}) });
    return counted;
  };

  it('counts every progress note relayed before the result, and none for a call that sent none', async () => {
    relayed.length = 0;
    assert.equal(await call(LONG, { duration: 0.3, steps: 3 }, 's:p1'), 3);
    assert.deepEqual(relayed.map((n) => [n.key, n.params.progress]), [['s:p1', 1], ['s:p1', 2], ['s:p1', 3]]);
    assert.equal(await call('echo', { message: 'hi' }, 's:p2'), 0);
  });

  it('does not count a note whose relay failed: the gateway would wait for one that never comes', async () => {
    relayed.length = 0;
    refuse.add(2);
    try {
      assert.equal(await call(LONG, { duration: 0.3, steps: 3 }, 's:p3'), 2);
      assert.deepEqual(relayed.map((n) => n.params.progress), [1, 3]);
    } finally {
      refuse.clear();
    }
  });

  it('counts each call its own notes when two run at once', async () => {
    const [a, b] = await Promise.all([call(LONG, { duration: 0.3, steps: 2 }, 's:p4'), call(LONG, { duration: 0.2, steps: 4 }, 's:p5')]);
    assert.deepEqual([a, b], [2, 4]);
  });
});
