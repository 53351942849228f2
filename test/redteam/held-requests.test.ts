/**
 * Red team: requests held open. The token bucket bounds how fast an agent sends, not what it keeps
 * open: a `?wait=60` poll on a call waiting for a person (or an MCP `gatehouse_await_approval` for
 * up to 15 minutes) holds a socket and a timer, so at 50 requests a second one agent held tens of
 * thousands at once, starving every other agent of the gateway. Now each agent may have a bounded
 * number of requests open per replica: past it a request is refused at once (429
 * `too-many-in-flight`), another agent is not affected, and a request that ends — answered or
 * dropped by the client — gives its place back.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { RunningGateway } from '../../gateway/start';
import { eventually } from '../support/eventually';
import { redTeam, redTeamGateway, type RedTeam } from './attacker';

let rt: RedTeam;
let g: RunningGateway;
const LIMIT = 3;

before(async () => {
  rt = await redTeam('held_requests');
  g = await redTeamGateway(rt, { requestsPerSecond: 1000, burst: 1000, requestsInFlight: LIMIT });
});
after(async () => {
  await g?.close();
  await rt?.close();
});

interface Held {
  /** Resolves with the status once answered (or 0 when dropped). */
  readonly status: Promise<number>;
  /** Drops the request as a client that goes away does. */
  drop(): void;
}

/** A request left open until answered or dropped. */
function send(method: string, path: string, token: string, body?: unknown): Held {
  const url = new URL(g.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  let req!: http.ClientRequest;
  const status = new Promise<number>((resolve) => {
    // No keep-alive agent: a socket left to a pool would outlive the test.
    req = http.request({ host: url.hostname, port: url.port, method, path, agent: false, headers: { authorization: `Bearer ${token}`, ...(text ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    if (text) req.write(text);
    req.end();
  });
  return { status, drop: () => req.destroy() };
}

async function json(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(path, g.url), { method, headers: { authorization: `Bearer ${token}`, connection: 'close', ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('requests an agent holds open', () => {
  it('are bounded per agent: past the bound a request is refused at once, another agent is served, and a dropped request gives its place back', async () => {
    const holder = await rt.agent('holder-bot', 'eng-011');
    const other = await rt.agent('other-bot', 'eng-012');
    const started = await json('POST', '/v1/sessions', holder.token, { intent: 'scale the api' });
    const id = started.body.sessionId as string;
    // A production write waits for a person: its outcome can be awaited for 60 s at a time.
    const pending = await json('POST', `/v1/sessions/${id}/proposals?wait=0`, holder.token, { tool: 'services.scale', args: { service: 'api', replicas: 4 }, reasoning: 'load' });
    assert.equal(pending.status, 202, JSON.stringify(pending.body));
    const poll = `/v1/sessions/${id}/proposals/${String(pending.body.proposalId)}?wait=60`;

    // One more than the bound, at once: whichever arrives last is refused at once, the others stay open.
    const held = Array.from({ length: LIMIT + 1 }, () => send('GET', poll, holder.token));
    const first = await Promise.race(held.map((h, i) => h.status.then((status) => ({ i, status }))));
    assert.equal(first.status, 429);
    const open = held.filter((_, i) => i !== first.i);
    // Another agent is served meanwhile, and the holder's next request is refused with the problem.
    assert.equal((await json('POST', '/v1/sessions', other.token, { intent: 'list volumes' })).status, 201);
    const refused = await json('GET', `/v1/sessions/${id}`, holder.token);
    assert.equal(refused.status, 429);
    assert.equal(refused.body.type, 'urn:gatehouse:problem:too-many-in-flight');
    assert.equal(refused.body.limit, LIMIT);

    // The client drops one held poll: its place is free again.
    open[0]!.drop();
    assert.equal(await open[0]!.status, 0);
    const served = await eventually(async () => {
      const r = await json('GET', `/v1/sessions/${id}`, holder.token);
      return r.status === 200 ? r : undefined;
    }, { what: 'a request served once a held one was dropped' });
    assert.equal(served.body.sessionId, id);
    for (const h of open.slice(1)) h.drop();
  });
});
