/**
 * The MCP gateway's wait for a call's relayed notes, against a real PostgreSQL LISTEN: the answer
 * waits for as many notes as the worker counted only while the gateway's LISTEN connection has
 * been up since the call began. A note relayed while it was down went nowhere, so waiting for it
 * would hold the answer the whole cap (2 s) for nothing: the answer goes at once instead.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { relayUpstreamNote } from '../../audit/upstream-listing';
import type { AgentSession } from '../../gateway/mcp/agent-session';
import { registerSubjectHandlers, type SubjectHandlers } from '../../gateway/mcp/subject-handlers';
import { publishedUpstreamSubjects, type UpstreamSubjects } from '../../gateway/mcp/upstream-subjects';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/servers';

/** True when `p` settles before the event loop's next turn (it waits for nothing), false when it is still waiting. */
function answersAtOnce(p: Promise<void>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((resolve) => setImmediate(() => resolve(false)))]);
}

describe("a call's relayed notes, as the gateway's LISTEN comes and goes", () => {
  let db: TestDatabase;
  let subjects: UpstreamSubjects;
  let handlers: SubjectHandlers;
  const sent: string[] = [];
  const extra = { sendNotification: async (n: never) => void sent.push(String((n as { params: { data?: unknown } }).params.data)) };

  before(async () => {
    db = await createTestDatabase('notes_listener');
    subjects = publishedUpstreamSubjects(db.pool, async () => undefined);
    const server = new Server({ name: 'notes-test', version: '1.0.0' }, { capabilities: { resources: { subscribe: true }, prompts: {}, completions: {}, logging: {} } });
    handlers = registerSubjectHandlers(server, {} as AgentSession, subjects);
  });
  after(async () => {
    await subjects?.close();
    await db?.drop();
  });

  /** Resolves once a note relayed now reaches a listener: the LISTEN is in place. */
  const listening = async (tag: string) => {
    let heard = false;
    const probe = subjects.listenNotes(tag, () => void (heard = true));
    try {
      await eventually(async () => {
        await relayUpstreamNote(db.pool, { key: tag, method: 'notifications/message', params: {} });
        return heard;
      }, { what: `the NOTIFY \`${tag}\`` });
    } finally {
      probe.stop();
    }
  };

  /** A call whose worker counted one note: its answer waits until that note has arrived, and it is sent on. */
  const waitsForTheCountedNote = async (key: string, text: string) => {
    const call = handlers.notes(extra, undefined);
    const stop = call.listen(key, call.deliver);
    try {
      const flushed = call.flush(1);
      assert.equal(await answersAtOnce(flushed), false, `${key}: the answer waits for the one note the worker counted`);
      await relayUpstreamNote(db.pool, { key, method: 'notifications/message', params: { level: 'info', data: text } });
      await flushed;
      assert.equal(sent.at(-1), text);
    } finally {
      stop();
    }
  };

  it('answers at once for a call that began before the LISTEN was up, and waits for the counted notes once it is', async () => {
    const early = handlers.notes(extra, undefined);
    const stopEarly = early.listen('s:early', early.deliver);
    assert.equal(await answersAtOnce(early.flush(3)), true, 'notes relayed before the LISTEN went nowhere: none is waited for');
    assert.equal(await answersAtOnce(early.flush(undefined)), true, 'nor a barrier NOTIFY of its own');
    stopEarly();

    await listening('s:probe-up');
    await waitsForTheCountedNote('s:call', 'the counted note');
  });

  it('answers at once for a call whose LISTEN connection was lost while it ran, and waits again after the reconnect', async () => {
    await listening('s:probe-before');
    const call = handlers.notes(extra, undefined);
    const stop = call.listen('s:cut', call.deliver);
    const watch = subjects.listenNotes('s:watch', () => undefined);
    try {
      const killed = await db.pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND pid <> pg_backend_pid()");
      assert.equal(killed.rowCount, 1, 'the gateway holds one LISTEN connection');
      await eventually(() => !watch.unbroken(), { what: 'the gateway to see its LISTEN connection lost' });
      assert.equal(await answersAtOnce(call.flush(2)), true, 'notes relayed meanwhile went nowhere: none is waited for');
    } finally {
      watch.stop();
      stop();
    }

    await listening('s:probe-after');
    await waitsForTheCountedNote('s:next', 'after the reconnect');
  });
});
