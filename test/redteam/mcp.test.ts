/**
 * Red team: what an agent (or a page in its host's browser) can send to `/mcp` now. A rebound name
 * (forged `Host`, forged `Origin`) is refused before authentication, whatever credential it
 * carries, and takes no slot; every 401 says where the protected-resource metadata is; a `DELETE`
 * of another agent's MCP session id is refused and the victim's session goes on.
 *
 * Each case: production rows unchanged, nothing executed, `audit verify` holds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { RevocationStore } from '../../audit/credentials';
import { startGateway, type RunningGateway } from '../../gateway/start';
import { admissionsQuery, admissionsWorkflowId } from '../../workflows/admissions-contract';
import { assertAuditVerifies, productionSnapshot, redTeam, sessionWorkflowId, trust, type RedTeam } from './attacker';

let rt: RedTeam;
let baseline: Record<string, unknown>;
let g: RunningGateway;

before(async () => {
  rt = await redTeam('mcp_front');
  baseline = await productionSnapshot(rt.h);
  g = await startGateway({
    temporal: { address: rt.h.address, namespace: rt.h.namespace, taskQueue: rt.h.taskQueue },
    keyset: trust.keyset,
    revocations: new RevocationStore(rt.h.audit.pool),
    host: '127.0.0.1',
    port: 0,
    env: {},
  });
});
after(async () => {
  await g?.close();
  await rt?.close();
});

interface Answer {
  readonly status: number;
  readonly body: { type?: string; detail?: string; [k: string]: unknown } | undefined;
  readonly headers: http.IncomingHttpHeaders;
}

/** One request with every header as given (fetch would not let a caller set `Host`). */
function raw(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const url = new URL(g.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers: { ...(text !== undefined ? { 'content-type': 'application/json' } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const s = Buffer.concat(chunks).toString('utf8');
        let parsed: Answer['body'];
        try {
          parsed = s ? (JSON.parse(s) as Answer['body']) : undefined;
        } catch {
          parsed = { detail: s };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, headers: res.headers });
      });
    });
    req.on('error', reject);
    if (text !== undefined) req.write(text);
    req.end();
  });
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'rebind', version: '1' } } };
const MCP = { accept: 'application/json, text/event-stream' };

async function slots(agentId: string): Promise<readonly string[]> {
  try {
    return (await rt.raw.workflow.getHandle(admissionsWorkflowId(rt.h.taskQueue, agentId)).query(admissionsQuery)).map((s) => s.sessionId);
  } catch (err) {
    // No admissions workflow yet: the agent holds no slot. Anything else is a failure of the test.
    if ((err as { name?: string }).name === 'WorkflowNotFoundError') return [];
    throw err;
  }
}

async function defended(): Promise<void> {
  assert.deepEqual(await productionSnapshot(rt.h), baseline);
  await assertAuditVerifies(rt.h);
}

describe('DNS rebinding: a forged Host or Origin', () => {
  it('is refused with 403 before authentication, with a valid credential, taking no slot', async () => {
    const a = await rt.agent('rebind-bot', 'eng-020');
    const auth = { authorization: `Bearer ${a.token}` };
    const port = new URL(g.url).port;
    const refused: [string, Record<string, string>][] = [
      ['forged host', { host: 'evil.example.com' }],
      ['forged host with the port', { host: `evil.example.com:${port}` }],
      ['a loopback-looking name', { host: '127.0.0.1.evil.example.com' }],
      ['forged origin', { origin: 'http://evil.example.com' }],
      ['forged origin on a loopback port', { origin: `http://evil.example.com:${port}` }],
      ['a null origin', { origin: 'null' }],
      ['a file origin', { origin: 'file://' }],
    ];
    for (const [what, headers] of refused) {
      for (const [method, path, body] of [['POST', '/mcp', INIT], ['POST', '/v1/sessions', { intent: 'rebound start' }], ['GET', '/v1/openapi.json', undefined]] as const) {
        const r = await raw(method, path, { ...auth, ...MCP, ...headers }, body);
        assert.equal(r.status, 403, `${what} ${method} ${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body?.type, 'urn:gatehouse:problem:forbidden-origin', what);
        assert.equal(r.headers['mcp-session-id'], undefined);
      }
    }
    assert.deepEqual(await slots('rebind-bot'), [], 'no refused request took a slot');

    // The gateway's own names, with or without a port, and a browser on a loopback origin, are served.
    for (const headers of [{ host: `127.0.0.1:${port}` }, { host: `localhost:${port}` }, { host: `localhost:${port}`, origin: 'http://localhost:5173' }] as Record<string, string>[]) {
      const r = await raw('POST', '/mcp', { ...auth, ...MCP, ...headers }, INIT);
      assert.equal(r.status, 200, JSON.stringify(headers));
      const close = await raw('DELETE', '/mcp', { ...auth, 'mcp-session-id': String(r.headers['mcp-session-id']) });
      assert.equal(close.status, 200);
    }
    await defended();
  });
});

describe('a 401 says where authorization is described', () => {
  it('carries WWW-Authenticate with resource_metadata on every 401, and the metadata is public', async () => {
    const answers: Answer[] = [];
    for (const headers of [{}, { authorization: 'Bearer not-a-jwt' }, { authorization: 'Basic abc' }] as Record<string, string>[]) {
      answers.push(await raw('POST', '/mcp', { ...MCP, ...headers }, INIT));
      answers.push(await raw('GET', '/v1/sessions/x', headers));
      answers.push(await raw('DELETE', '/mcp', { ...headers, 'mcp-session-id': 'x' }));
      answers.push(await raw('GET', '/nowhere', headers));
    }
    for (const r of answers) {
      assert.equal(r.status, 401);
      assert.match(String(r.headers['www-authenticate']), new RegExp(`^Bearer resource_metadata="${g.url.replace(/\./g, '\\.')}/\\.well-known/oauth-protected-resource(/mcp)?"`));
    }
    assert.match(String(answers[4]!.headers['www-authenticate']), /error="invalid_token"/);
    assert.doesNotMatch(String(answers[0]!.headers['www-authenticate']), /error=/);

    const mcpChallenge = /resource_metadata="([^"]+)"/.exec(String(answers[0]!.headers['www-authenticate']))![1]!;
    assert.equal(mcpChallenge, `${g.url}/.well-known/oauth-protected-resource/mcp`);
    const metadata = (await (await fetch(mcpChallenge)).json()) as { resource: string; bearer_methods_supported: string[] };
    assert.equal(metadata.resource, `${g.url}/mcp`);
    assert.deepEqual(metadata.bearer_methods_supported, ['header']);
    const root = await raw('GET', '/.well-known/oauth-protected-resource', {});
    assert.equal(root.status, 200);
    assert.equal(root.body!.resource, g.url);
    // The public list is exact: a path below the metadata is not public.
    assert.equal((await raw('GET', '/.well-known/oauth-protected-resource/v1', {})).status, 401);
    // A forged Host cannot make the metadata name another resource.
    assert.equal((await raw('GET', '/.well-known/oauth-protected-resource/mcp', { host: 'evil.example.com' })).status, 403);
  });
});

describe('closing another agent\'s MCP session', () => {
  it('a DELETE with the victim\'s MCP session id is refused; the victim\'s session, slot and calls go on', async () => {
    const victim = await rt.agent('victim-mcp-bot', 'eng-021');
    const attacker = await rt.agent('thief-mcp-bot', 'eng-022');
    const transport = new StreamableHTTPClientTransport(new URL(g.mcpUrl), { requestInit: { headers: { authorization: `Bearer ${victim.token}` } } });
    const client = new Client({ name: 'victim', version: '1' });
    await client.connect(transport);
    try {
      const declared = (await client.callTool({ name: 'gatehouse_declare_intent', arguments: { intent: 'read last month\'s billing records' } })) as CallToolResult;
      const sessionId = (declared.structuredContent as { sessionId: string }).sessionId;
      const mcpId = transport.sessionId!;
      for (const headers of [{ authorization: `Bearer ${attacker.token}` }, {}, { authorization: `Bearer ${attacker.token}`, 'content-type': 'application/json' }] as Record<string, string>[]) {
        const r = await raw('DELETE', '/mcp', { ...headers, 'mcp-session-id': mcpId, 'mcp-protocol-version': '2025-06-18' });
        assert.equal(r.status, headers.authorization ? 403 : 401, JSON.stringify(r.body));
      }
      assert.equal((await rt.raw.workflow.getHandle(sessionWorkflowId(sessionId)).describe()).status.name, 'RUNNING');
      assert.deepEqual(await slots('victim-mcp-bot'), [sessionId]);
      const query = (await client.callTool({ name: 'billing.query', arguments: { testOnly: true, limit: 1 } })) as CallToolResult;
      assert.equal((query.structuredContent as { status: string }).status, 'executed');
      assert.deepEqual((await rt.h.events(sessionId)).map((e) => e.kind).filter((k) => k === 'session-ended'), []);
    } finally {
      await transport.terminateSession();
      await client.close();
    }
    await defended();
  });
});
