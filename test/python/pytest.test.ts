/**
 * The Python client's pytest suite (`clients/python/tests`) against the real stack: a worker on
 * the real Temporal server and PostgreSQL, and the gateway in this process on 127.0.0.1. Agent
 * credentials are issued with the test operator key and handed to pytest in the environment
 * (`clients/python/tests/conftest.py` lists them). The Python side needs `.venv` from
 * `npm run setup:python`.
 *
 * This file also plays the person in a second terminal: once the example's agent is waiting on a
 * held call (it reads `GET .../proposals/{id}`, which it does only after the gateway answered
 * "pending"), the person denies it as `alice`, so `examples/ten_line_agent.py` runs as is, prints
 * its delete held, then denied.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RevocationStore } from '../../audit/credentials';
import { createGateway } from '../../gateway/server';
import { testTrust } from '../support/trust';
import { venvPython } from '../../worker/devstack/python-venv';
import { createHarness, type Harness } from '../workflows/harness';

const ROOT = resolve(__dirname, '../..');
const PYTHON = venvPython(ROOT);
const AGENT = { agentId: 'py-bot', owner: 'eng-007' };
const OTHER = { agentId: 'py-other-bot', owner: 'eng-012' };
const EXAMPLE = { agentId: 'py-example-bot', owner: 'eng-007' };
const REVOKED = { agentId: 'py-revoked-bot', owner: 'eng-007' };
/** Longest the whole pytest run may take before it is killed and the test fails. */
const PYTEST_TIMEOUT_MS = 8 * 60_000;

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
}

/** Runs a command without blocking this process's event loop (the worker and the gateway live in it). */
function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const timer = setTimeout(() => {
      output += `\n[killed after ${timeoutMs} ms]\n`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      done({ code, signal, output });
    });
  });
}

/** Sessions whose agent is waiting on a held call: it asked for the outcome of a pending proposal. */
function watchWaitingSessions(app: FastifyInstance): Set<string> {
  const waiting = new Set<string>();
  app.addHook('onRequest', async (request) => {
    const held = /^\/v1\/sessions\/([^/?]+)\/proposals\/[^/?]+/.exec(request.url);
    if (request.method === 'GET' && held) waiting.add(decodeURIComponent(held[1]!));
  });
  return waiting;
}

/** Denies, as `approver`, each pending approval of `agentId` whose agent is waiting on it; polls until stopped. */
function denyHeldCalls(h: Harness, agentId: string, approver: string, waiting: ReadonlySet<string>): { stop(): Promise<void>; denied: string[] } {
  const denied: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const pending = await h.audit.pool.query<{ approval_id: string; session_id: string }>(
        "SELECT approval_id, session_id FROM approvals WHERE status = 'pending' AND agent_id = $1",
        [agentId],
      );
      for (const row of pending.rows) {
        if (denied.includes(row.approval_id) || !waiting.has(row.session_id)) continue;
        await h.vote(row.session_id, row.approval_id, approver, false, { reason: 'no backup' });
        denied.push(row.approval_id);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  // A failed vote stops the loop; `stop` reports it (it must not surface as an unhandled rejection first).
  let failure: unknown;
  const settled = loop.catch((err: unknown) => {
    failure = err;
  });
  return {
    denied,
    async stop() {
      stopped = true;
      await settled;
      if (failure !== undefined) throw failure;
    },
  };
}

let h: Harness;
let gateway: FastifyInstance;
let url: string;
let waiting: Set<string>;

before(async () => {
  h = await createHarness('python');
  gateway = createGateway({ client: h.gh, keyset: testTrust().keyset, revocations: new RevocationStore(h.audit.pool) });
  waiting = watchWaitingSessions(gateway);
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
});

after(async () => {
  await gateway?.close();
  await h?.close();
});

describe('the Python client (clients/python)', () => {
  it('its pytest suite passes against the real gateway, the example included', async (t) => {
    assert.ok(existsSync(PYTHON), `no Python environment at ${PYTHON}: \`npm test\` makes it when it runs this file; by hand: \`npm run setup:python\``);
    const trust = testTrust();
    const revocations = new RevocationStore(h.audit.pool);
    const revokedToken = await trust.credential(REVOKED.agentId, REVOKED.owner);
    await revocations.revoke(REVOKED.agentId, 'test-operator', 'the Python client test');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // The working tree's client, not a stale copy installed in .venv.
      PYTHONPATH: [join(ROOT, 'clients', 'python', 'src'), process.env.PYTHONPATH].filter(Boolean).join(delimiter),
      PYTHONDONTWRITEBYTECODE: '1',
      GATEHOUSE_TEST_REQUIRE_GATEWAY: '1',
      GATEHOUSE_URL: url,
      GATEHOUSE_AGENT_ID: AGENT.agentId,
      GATEHOUSE_AGENT_OWNER: AGENT.owner,
      GATEHOUSE_AGENT_TOKEN: await trust.credential(AGENT.agentId, AGENT.owner),
      GATEHOUSE_OTHER_AGENT_TOKEN: await trust.credential(OTHER.agentId, OTHER.owner),
      GATEHOUSE_EXPIRED_AGENT_TOKEN: await trust.credential(AGENT.agentId, AGENT.owner, { now: Date.now() - 2 * 3600_000, expiresInSeconds: 60 }),
      GATEHOUSE_REVOKED_AGENT_TOKEN: revokedToken,
      GATEHOUSE_EXAMPLE_AGENT_TOKEN: await trust.credential(EXAMPLE.agentId, EXAMPLE.owner),
    };
    const worker = await h.worker();
    const pytest = await worker.runUntil(async () => {
      const person = denyHeldCalls(h, EXAMPLE.agentId, 'alice', waiting);
      try {
        return await run(PYTHON, ['-m', 'pytest', 'clients/python/tests', '-q', '-rs', '-p', 'no:cacheprovider'], env, PYTEST_TIMEOUT_MS);
      } finally {
        await person.stop();
      }
    });
    // Exit 5 is pytest's "no tests collected": it must not pass, nor may anything be skipped.
    assert.equal(pytest.code, 0, `pytest exited ${pytest.code ?? pytest.signal}${pytest.code === 5 ? ' (no tests collected)' : ''}:\n${pytest.output}`);
    const summary = /^(\d+) passed(?:, \d+ warnings?)? in [\d.]+s/m.exec(pytest.output);
    assert.ok(summary, `pytest's summary should be "N passed" alone (nothing skipped or failed):\n${pytest.output}`);
    assert.ok(Number(summary[1]) >= 50, `expected the whole suite to run, got ${summary[1]} tests:\n${pytest.output}`);
    t.diagnostic(summary[0]);
    const example = await h.audit.pool.query<{ status: string }>("SELECT status FROM approvals WHERE agent_id = $1", [EXAMPLE.agentId]);
    assert.deepEqual(example.rows.map((r) => r.status), ['denied'], 'the example\'s delete was held for a person, who denied it');
    const executed = await h.audit.pool.query("SELECT 1 FROM events WHERE kind = 'executed' AND tool = 'billing.deleteRecords'");
    assert.equal(executed.rowCount, 0, 'no delete ever ran');
  });
});
