/**
 * Red team: an agent stretches the per-agent request rate through `/mcp`. The gateway's token bucket
 * counts requests; the MCP SDK accepts a JSON-RPC array of up to 100 messages in one, and each
 * `tools/call` in it is a proposal. The agent sends batches under a protocol version that has none
 * (2025-06-18), under the one that has them (2025-03-26, also the SDK's default when a request names
 * no version), and counts how many plain MCP requests its burst buys.
 *
 * Each case: the bucket counts every message once — a batch is refused (400, JSON-RPC `-32600`) or
 * charged per message, all or none (429) — no refused message becomes a proposal, and `audit verify` holds.
 * A batch larger than the burst, which no wait could ever pay for, is refused (400, naming the burst)
 * before any of its messages is charged, not answered 429 with a `Retry-After` that never helps.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { GatewayLimits } from '../../gateway/limits';
import type { RunningGateway } from '../../gateway/start';
import { assertAuditVerifies, redTeam, redTeamGateway, type RedTeam } from './attacker';

let rt: RedTeam;
const gateways: RunningGateway[] = [];

before(async () => {
  rt = await redTeam('mcp_batches');
});
after(async () => {
  for (const g of gateways) await g.close();
  await rt?.close();
});

/** A gateway whose bucket never refills during a test: `burst` requests, then 429. */
async function gateway(limits: Partial<GatewayLimits>): Promise<RunningGateway> {
  const g = await redTeamGateway(rt, { requestsPerSecond: 0.001, ...limits });
  gateways.push(g);
  return g;
}

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  /** The JSON body, or the JSON-RPC messages of an SSE stream. */
  readonly messages: readonly Record<string, unknown>[];
}

/** One POST to `/mcp` as an MCP client sends it, the answer read to its end. */
function post(g: RunningGateway, token: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(g.url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: url.port, method: 'POST', path: '/mcp', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const s = Buffer.concat(chunks).toString('utf8');
          const sse = String(res.headers['content-type']).startsWith('text/event-stream');
          const parts = sse ? s.split('\n').filter((l) => l.startsWith('data: ') && l.length > 6).map((l) => l.slice(6)) : s ? [s] : [];
          resolve({ status: res.statusCode ?? 0, headers: res.headers, messages: parts.map((p) => JSON.parse(p) as Record<string, unknown>) });
        });
      },
    );
    req.on('error', reject);
    req.write(text);
    req.end();
  });
}

const call = (id: number, name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });
const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping' });
/** `n` staging writes, numbered from `from`: each one that runs leaves a row in `test_writes`. */
const writes = (from: number, n: number) => Array.from({ length: n }, (_, i) => call(from + i, 'test.slowWrite', { n: from + i }));

/** An MCP session of `version` with its intent declared: 3 requests (initialize, initialized, the intent). */
async function mcpSession(g: RunningGateway, token: string, version: string): Promise<{ readonly headers: Record<string, string>; readonly sessionId: string }> {
  const init = await post(g, token, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'batcher', version: '1' } } });
  assert.equal(init.status, 200, JSON.stringify(init.messages));
  const headers = { 'mcp-session-id': String(init.headers['mcp-session-id']), 'mcp-protocol-version': version };
  assert.equal((await post(g, token, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)).status, 202);
  const declared = await post(g, token, call(1, 'gatehouse_declare_intent', { intent: 'write numbered rows of the staging config' }), headers);
  const structured = (declared.messages[0]?.result as { structuredContent?: { sessionId?: string } } | undefined)?.structuredContent;
  assert.ok(structured?.sessionId, JSON.stringify(declared.messages));
  return { headers, sessionId: structured.sessionId };
}

async function rows(from: number, to: number): Promise<number> {
  const r = await rt.h.production.pool.query<{ n: number }>("SELECT count(*)::int AS n FROM test_writes WHERE tool = 'test.slowWrite' AND n >= $1 AND n < $2", [from, to]);
  return r.rows[0]!.n;
}

async function proposed(sessionId: string): Promise<number> {
  return (await rt.h.events(sessionId)).filter((e) => e.kind === 'proposed').length;
}

function rateLimited(a: Answer): void {
  assert.equal(a.status, 429, JSON.stringify(a.messages).slice(0, 400));
  assert.equal(a.messages[0]?.type, 'urn:gatehouse:problem:rate-limited');
}

describe('one HTTP request, one rate token: plain MCP requests', () => {
  it('admits exactly `burst` requests to /mcp, then 429', async () => {
    const g = await gateway({ burst: 6 });
    const a = await rt.agent('mcp-rate-bot', 'eng-020');
    const { headers } = await mcpSession(g, a.token, '2025-06-18'); // 3 of 6
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await post(g, a.token, ping(100 + i), headers)).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429], 'three pings fill the burst of 6; the fourth is refused');
  });
});

describe('a JSON-RPC batch of proposals', () => {
  it('is refused whole under 2025-06-18, which has no batches: 400, nothing proposed', async () => {
    const g = await gateway({ burst: 10 });
    const a = await rt.agent('mcp-batch-bot', 'eng-020');
    const { headers, sessionId } = await mcpSession(g, a.token, '2025-06-18');
    const before = await proposed(sessionId);
    const r = await post(g, a.token, writes(1000, 20), headers);
    assert.equal(r.status, 400, JSON.stringify(r.messages).slice(0, 400));
    const error = r.messages[0]?.error as { code: number; message: string; data: { rule: string; protocolVersion: string; messages: number } };
    assert.equal(r.messages[0]?.id, null);
    assert.equal(error.code, -32600);
    assert.deepEqual(error.data, { rule: 'mcp.batch', protocolVersion: '2025-06-18', messages: 20 });
    assert.match(error.message, /batches are not accepted under MCP protocol version `2025-06-18`/);
    assert.equal(await rows(1000, 1100), 0, 'no write of the batch ran');
    assert.equal(await proposed(sessionId), before, 'no message of the batch was proposed');
    // The session goes on: one call in one request still runs.
    const one = await post(g, a.token, call(2, 'test.slowWrite', { n: 1050 }), headers);
    assert.equal(one.status, 200);
    assert.equal(await rows(1000, 1100), 1);
    await assertAuditVerifies(rt.h);
  });

  it('under 2025-03-26 costs one token per message, all or none', async () => {
    const g = await gateway({ burst: 10 });
    const a = await rt.agent('mcp-batch-old-bot', 'eng-020');
    const { headers, sessionId } = await mcpSession(g, a.token, '2025-03-26'); // 7 tokens left
    const { 'mcp-protocol-version': _v, ...noVersion } = headers;
    const before = await proposed(sessionId);

    // 9 messages for 7 tokens: refused whole, with or without the version header (the SDK's default is 2025-03-26).
    rateLimited(await post(g, a.token, writes(2000, 9), headers));
    rateLimited(await post(g, a.token, writes(2000, 9), noVersion));
    assert.equal(await rows(2000, 2100), 0, 'no write of a refused batch ran');
    assert.equal(await proposed(sessionId), before);

    // The refused requests took one token each (5 left); a batch of 3 takes 3.
    const three = await post(g, a.token, writes(2100, 3), headers);
    assert.equal(three.status, 200, JSON.stringify(three.messages).slice(0, 400));
    assert.equal(three.messages.filter((m) => m.result !== undefined).length, 3);
    assert.equal(await rows(2100, 2200), 3);
    // 2 left: a batch of 3 is refused whole (its request takes one); the last token buys one ping, and no more.
    rateLimited(await post(g, a.token, writes(2200, 3), noVersion));
    assert.equal(await rows(2200, 2300), 0);
    assert.equal((await post(g, a.token, ping(3), headers)).status, 200);
    rateLimited(await post(g, a.token, ping(4), headers));
    assert.equal(await proposed(sessionId), before + 3, 'only the admitted batch was proposed');
    await assertAuditVerifies(rt.h);
  });

  it('a batch larger than the burst is refused (400, naming the burst) before any of its messages is charged', async () => {
    const g = await gateway({ burst: 10 });
    const a = await rt.agent('mcp-batch-burst-bot', 'eng-020');
    const { headers, sessionId } = await mcpSession(g, a.token, '2025-03-26'); // 7 tokens left
    const before = await proposed(sessionId);
    // 11 messages: more than the bucket ever holds, so no Retry-After could ever be kept. Twice: it stays a 400.
    for (const h of [headers, headers]) {
      const r = await post(g, a.token, writes(3000, 11), h);
      assert.equal(r.status, 400, JSON.stringify(r.messages).slice(0, 400));
      assert.equal(r.headers['retry-after'], undefined);
      const error = r.messages[0]?.error as { code: number; message: string; data: Record<string, unknown> };
      assert.equal(r.messages[0]?.id, null);
      assert.equal(error.code, -32600);
      assert.deepEqual(error.data, { rule: 'mcp.batch.burst', protocolVersion: '2025-03-26', messages: 11, burst: 10 });
      assert.match(error.message, /a batch of 11 messages is more than the burst of 10 requests .* send at most 10 messages a batch/);
    }
    assert.equal(await rows(3000, 3100), 0, 'no write of the refused batch ran');
    assert.equal(await proposed(sessionId), before);
    // Each refused request cost its own token only (5 left): a batch of 5 is admitted whole.
    const five = await post(g, a.token, writes(3100, 5), headers);
    assert.equal(five.status, 200, JSON.stringify(five.messages).slice(0, 400));
    assert.equal(five.messages.filter((m) => m.result !== undefined).length, 5);
    assert.equal(await rows(3100, 3200), 5);
    rateLimited(await post(g, a.token, ping(5), headers));
    await assertAuditVerifies(rt.h);
  });

  it('an empty batch, or one over 100 messages, is refused before any of its messages is charged', async () => {
    const g = await gateway({ burst: 200 });
    const a = await rt.agent('mcp-batch-edge-bot', 'eng-020');
    const { headers } = await mcpSession(g, a.token, '2025-03-26');
    for (const [body, rule] of [[[], 'mcp.batch.empty'], [Array.from({ length: 101 }, (_, i) => ping(10 + i)), 'mcp.batch.size']] as const) {
      const r = await post(g, a.token, body, headers);
      assert.equal(r.status, 400, JSON.stringify(r.messages).slice(0, 400));
      assert.equal((r.messages[0]?.error as { data: { rule: string } }).data.rule, rule);
    }
  });
});
