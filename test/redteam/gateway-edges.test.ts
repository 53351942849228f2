/**
 * Red team: the gateway's edges (issue 23, attacks 6–9). The attacker holds one agent credential
 * and the gateway's address. It spells authenticated paths so the raw URL looks public, races the
 * open-session cap from two gateway replicas, floods MCP `initialize`, sends arguments nested
 * thousands deep and a value the audit store refuses, and bursts requests across replicas.
 *
 * Each case: the edge holds (401 before Temporal, 429 at the cap, 422 at the path, a session that
 * ends with an alert), production rows are unchanged, nothing executed, `audit verify` holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { RunningGateway } from '../../gateway/start';
import type { GatewayLimits } from '../../gateway/limits';
import { SESSION_WORKFLOW_TYPE } from '../../workflows/contract';
import { admissionsQuery, admissionsWorkflowId } from '../../workflows/admissions-contract';
import { eventually } from '../support/eventually';
import { alertRow, assertAuditVerifies, assertNotExecuted, productionSnapshot, redTeam, redTeamGateway, sessionWorkflowId, type RedTeam } from './attacker';

let rt: RedTeam;
let baseline: Record<string, unknown>;
const gateways: RunningGateway[] = [];

before(async () => {
  rt = await redTeam('gateway_edges');
  baseline = await productionSnapshot(rt.h);
});
after(async () => {
  for (const g of gateways) await g.close();
  await rt?.close();
});

async function gateway(limits: Partial<GatewayLimits>): Promise<RunningGateway> {
  const g = await redTeamGateway(rt, limits);
  gateways.push(g);
  return g;
}

interface Answer {
  readonly status: number;
  readonly body: { type?: string; detail?: string; [k: string]: unknown } | undefined;
  readonly headers: http.IncomingHttpHeaders;
}

/** One request with the path sent byte for byte (fetch would normalise dot segments and case). */
function raw(base: string, method: string, path: string, options: { token?: string; body?: unknown; text?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const url = new URL(base);
  const body = options.text ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Answer['body'];
          try {
            parsed = text ? (JSON.parse(text) as Answer['body']) : undefined;
          } catch {
            parsed = { detail: text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function initializeBody(id: number): unknown {
  return { jsonrpc: '2.0', id, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'flood', version: '1' } } };
}
const MCP_HEADERS = { accept: 'application/json, text/event-stream' };

function nested(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < depth; i++) v = { a: v };
  return v;
}

/** A proposal body whose `args` nest `depth` deep, as text (JSON.stringify itself overflows at 8,000). */
function deepProposal(tool: string, depth: number): string {
  return `{"tool":${JSON.stringify(tool)},"args":${'{"a":'.repeat(depth - 1)}{}${'}'.repeat(depth - 1)}}`;
}

async function slots(agentId: string): Promise<readonly string[]> {
  return (await rt.raw.workflow.getHandle(admissionsWorkflowId(rt.h.taskQueue, agentId)).query(admissionsQuery)).map((s) => s.sessionId);
}

async function defended(): Promise<void> {
  assert.deepEqual(await productionSnapshot(rt.h), baseline);
  await assertAuditVerifies(rt.h);
}

describe('attack 9: authentication decided on the routed path', () => {
  it('answers 401 to every spelling of every authenticated route, existing session or not', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000 });
    const victim = await rt.agent('victim-bot', 'eng-001');
    const token = victim.token;
    const created = await raw(g.url, 'POST', '/v1/sessions', { token, body: { intent: 'list volumes' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const real = created.body!.sessionId as string;
    const spellings = (rest: string): string[] => [
      `/%76%31/${rest}`,
      `/v1%2F${rest}`,
      `//v1/${rest}`,
      `/v1//${rest}`,
      `/v1/../v1/${rest}`,
      `/./v1/${rest}`,
      `/V1/${rest}`,
      `/v1/${rest}/`,
      `/v1/${rest}`,
    ];
    const groups: { method: string; rest: (id: string) => string; body?: unknown }[] = [
      { method: 'POST', rest: () => 'sessions', body: { intent: 'sneak in' } },
      { method: 'GET', rest: (id) => `sessions/${id}` },
      { method: 'POST', rest: (id) => `sessions/${id}/proposals`, body: { tool: 'volumes.list', args: {} } },
      { method: 'GET', rest: (id) => `sessions/${id}/proposals/p1` },
      { method: 'POST', rest: (id) => `sessions/${id}/children`, body: { agentId: 'x', intent: 'y' } },
      { method: 'POST', rest: (id) => `sessions/${id}/end`, body: {} },
      { method: 'POST', rest: (id) => `sessions/${id}/halt`, body: { reason: 'stop' } },
    ];
    const unknown = `missing-${randomUUID()}`;
    const answers: string[] = [];
    for (const group of groups) {
      for (const id of [real, unknown]) {
        for (const path of spellings(group.rest(id))) {
          const r = await raw(g.url, group.method, path, { ...(group.body !== undefined ? { body: group.body } : {}) });
          // The same 401 whether the session exists or not: nothing reached Temporal.
          answers.push(`${group.method} ${path.replace(id, '<id>')} ${r.status} ${r.body?.type ?? ''}`);
        }
      }
    }
    for (const path of ['/mcp', '/MCP', '/%6dcp', '//mcp', '/./mcp', '/mcp/']) {
      const r = await raw(g.url, 'POST', path, { body: initializeBody(1), headers: MCP_HEADERS });
      answers.push(`POST ${path} ${r.status} ${r.body?.type ?? ''}`);
    }
    assert.deepEqual(answers.filter((a) => !a.endsWith(' 401 urn:gatehouse:problem:unauthorized')), []);

    // The public list is explicit and still public; the encoded spelling of a route works with a credential.
    assert.equal((await raw(g.url, 'GET', '/healthz')).status, 200);
    assert.equal((await raw(g.url, 'GET', '/v1/openapi.json')).status, 200);
    const encoded = await raw(g.url, 'GET', `/%76%31/sessions/${real}`, { token });
    assert.equal(encoded.status, 200, JSON.stringify(encoded.body));
    assert.equal(encoded.body!.sessionId, real);
    // Nothing was proposed, halted or ended by the unauthenticated requests.
    const view = await victim.gh.session(real).state();
    assert.equal(view.mode, 'normal');
    assert.equal(view.counters.proposals, 0);
    assert.deepEqual((await rt.h.events(real)).map((e) => e.kind), ['session-started']);
    await defended();
  });
});

describe('attack 6: the open-session cap is a reservation', () => {
  it('admits exactly 20 of 60 concurrent starts through two gateways, and frees the slots of ended and halted sessions', async () => {
    const a = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 20 });
    const b = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 20 });
    const racer = await rt.agent('racer-bot', 'eng-002');
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => raw(i % 2 === 0 ? a.url : b.url, 'POST', '/v1/sessions', { token: racer.token, body: { intent: `race ${i}` } })),
    );
    const started = replies.filter((r) => r.status === 201).map((r) => r.body!.sessionId as string);
    const refused = replies.filter((r) => r.status === 429);
    assert.equal(started.length, 20, replies.map((r) => r.status).join(','));
    assert.equal(refused.length, 40);
    for (const r of refused) {
      assert.equal(r.body?.type, 'urn:gatehouse:problem:too-many-sessions');
      assert.match(String(r.headers['retry-after']), /^[1-9]\d*$/);
    }
    assert.deepEqual([...(await slots('racer-bot'))].sort(), [...started].sort());
    const running = `WorkflowType = '${SESSION_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND GatehouseAgent = 'racer-bot'`;
    await eventually(async () => ((await rt.raw.workflow.count(running)).count === 20 ? true : undefined), { what: '20 running sessions in visibility' });

    // Ended through a gateway: the slot is free at once there (another replica that just found the cap
    // reached refuses for up to a second more without asking Temporal).
    const ended = await raw(a.url, 'POST', `/v1/sessions/${started[0]}/end`, { token: racer.token, body: {} });
    assert.equal(ended.status, 200);
    const next = await raw(a.url, 'POST', '/v1/sessions', { token: racer.token, body: { intent: 'after an end' } });
    assert.equal(next.status, 201, JSON.stringify(next.body));
    assert.equal((await raw(a.url, 'POST', '/v1/sessions', { token: racer.token, body: { intent: 'over' } })).status, 429);

    // Halted (closed without the gateway freeing it): found over at the cap, and freed.
    const halted = await raw(a.url, 'POST', `/v1/sessions/${started[1]}/halt`, { token: racer.token, body: { reason: 'done' } });
    assert.equal(halted.status, 202);
    await rt.raw.workflow.getHandle(sessionWorkflowId(started[1]!)).result();
    const after = await eventually(async () => {
      const r = await raw(b.url, 'POST', '/v1/sessions', { token: racer.token, body: { intent: 'after a halt' } });
      return r.status === 201 ? r : undefined;
    }, { what: 'a start after the halted session freed its slot' });
    assert.equal((await slots('racer-bot')).includes(started[1]!), false);
    assert.equal((await slots('racer-bot')).includes(after.body!.sessionId as string), true);
    assert.equal((await slots('racer-bot')).length, 20);
    await defended();
  });
});

describe('attack 6b: sub-agents count under the cap', () => {
  it('a spawn takes a slot and its child keeps it: top-level starts and spawns racing each other cannot pass the cap; an ended child frees its slot', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 4 });
    const spawner = await rt.agent('spawner-bot', 'eng-004');
    const intent = 'tidy the staging config';
    const root = await raw(g.url, 'POST', '/v1/sessions', { token: spawner.token, body: { intent } });
    assert.equal(root.status, 201);
    const id = root.body!.sessionId as string;
    const spawn = (i: number) => raw(g.url, 'POST', `/v1/sessions/${id}/children`, { token: spawner.token, body: { agentId: `helper-${i}`, intent } });
    const start = () => raw(g.url, 'POST', '/v1/sessions', { token: spawner.token, body: { intent } });
    const children: string[] = [];
    for (const i of [1, 2]) {
      const r = await spawn(i);
      assert.deepEqual([r.status, r.body?.status], [200, 'started'], JSON.stringify(r.body));
      children.push(r.body!.sessionId as string);
    }
    // Each child holds its own id's slot (the spawn's slot was taken over): with the root, three of four.
    const held = await slots('spawner-bot');
    assert.deepEqual([...held].sort(), [id, ...children].sort());
    // Three spawns and two starts at once: one more session fits, whoever asks.
    const asks = await Promise.all([spawn(3), spawn(4), spawn(5), start(), start()]);
    const admitted = asks.filter((r) => (r.status === 200 && r.body?.status === 'started') || r.status === 201);
    assert.equal(admitted.length, 1, asks.map((r) => `${r.status} ${String(r.body?.status ?? r.body?.type)}`).join(', '));
    assert.deepEqual(asks.filter((r) => r !== admitted[0]).map((r) => [r.status, r.body?.type]), Array.from({ length: 4 }, () => [429, 'urn:gatehouse:problem:too-many-sessions']));
    assert.equal((await slots('spawner-bot')).length, 4);
    assert.deepEqual((await slots('spawner-bot')).filter((s) => s.startsWith('spawn:')), []);
    // A child ended through the gateway frees its slot at once.
    assert.equal((await raw(g.url, 'POST', `/v1/sessions/${children[0]}/end`, { token: spawner.token, body: {} })).status, 200);
    assert.equal((await start()).status, 201);
    assert.equal((await start()).status, 429);
    await defended();
  });

  it('a spawn answered before its child started keeps its slot, tied to its parent, until its outcome is read; then its child holds it, and a retry at the cap gets its answer', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 3 });
    const spawner = await rt.agent('late-spawner-bot', 'eng-004');
    const intent = 'tidy the staging config';
    const root = await raw(g.url, 'POST', '/v1/sessions', { token: spawner.token, body: { intent } });
    const id = root.body!.sessionId as string;
    // `wait=0`: answered pending at once (the spawn's round trip is never shorter than no wait).
    const asked = await raw(g.url, 'POST', `/v1/sessions/${id}/children?wait=0`, { token: spawner.token, body: { agentId: 'helper-1', intent }, headers: { 'idempotency-key': 'spawn-one' } });
    assert.equal(asked.status, 202, JSON.stringify(asked.body));
    const slot = (await slots('late-spawner-bot')).find((s) => s.startsWith(`spawn:${id}:`));
    assert.ok(slot, 'the spawn holds a slot named by its parent');
    // Never read, it still counts: at the cap (root, spawn, one more) a start is refused; at the cap it is over only with its parent.
    assert.equal((await raw(g.url, 'POST', '/v1/sessions', { token: spawner.token, body: { intent } })).status, 201);
    assert.equal((await raw(g.url, 'POST', '/v1/sessions', { token: spawner.token, body: { intent } })).status, 429);
    const read = await raw(g.url, 'GET', `/v1/sessions/${id}/proposals/spawn-one?wait=30`, { token: spawner.token });
    assert.deepEqual([read.status, read.body?.status], [200, 'started']);
    const held = await slots('late-spawner-bot');
    assert.ok(held.includes(read.body!.sessionId as string), held.join(', '));
    assert.equal(held.some((s) => s.startsWith('spawn:')), false);
    // At the cap, a retry of the spawn (same key) gets its stored answer, and takes no slot.
    const retried = await raw(g.url, 'POST', `/v1/sessions/${id}/children`, { token: spawner.token, body: { agentId: 'helper-1', intent }, headers: { 'idempotency-key': 'spawn-one' } });
    assert.deepEqual([retried.status, retried.body?.status, retried.body?.sessionId], [200, 'started', read.body!.sessionId]);
    assert.deepEqual([...(await slots('late-spawner-bot'))].sort(), [...held].sort());
    // Another key is a new spawn: refused at the cap.
    const another = await raw(g.url, 'POST', `/v1/sessions/${id}/children`, { token: spawner.token, body: { agentId: 'helper-2', intent }, headers: { 'idempotency-key': 'spawn-two' } });
    assert.equal(another.status, 429);
    await defended();
  });
});

describe('attack 6c: squatting the ids another agent will start', () => {
  it('a start refused because another agent runs a session under its id keeps no slot: the victim still starts up to its cap', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 2 });
    const squatter = await rt.agent('squatter-bot', 'eng-005');
    const victim = await rt.agent('squat-victim-bot', 'eng-006');
    const start = (token: string, sessionId?: string) => raw(g.url, 'POST', '/v1/sessions', { token, body: { intent: 'run the nightly billing report', ...(sessionId ? { sessionId } : {}) } });
    const squatted = ['nightly-2025-06-01', 'nightly-2025-06-02'];
    for (const id of squatted) assert.equal((await start(squatter.token, id)).status, 201);
    for (const id of squatted) {
      const refused = await start(victim.token, id);
      assert.deepEqual([refused.status, refused.body?.type], [409, 'urn:gatehouse:problem:session-exists']);
    }
    assert.deepEqual(await slots('squat-victim-bot'), []);
    const own = [await start(victim.token), await start(victim.token)];
    assert.deepEqual(own.map((r) => r.status), [201, 201], JSON.stringify(own.map((r) => r.body)));
    assert.equal((await start(victim.token)).status, 429);
    // The same look-up keeps the slot of the agent's own running session: a start refused because a
    // concurrent start of the same id won does not free the winner's slot.
    const mine = own[0]!.body!.sessionId as string;
    await g.app.gateway.admissions.releaseFailedStart({ rootAgentId: 'squat-victim-bot', sessionId: mine, fresh: true });
    assert.ok((await slots('squat-victim-bot')).includes(mine));
    await defended();
  });
});

describe('attack 8: MCP sessions count under the cap', () => {
  it('admits 20 of 1,500 initialize requests from one agent; the rest are 429 and hold nothing', async () => {
    const g = await gateway({ requestsPerSecond: 10_000, burst: 10_000, openSessions: 20 });
    const flooder = await rt.agent('flood-bot', 'eng-003');
    const statuses = new Map<string, number>();
    for (let batch = 0; batch < 15; batch++) {
      const replies = await Promise.all(
        Array.from({ length: 100 }, (_, i) => raw(g.url, 'POST', '/mcp', { token: flooder.token, body: initializeBody(batch * 100 + i), headers: MCP_HEADERS })),
      );
      for (const r of replies) {
        const key = `${r.status} ${r.status === 429 ? r.body?.type : ''}`;
        statuses.set(key, (statuses.get(key) ?? 0) + 1);
      }
    }
    assert.deepEqual(Object.fromEntries(statuses), { '200 ': 20, '429 urn:gatehouse:problem:too-many-sessions': 1480 });
    assert.equal((await slots('flood-bot')).length, 20);
    // The cap is one cap: with 20 MCP sessions open, an HTTP start is refused too.
    assert.equal((await raw(g.url, 'POST', '/v1/sessions', { token: flooder.token, body: { intent: 'one more' } })).status, 429);
    await defended();
  });

  it('closes an idle MCP session, ends its Gatehouse session and frees its slot', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 1, mcpIdleSeconds: 1 });
    const idler = await rt.agent('idle-bot', 'eng-004');
    const init = await raw(g.url, 'POST', '/mcp', { token: idler.token, body: initializeBody(1), headers: { ...MCP_HEADERS, 'x-gatehouse-intent': 'list volumes, then go quiet' } });
    assert.equal(init.status, 200);
    const mcpSession = String(init.headers['mcp-session-id']);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': mcpSession };
    await raw(g.url, 'POST', '/mcp', { token: idler.token, body: { jsonrpc: '2.0', method: 'notifications/initialized' }, headers });
    const listed = await raw(g.url, 'POST', '/mcp', { token: idler.token, body: { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'volumes.list', arguments: {} } }, headers });
    assert.equal(listed.status, 200);
    const [sessionId] = await slots('idle-bot');
    assert.ok(sessionId);
    // Idle for over a second: the sweep closes it and ends the Gatehouse session.
    const summary = await rt.raw.workflow.getHandle(sessionWorkflowId(sessionId)).result();
    assert.equal((summary as { finalState: string }).finalState, 'completed');
    await eventually(async () => ((await slots('idle-bot')).length === 0 ? true : undefined), { what: 'the idle session\'s slot freed' });
    const gone = await raw(g.url, 'POST', '/mcp', { token: idler.token, body: { jsonrpc: '2.0', id: 3, method: 'tools/list' }, headers });
    assert.equal(gone.status, 404);
    assert.equal((await raw(g.url, 'POST', '/mcp', { token: idler.token, body: initializeBody(4), headers: MCP_HEADERS })).status, 200);
    await defended();
  });
});

describe('attack 7: deep and large arguments', () => {
  it('refuses arguments nested 3,000 and 8,000 deep at their path (422), and the session goes on', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000 });
    const deep = await rt.agent('deep-bot', 'eng-005');
    const created = await raw(g.url, 'POST', '/v1/sessions', { token: deep.token, body: { intent: 'list volumes' } });
    const id = created.body!.sessionId as string;
    for (const depth of [65, 3_000, 8_000]) {
      const r = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: deep.token, text: deepProposal('volumes.list', depth) });
      assert.equal(r.status, 422, `depth ${depth}: ${JSON.stringify(r.body).slice(0, 300)}`);
      assert.equal(r.body?.type, 'urn:gatehouse:problem:invalid-request');
      assert.match(String(r.body?.detail), /^`body\.args\.a\.a\.a.*` nests deeper than 64 levels$/);
    }
    // Straight to the workflow (the attacker's own Temporal client): the update validator refuses the same.
    await assert.rejects(deep.gh.session(id).propose({ tool: 'volumes.list', args: nested(3_000), reasoning: '' }), (err: unknown) => {
      assert.match(String((err as Error).message), /`args\.a\.a.*` nests deeper than 64 levels/);
      return true;
    });
    // At the limit: accepted, decided and audited (the store keeps 64 levels), and the session is alive.
    const at = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: deep.token, body: { tool: 'test.flakyWrite', args: nested(64) } });
    assert.equal(at.status, 200, JSON.stringify(at.body).slice(0, 300));
    assert.equal(at.body!.status, 'denied');
    const ok = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: deep.token, body: { tool: 'volumes.list', args: {} } });
    assert.equal(ok.body!.status, 'executed');
    const kinds = (await rt.h.events(id)).map((e) => e.kind);
    assert.equal(kinds.filter((k) => k === 'proposed').length, 2);
    await defended();
  });

  it('takes 5,000 keys and a 60 KB string within the size limit, and refuses more (413)', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000 });
    const wide = await rt.agent('wide-bot', 'eng-005');
    const id = (await raw(g.url, 'POST', '/v1/sessions', { token: wide.token, body: { intent: 'list volumes' } })).body!.sessionId as string;
    const keys = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, i]));
    const many = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: wide.token, body: { tool: 'test.flakyWrite', args: keys } });
    assert.equal(many.status, 200, JSON.stringify(many.body).slice(0, 300));
    assert.equal(many.body!.status, 'denied');
    const long = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: wide.token, body: { tool: 'test.flakyWrite', args: { n: 'x'.repeat(60_000) } } });
    assert.equal(long.body!.status, 'denied');
    const over = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: wide.token, body: { tool: 'test.flakyWrite', args: { n: 'x'.repeat(70_000) } } });
    assert.equal(over.status, 413);
    assert.equal(over.body?.type, 'urn:gatehouse:problem:body-too-large');
    await assertNotExecuted(rt.h, id);
    await defended();
  });

  it('ends a session whose audit write fails for good, with an audit.unwritable alert, instead of retrying forever', async () => {
    const g = await gateway({ requestsPerSecond: 1000, burst: 1000, openSessions: 1 });
    const poison = await rt.agent('poison-bot', 'eng-006');
    const id = (await raw(g.url, 'POST', '/v1/sessions', { token: poison.token, body: { intent: 'list volumes' } })).body!.sessionId as string;
    // A value the store refuses (a data exception, as jsonb nesting past PostgreSQL's limits is): never storable.
    await rt.h.audit.pool.query(`
      CREATE OR REPLACE FUNCTION redteam_refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.reasoning = 'poison' THEN RAISE EXCEPTION 'value cannot be stored' USING ERRCODE = '22023'; END IF;
        RETURN NEW;
      END $$;
      DROP TRIGGER IF EXISTS redteam_refuse_poison ON events;
      CREATE TRIGGER redteam_refuse_poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION redteam_refuse_poison();
    `);
    try {
      const r = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals?wait=30`, { token: poison.token, body: { tool: 'no.such.tool', args: {}, reasoning: 'poison' } });
      assert.notEqual(r.status, 200);
      const summary = (await rt.raw.workflow.getHandle(sessionWorkflowId(id)).result()) as { finalState: string; reason: string };
      assert.equal(summary.finalState, 'error');
      assert.match(summary.reason, /^the audit trail could not be written \(.*value cannot be stored.*\): the session ended$/);
      const alert = await alertRow(rt.h, id, 'audit.unwritable');
      assert.match(alert.message, /value cannot be stored/);
      // Nothing more is accepted, and the slot is free again for the agent's next session.
      const late = await raw(g.url, 'POST', `/v1/sessions/${id}/proposals`, { token: poison.token, body: { tool: 'volumes.list', args: {} } });
      assert.equal(late.status, 409);
      const next = await eventually(async () => {
        const s = await raw(g.url, 'POST', '/v1/sessions', { token: poison.token, body: { intent: 'again' } });
        return s.status === 201 ? s : undefined;
      }, { what: 'a new session once the failed one freed its slot' });
      assert.equal(next.status, 201);
    } finally {
      await rt.h.audit.pool.query('DROP TRIGGER IF EXISTS redteam_refuse_poison ON events');
    }
    assert.deepEqual((await rt.h.events(id)).map((e) => e.kind), ['session-started']);
    await assertNotExecuted(rt.h, id);
    await defended();
  });
});

describe('the request rate per replica', () => {
  it('admits at most N × burst of a burst spread over N replicas', async () => {
    const replicas = [await gateway({ requestsPerSecond: 0.01, burst: 10 }), await gateway({ requestsPerSecond: 0.01, burst: 10 })];
    const burster = await rt.agent('rate-bot', 'eng-007');
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => raw(replicas[i % 2]!.url, 'GET', '/v1/sessions/none', { token: burster.token })));
    const limited = replies.filter((r) => r.status === 429);
    // Each replica's bucket: 10 through (404: no such session), the rest 429.
    assert.equal(replies.length - limited.length, 20);
    for (const r of limited) assert.equal(r.body?.type, 'urn:gatehouse:problem:rate-limited');
    await defended();
  });
});
