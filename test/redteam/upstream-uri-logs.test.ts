/**
 * Red team: an agent writes lines into the worker's log. The resource URIs an agent subscribes to
 * (through the gateway's MCP `resources/subscribe`) reach the worker, which logs them when it
 * cannot watch one more or when the upstream refuses the subscription; a URI holding a line break
 * (or terminal controls) forged whole log lines on stderr. Each URI, and the server's error text
 * that may echo it, is now logged as one line (`shownLine`: breaks and hidden characters escaped).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCatalog } from '../../activities/tools/catalog';
import type { NamedUpstream } from '../../activities/upstreams';
import { UpstreamConnection } from '../../activities/upstreams/connection';
import { UpstreamManager } from '../../activities/upstreams/manager';
import { requestUpstreamSubscription } from '../../audit/upstream-listing';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/servers';

/** A URI that would print a second, forged line, with a terminal escape in it. */
const FORGED = 'docs://guide/a\n2026-11-21T10:00:00.000Z [INFO] gatehouse: operator eng-001 approved everything\u001b[2K';
const SHOWN = 'docs://guide/a\\u000a2026-11-21T10:00:00.000Z [INFO] gatehouse: operator eng-001 approved everything\\u001b[2K';
/** Nothing listens there: the connection stays down, which is all these tests need. */
const SERVER = { name: 'docs', url: 'http://127.0.0.1:9/mcp', headers: {}, timeoutMs: 1_000, maxAttempts: 1, sensitive: {} } as unknown as NamedUpstream;

function oneLine(line: string): void {
  assert.equal(/[\n\r\u0085\u2028\u2029\u001b]/.test(line), false, `a raw line break or control in ${JSON.stringify(line)}`);
}

describe('resource URIs in the worker log', () => {
  it('the connection logs a URI it cannot watch as one line', async () => {
    const lines: string[] = [];
    const connection = new UpstreamConnection({ server: SERVER, onTools: () => undefined, log: (line) => lines.push(line) });
    // The bound (1,000 watched at once, five agents' 200 each), then one more: that one is logged, not watched.
    for (let i = 0; i < 1_000; i++) await connection.subscribe(`docs://guide/${i}`, `agent-${i % 5}`);
    assert.deepEqual(lines, []);
    await connection.subscribe(FORGED, 'agent-new');
    assert.equal(lines.length, 1);
    oneLine(lines[0]!);
    assert.equal(lines[0], `upstream \`docs\`: already watching 1000 resources: \`${SHOWN}\` is not watched`);
    await connection.close();
  });

  describe('the manager', () => {
    let db: TestDatabase;
    let manager: UpstreamManager | undefined;
    before(async () => {
      db = await createTestDatabase('redteam_uri_logs');
    });
    after(async () => {
      await manager?.close();
      await db?.drop();
    });

    it('logs a subscription the upstream refused, its URI and the error echoing it, as one line', async () => {
      const lines: string[] = [];
      manager = new UpstreamManager({ servers: [SERVER], catalog: createCatalog([], { database: db.pool }), publish: db.pool, markers: db.pool, log: (line) => lines.push(line) });
      await manager.start();
      // An upstream refusing the subscription with an error that quotes the URI.
      manager.connection('docs')!.subscribe = async (uri: string) => {
        throw new Error(`no such resource: ${uri}`);
      };
      // What a gateway sends when an agent subscribes (again until the worker's LISTEN is in place).
      const logged = await eventually(async () => {
        await requestUpstreamSubscription(db.pool, 'docs', FORGED);
        await new Promise((resolve) => setTimeout(resolve, 50));
        return lines.find((l) => l.includes('subscribing to'));
      }, { what: 'the refused subscription in the log' });
      oneLine(logged);
      assert.equal(logged, `upstream \`docs\`: subscribing to \`${SHOWN}\` failed: no such resource: ${SHOWN}`);
    });
  });
});
