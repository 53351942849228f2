/**
 * The gateway against a real Temporal server, worker and PostgreSQL: the routes, the credential
 * checks, the errors as problems, held proposals answered later by update id, the limits.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startGateway } from '../../gateway/start';
import { eventually } from '../support/eventually';
import { testTrust } from '../support/trust';
import { startFixture, type GatewayFixture, type Reply } from './client';
import { LEDGER_WORKFLOW_TYPE, ledgerQuery, ledgerWorkflowId } from '../../workflows/ledger-contract';

const trust = testTrust();
let f: GatewayFixture;

before(async () => {
  f = await startFixture('gateway', { requestsPerSecond: 10, burst: 40, openSessions: 20 });
});
after(async () => {
  await f?.close();
});

function problem(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, JSON.stringify(r.body));
  assert.equal(r.headers.get('content-type')?.split(';')[0], 'application/problem+json');
  assert.equal(r.body.type, `urn:gatehouse:problem:${code}`);
  assert.equal(r.body.status, status);
  assert.equal(typeof r.body.title, 'string');
  assert.equal(typeof r.body.detail, 'string');
}

async function startSession(token: string, intent = 'list volumes and look up billing records'): Promise<string> {
  const r = await f.call('POST', '/v1/sessions', { token, body: { intent } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.sessionId as string;
}

describe('sessions through the gateway', () => {
  it('starts a session, runs billing and volumes reads, shows state, ends', async () => {
    const token = await trust.credential('happy-bot', 'eng-007');
    const start = await f.call('POST', '/v1/sessions', { token, body: { intent: 'list volumes and look up billing records', budget: { actions: 100 } } });
    assert.equal(start.status, 201);
    assert.equal(start.body.agentId, 'happy-bot');
    assert.equal(start.body.owner, 'eng-007');
    assert.equal(start.body.workflowId, `session-${start.body.sessionId}`);
    assert.match(start.body.policyHash, /^[0-9a-f]{64}$/);
    assert.equal(start.body.mode, 'normal');
    const id = start.body.sessionId as string;

    const volumes = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'volumes.list', args: {}, reasoning: 'see the volumes' } });
    assert.equal(volumes.status, 200);
    assert.equal(volumes.body.status, 'executed');
    assert.equal(volumes.body.sequence, 1);
    const billing = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'billing.query', args: { limit: 5 } } });
    assert.equal(billing.status, 200);
    assert.equal(billing.body.status, 'executed');
    assert.equal(billing.body.decision.verdict, 'allow');

    const state = await f.call('GET', `/v1/sessions/${id}`, { token });
    assert.equal(state.status, 200);
    assert.equal(state.body.principal, 'happy-bot');
    assert.equal(state.body.counters.executed, 2);
    assert.deepEqual(state.body.lastActions.map((a: { tool: string }) => a.tool), ['volumes.list', 'billing.query']);

    const end = await f.call('POST', `/v1/sessions/${id}/end`, { token, body: { reason: 'done' } });
    assert.equal(end.status, 200);
    assert.equal(end.body.finalState, 'completed');
    assert.equal(end.body.counters.executed, 2);
    problem(await f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'volumes.list', args: {} } }), 409, 'session-closed');
    const events = await f.h.events(id);
    assert.deepEqual(events.filter((e) => e.kind === 'executed').map((e) => e.tool), ['volumes.list', 'billing.query']);
  });

  it('answers a held call 202 pending, then the final outcome by proposal id once approved', async () => {
    const token = await trust.credential('held-bot', 'eng-007');
    const id = await startSession(token, 'unmount an unused volume');
    const held = await f.call('POST', `/v1/sessions/${id}/proposals?wait=1`, { token, body: { tool: 'volumes.unmount', args: { volumeId: 'vol-scratch01' }, reasoning: 'unused' } });
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body.status, 'pending');
    assert.equal(held.body.approvalId, `${id}:1`);
    assert.equal(held.body.proposalSeq, 1);
    assert.equal(typeof held.body.proposalId, 'string');
    const still = await f.call('GET', `/v1/sessions/${id}/proposals/${held.body.proposalId}?wait=0`, { token });
    assert.equal(still.status, 202);
    assert.equal(still.body.proposalId, held.body.proposalId);

    // A second call of the same tool queues behind the held one: it names no approval until it has its own.
    const queued = await f.call('POST', `/v1/sessions/${id}/proposals?wait=1`, { token, body: { tool: 'volumes.unmount', args: { volumeId: 'vol-backup-2024' }, reasoning: 'unused too' } });
    assert.equal(queued.status, 202, JSON.stringify(queued.body));
    assert.deepEqual(queued.body, { status: 'pending', proposalId: queued.body.proposalId });

    await f.h.gh.approve(held.body.approvalId, { key: trust.approver('alice') });
    const done = await f.call('GET', `/v1/sessions/${id}/proposals/${held.body.proposalId}?wait=30`, { token });
    assert.equal(done.status, 200, JSON.stringify(done.body));
    assert.equal(done.body.status, 'executed');
    assert.equal(done.body.approvalId, held.body.approvalId);

    const second = await eventually(async () => {
      const r = await f.call('GET', `/v1/sessions/${id}/proposals/${queued.body.proposalId}?wait=0`, { token });
      return r.body.approvalId === undefined ? undefined : r;
    }, { what: 'the queued call to wait for its own approval' });
    assert.equal(second.status, 202);
    assert.equal(second.body.approvalId, `${id}:2`);
    assert.equal(second.body.proposalSeq, 2);
    await f.h.gh.deny(second.body.approvalId, { key: trust.approver('alice'), reason: 'keep the backups' });
    const refused = await f.call('GET', `/v1/sessions/${id}/proposals/${queued.body.proposalId}?wait=30`, { token });
    assert.equal(refused.status, 200);
    assert.equal(refused.body.status, 'denied');
  });

  it('sends the same update for a repeated Idempotency-Key', async () => {
    const token = await trust.credential('retry-bot', 'eng-007');
    const id = await startSession(token);
    const headers = { 'idempotency-key': 'retry-1' };
    const first = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, headers, body: { tool: 'volumes.list', args: {} } });
    const again = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, headers, body: { tool: 'volumes.list', args: {} } });
    assert.equal(first.status, 200);
    assert.deepEqual(again.body, first.body);
    assert.equal((await f.h.events(id)).filter((e) => e.kind === 'proposed').length, 1);
  });

  it('spawns a sub-agent the caller may act on, and halts it on the agent\'s word', async () => {
    const token = await trust.credential('parent-bot', 'eng-007');
    const id = await startSession(token);
    const child = await f.call('POST', `/v1/sessions/${id}/children`, { token, body: { agentId: 'parent-bot.reader', intent: 'list volumes and look up billing records' } });
    assert.equal(child.status, 200, JSON.stringify(child.body));
    assert.equal(child.body.status, 'started');
    const childId = child.body.sessionId as string;
    const view = await f.call('GET', `/v1/sessions/${childId}`, { token });
    assert.equal(view.status, 200);
    assert.equal(view.body.principal, 'parent-bot');
    assert.equal(view.body.parentSessionId, id);
    const halt = await f.call('POST', `/v1/sessions/${childId}/halt`, { token, body: { reason: 'done with it' } });
    assert.equal(halt.status, 202);
    problem(await f.call('POST', `/v1/sessions/${childId}/halt`, { token, body: {} }), 422, 'invalid-request');
  });
});

describe('credentials', () => {
  it('refuses a request without a credential, with garbage, expired or revoked ones (401)', async () => {
    const token = await trust.credential('auth-bot', 'eng-007');
    const id = await startSession(token);
    const none = await f.call('GET', `/v1/sessions/${id}`);
    problem(none, 401, 'unauthorized');
    assert.equal(none.body.rule, 'credential.missing');
    const garbage = await f.call('GET', `/v1/sessions/${id}`, { token: 'not-a-jwt' });
    problem(garbage, 401, 'unauthorized');
    assert.equal(garbage.body.rule, 'credential.malformed');
    problem(await f.call('GET', `/v1/sessions/${id}`, { headers: { authorization: 'Basic abc' } }), 401, 'unauthorized');
    const expired = await trust.credential('auth-bot', 'eng-007', { now: Date.now() - 3_600_000, expiresInSeconds: 60 });
    const old = await f.call('GET', `/v1/sessions/${id}`, { token: expired });
    problem(old, 401, 'unauthorized');
    assert.equal(old.body.rule, 'credential.expired');

    const doomed = await trust.credential('revoked-bot', 'eng-007');
    const doomedSession = await startSession(doomed);
    await f.revocations.revoke('revoked-bot', 'test', 'leaked');
    // The gateway hears of it through PostgreSQL's notification (milliseconds), not a read per request.
    const revoked = await eventually(async () => {
      const r = await f.call('GET', `/v1/sessions/${doomedSession}`, { token: doomed });
      return r.status === 200 ? undefined : r;
    }, { what: 'the gateway to refuse the revoked credential' });
    problem(revoked, 401, 'unauthorized');
    assert.equal(revoked.body.rule, 'credential.revoked');
    problem(await f.call('POST', '/v1/sessions', { token: doomed, body: { intent: 'try again' } }), 401, 'unauthorized');
  });

  it('refuses another agent\'s token on a session (403) and answers 404 for an unknown one', async () => {
    const mine = await trust.credential('owner-bot', 'eng-007');
    const theirs = await trust.credential('other-bot', 'eng-012');
    const id = await startSession(mine);
    problem(await f.call('GET', `/v1/sessions/${id}`, { token: theirs }), 403, 'forbidden');
    problem(await f.call('POST', `/v1/sessions/${id}/proposals`, { token: theirs, body: { tool: 'volumes.list', args: {} } }), 403, 'forbidden');
    problem(await f.call('POST', `/v1/sessions/${id}/end`, { token: theirs, body: {} }), 403, 'forbidden');
    problem(await f.call('POST', `/v1/sessions/${id}/halt`, { token: theirs, body: { reason: 'sabotage' } }), 403, 'forbidden');
    assert.equal((await f.h.events(id)).filter((e) => e.kind === 'proposed').length, 0);
    problem(await f.call('GET', '/v1/sessions/no-such-session', { token: mine }), 404, 'not-found');
    problem(await f.call('POST', '/v1/sessions', { token: mine, body: { intent: 'again', sessionId: id } }), 409, 'session-exists');
  });

  it('never reaches a cross-session ledger: every route addresses `session-<id>` workflows (404), and the ledger is untouched', async () => {
    const agent = `ledger-probe-${Date.now()}`;
    const token = await trust.credential(agent, 'eng-007');
    const ledgerId = ledgerWorkflowId('agent', agent);
    const ledger = await f.h.gh.client.workflow.start(LEDGER_WORKFLOW_TYPE, { workflowId: ledgerId, taskQueue: f.h.taskQueue, args: [{}] });
    try {
      for (const id of [ledgerId, encodeURIComponent(`../${ledgerId}`), encodeURIComponent(` ${ledgerId}`)]) {
        problem(await f.call('GET', `/v1/sessions/${id}`, { token }), 404, 'not-found');
        problem(await f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'volumes.list', args: {} } }), 404, 'not-found');
        problem(await f.call('POST', `/v1/sessions/${id}/halt`, { token, body: { reason: 'reach the ledger' } }), 404, 'not-found');
        problem(await f.call('POST', `/v1/sessions/${id}/end`, { token, body: {} }), 404, 'not-found');
      }
      const view = await ledger.query(ledgerQuery);
      assert.deepEqual([view.reservations, (await ledger.describe()).status.name], [0, 'RUNNING']);
    } finally {
      await ledger.terminate('test over');
    }
  });

  it('refuses a start naming a policy the credential does not list (403 with the rule)', async () => {
    const token = await trust.credential('policy-bot', 'eng-007');
    const r = await f.call('POST', '/v1/sessions', { token, body: { intent: 'read things', policyRef: 'lenient' } });
    problem(r, 403, 'start-refused');
    assert.equal(r.body.rule, 'start.policy-ref');
  });
});

describe('bodies', () => {
  it('refuses a body over 64 KiB (413)', async () => {
    const token = await trust.credential('big-bot', 'eng-007');
    const id = await startSession(token);
    const r = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'volumes.list', args: { pad: 'x'.repeat(70 * 1024) } } });
    problem(r, 413, 'body-too-large');
  });

  it('answers schema errors with their paths (422), a policy document in a start included', async () => {
    const token = await trust.credential('schema-bot', 'eng-007');
    const id = await startSession(token);
    const bad = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'volumes.list', args: 'all of them' } });
    problem(bad, 422, 'invalid-request');
    assert.deepEqual(bad.body.errors.map((e: { path: string }) => e.path), ['body.args']);
    const wait = await f.call('POST', `/v1/sessions/${id}/proposals?wait=600`, { token, body: { tool: 'volumes.list', args: {} } });
    problem(wait, 422, 'invalid-request');
    assert.deepEqual(wait.body.errors.map((e: { path: string }) => e.path), ['query.wait']);
    const policy = await f.call('POST', '/v1/sessions', { token, body: { intent: 'loosen my gate', policy: { version: 1, tiers: {} } } });
    problem(policy, 422, 'invalid-request');
    assert.deepEqual(policy.body.errors.map((e: { path: string }) => e.path), ['body.policy']);
    const json = await f.call('POST', `/v1/sessions/${id}/proposals`, { token, raw: '{"tool":' });
    problem(json, 422, 'invalid-request');
    assert.equal((await f.h.events(id)).filter((e) => e.kind === 'proposed').length, 0);
  });
});

describe('media type and an unreachable temporal', () => {
  it('answers 415 to a body that is not JSON, and starts nothing', async () => {
    const token = await trust.credential('media-bot', 'eng-007');
    const r = await f.call('POST', '/v1/sessions', { token, raw: 'intent=look', headers: { 'content-type': 'text/plain' } });
    problem(r, 415, 'unsupported-media-type');
    assert.equal(r.body.detail, 'the body must be `application/json`, got `text/plain`');
    const sessions = await f.h.audit.pool.query('SELECT count(*)::int AS n FROM sessions WHERE agent_id = $1', ['media-bot']);
    assert.equal(sessions.rows[0].n, 0);
  });

  it('answers 503 with Retry-After when temporal cannot be reached, and serves again once it can', async () => {
    // A gateway whose only way to temporal is a TCP relay the test cuts.
    const sockets = new Set<Socket>();
    const [host, port] = f.h.address.split(':') as [string, string];
    let open = true;
    const relay = createServer((client) => {
      if (!open) return void client.destroy();
      const upstream = connect(Number(port), host);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const g = await startGateway({
      // Three attempts and reconnects at most 500 ms apart, not the SDK's ~20 s of retries and backoff up to 2 min:
      // the 503 and the recovery are the same, sooner.
      temporal: { address: `127.0.0.1:${(relay.address() as AddressInfo).port}`, namespace: f.h.namespace, taskQueue: f.h.taskQueue, unreachable: { attempts: 3, maxReconnectBackoffMs: 500 } },
      keyset: trust.keyset,
      revocations: f.revocations,
      host: '127.0.0.1',
      port: 0,
      env: {},
    });
    try {
      const token = await trust.credential('unreachable-bot', 'eng-007');
      const call = async (method: string, path: string, body?: unknown): Promise<Reply> => {
        const res = await fetch(`${g.url}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
        const text = await res.text();
        return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
      };
      const started = await call('POST', '/v1/sessions', { intent: 'list volumes' });
      assert.equal(started.status, 201, JSON.stringify(started.body));
      const id = started.body.sessionId as string;
      open = false;
      for (const s of sockets) s.destroy();
      const down = await call('GET', `/v1/sessions/${id}`);
      problem(down, 503, 'unavailable');
      assert.equal(down.headers.get('retry-after'), '5');
      assert.equal(down.body.detail, 'temporal is unreachable: try again shortly');
      open = true;
      const back = await eventually(async () => {
        const r = await call('GET', `/v1/sessions/${id}`);
        return r.status === 200 ? r : undefined;
      }, { what: 'the gateway serving again' });
      assert.equal(back.body.principal, 'unreachable-bot');
    } finally {
      await g.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => relay.close(() => r()));
    }
  });
});

describe('limits', () => {
  it('answers a burst of 1,000 requests with 429s and Retry-After, and loses no accepted proposal', async () => {
    const token = await trust.credential('burst-bot', 'eng-007');
    const id = await startSession(token);
    const replies = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => f.call('POST', `/v1/sessions/${id}/proposals`, { token, body: { tool: 'volumes.list', args: {}, reasoning: `call ${i}` } })),
    );
    const accepted = replies.filter((r) => r.status === 200);
    const limited = replies.filter((r) => r.status === 429);
    const other = replies.filter((r) => r.status !== 200 && r.status !== 429);
    assert.deepEqual(other.map((r) => r.body), []);
    // The bucket (burst 40) refused part of the burst; the exact bound per replica is tested in test/redteam/gateway-edges.
    assert.ok(limited.length > 0, `${accepted.length} accepted, none limited`);
    assert.equal(accepted.length + limited.length, 1000);
    for (const r of limited) {
      problem(r, 429, 'rate-limited');
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
    }
    for (const r of accepted) assert.equal(r.body.status, 'executed');
    const proposed = (await f.h.events(id)).filter((e) => e.kind === 'proposed');
    assert.equal(proposed.length, accepted.length);
    assert.deepEqual(proposed.map((e) => e.proposal_seq).sort((a, b) => a! - b!), accepted.map((r) => r.body.sequence as number).sort((a, b) => a - b));
    assert.deepEqual(new Set(proposed.map((e) => e.proposal_seq)).size, accepted.length);

    // The worker is unharmed: another agent's session proposes as before.
    const next = await trust.credential('after-burst-bot', 'eng-007');
    const nextId = await startSession(next);
    const r = await f.call('POST', `/v1/sessions/${nextId}/proposals`, { token: next, body: { tool: 'volumes.list', args: {} } });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'executed');
  });

  it('caps the open sessions of one agent (429 with Retry-After), over MCP too', async () => {
    const token = await trust.credential('many-bot', 'eng-007');
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startSession(token));
    const cap = await startFixtureCap();
    try {
      const r = await cap.call('POST', '/v1/sessions', { token, body: { intent: 'one more' } });
      problem(r, 429, 'too-many-sessions');
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);

      // An MCP session takes its slot at `initialize`: the same cap refuses it there.
      const init = await fetch(`${cap.url}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cap-test', version: '1' } } }),
      });
      assert.equal(init.status, 429);
      assert.equal(((await init.json()) as { type: string }).type, 'urn:gatehouse:problem:too-many-sessions');
    } finally {
      await cap.close();
    }
  });

  it('takes /mcp requests from the same per-agent bucket as /v1 (429 problems)', async () => {
    const token = await trust.credential('mcp-burst-bot', 'eng-007');
    const initialize = (i: number) =>
      fetch(f.gateway.mcpUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: i, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'burst', version: '1' } } }),
      });
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => initialize(i)));
    const statuses = replies.map((r) => r.status);
    const limited = replies.filter((r) => r.status === 429);
    assert.deepEqual(statuses.filter((s) => s !== 200 && s !== 429), []);
    const bodies = await Promise.all(replies.map(async (r) => ({ status: r.status, text: await r.text() })));
    const types = bodies.filter((x) => x.status === 429).map((r) => (JSON.parse(r.text) as { type: string }).type);
    // The bucket refused part of the burst; of what it let through, the open-session cap (20) admitted at most 20.
    assert.ok(types.includes('urn:gatehouse:problem:rate-limited'));
    assert.deepEqual(types.filter((t) => t !== 'urn:gatehouse:problem:rate-limited' && t !== 'urn:gatehouse:problem:too-many-sessions'), []);
    assert.ok(200 - limited.length <= 20, `${200 - limited.length} MCP sessions admitted`);
    for (const r of limited) assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  });
});

describe('documents', () => {
  it('serves an OpenAPI document listing exactly the routes, and /healthz without a credential', async () => {
    const doc = await f.call('GET', '/v1/openapi.json');
    assert.equal(doc.status, 200);
    assert.equal(doc.body.openapi, '3.1.0');
    const routes = Object.entries(doc.body.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    assert.deepEqual(routes.sort(), [
      'GET /v1/sessions/{id}',
      'GET /v1/sessions/{id}/proposals/{proposalId}',
      'POST /v1/sessions',
      'POST /v1/sessions/{id}/children',
      'POST /v1/sessions/{id}/end',
      'POST /v1/sessions/{id}/halt',
      'POST /v1/sessions/{id}/proposals',
    ]);
    const propose = doc.body.paths['/v1/sessions/{id}/proposals'].post;
    assert.deepEqual(propose.requestBody.content['application/json'].schema.required, ['tool', 'args']);
    assert.equal(propose.requestBody.content['application/json'].schema.additionalProperties, false);
    assert.deepEqual((await f.call('GET', '/healthz')).body, { ok: true });
    problem(await f.call('GET', '/v1/nothing-here', { token: await trust.credential('lost-bot', 'eng-007') }), 404, 'not-found');
  });
});

/** A second gateway on the same worker with an open-session cap of 3. */
async function startFixtureCap() {
  const { startGateway } = await import('../../gateway/start');
  const gateway = await startGateway({
    temporal: { address: f.h.address, namespace: f.h.namespace, taskQueue: f.h.taskQueue },
    keyset: trust.keyset,
    revocations: f.revocations,
    port: 0,
    limits: { openSessions: 3 },
    env: {},
  });
  return {
    url: gateway.url,
    call: async (method: string, path: string, o: { token: string; body: unknown }): Promise<Reply> => {
      const res = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${o.token}`, 'content-type': 'application/json' }, body: JSON.stringify(o.body) });
      return { status: res.status, headers: res.headers, body: await res.json() };
    },
    close: () => gateway.close(),
  };
}
