/**
 * A gated upstream's resources, resource templates, prompts and completions through `/mcp` and the
 * stdio bridge: the real `server-everything` behind the worker, the TypeScript SDK as the agent.
 * Listed only what the session's policy classifies; a read is a proposal, decided and audited, and
 * runs upstream once; what the policy does not classify is refused with a spec-shaped error and
 * nothing is read upstream. Upstream progress reaches the agent during a gated call, and a change of
 * the upstream's lists reaches it as `list_changed`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { McpError, ResourceListChangedNotificationSchema, ResourceUpdatedNotificationSchema, ResultSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { listenUpstream, relayUpstreamNote } from '../../audit/upstream-listing';
import type { UpstreamStack } from '../upstreams/stack';
import { eventually } from '../support/eventually';
import { decidedRules, sdkAgent, startSubjectsStack } from './subjects-fixture';

const ROOT = join(__dirname, '..', '..');
const READ = 'everything.resources/read';

let stack: UpstreamStack;
before(async () => {
  stack = await startSubjectsStack('mcp_subjects');
});
after(async () => {
  await stack?.close();
});

async function rejectsWith(p: Promise<unknown>, code: number, message: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof McpError, `expected an McpError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, message);
    return true;
  });
}

describe('upstream resources and prompts through /mcp', () => {
  it('lists only what the policy classifies, and a read is a decided, audited call that runs once', async () => {
    const { client, sessionId } = await sdkAgent(stack, 'read the everything server documentation');
    try {
      const caps = client.getServerCapabilities();
      assert.equal(caps?.resources?.listChanged, true);
      assert.equal(caps?.prompts?.listChanged, true);
      assert.ok(caps?.completions);

      const resources = (await client.listResources()).resources.map((r) => r.uri);
      assert.ok(resources.includes('demo://resource/static/document/features.md'), resources.join(', '));
      assert.ok(resources.every((u) => u.startsWith('demo://resource/static/document/')), resources.join(', '));
      const templates = (await client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
      assert.deepEqual(templates, ['demo://resource/dynamic/text/{resourceId}'], 'the blob template is not classified');
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name).sort();
      assert.deepEqual(prompts, ['everything.args-prompt', 'everything.completable-prompt', 'everything.simple-prompt']);

      const read = await client.readResource({ uri: 'demo://resource/static/document/features.md' });
      assert.match(JSON.stringify(read.contents), /Everything Server/);
      const dynamic = await client.readResource({ uri: 'demo://resource/dynamic/text/7' });
      assert.match(JSON.stringify(dynamic.contents), /Resource 7/);
      assert.deepEqual(await stack.eventKinds(sessionId, READ), ['proposed', 'decided', 'executed', 'proposed', 'decided', 'executed']);
      assert.equal(await stack.ledgerRows(READ), 2);

      const prompt = await client.getPrompt({ name: 'everything.args-prompt', arguments: { city: 'Lyon' } });
      assert.match(JSON.stringify(prompt.messages), /Lyon/);
      assert.deepEqual(await stack.eventKinds(sessionId, 'everything.prompts/get'), ['proposed', 'decided', 'executed']);

      const done = await client.complete({ ref: { type: 'ref/prompt', name: 'everything.completable-prompt' }, argument: { name: 'department', value: 'E' } });
      assert.deepEqual(done.completion.values, ['Engineering']);
    } finally {
      await client.close();
    }
  });

  it('refuses what the policy does not classify, with a spec-shaped error, and reads nothing upstream', async () => {
    const { client, sessionId } = await sdkAgent(stack, 'read only what the policy allows');
    try {
      const rowsBefore = await stack.ledgerRows(READ);
      // A blob resource: the server serves it, the policy does not classify it.
      await rejectsWith(client.readResource({ uri: 'demo://resource/dynamic/blob/1' }), -32002, /resource not found: resource\.unclassified/);
      // A URI no server has anything like: refused at the gateway, nothing proposed.
      await rejectsWith(client.readResource({ uri: 'file:///etc/passwd' }), -32002, /not found/);
      await rejectsWith(client.getPrompt({ name: 'everything.resource-prompt', arguments: { resourceType: 'Text', resourceId: '1' } }), -32602, /prompt\.unclassified/);
      await rejectsWith(client.getPrompt({ name: 'everything.no-such-prompt' }), -32602, /unknown prompt/);
      await rejectsWith(client.getPrompt({ name: 'no-server-prefix' }), -32602, /unknown prompt `no-server-prefix`/);
      // Malformed params: the SDK's own schema check answers -32602 before anything is proposed.
      await rejectsWith(client.request({ method: 'resources/read', params: { uri: 42 } } as never, ResultSchema), -32602, /invalid params of `resources\/read`: uri: /);
      await rejectsWith(client.request({ method: 'prompts/get', params: {} } as never, ResultSchema), -32602, /invalid params of `prompts\/get`: name: /);

      assert.equal(await stack.ledgerRows(READ), rowsBefore, 'nothing was read upstream');
      const events = (await stack.h.events(sessionId)).filter((e) => e.tool === READ);
      assert.deepEqual(events.map((e) => e.kind), ['proposed', 'decided'], 'one read proposed (the blob), decided, never executed');
      assert.deepEqual(await decidedRules(stack, sessionId, READ), [['resource.unclassified']]);
    } finally {
      await client.close();
    }
  });

  it('passes upstream progress through during a gated call, and list changes as they happen', async () => {
    const { client } = await sdkAgent(stack, 'run a long operation and compress a file');
    try {
      // What arrives on the wire, in order: the SDK's own per-request progress callback is dropped as the
      // response is read, and can miss a notification sent just before it.
      const wire: unknown[] = [];
      const transport = client.transport!;
      const onmessage = transport.onmessage!;
      transport.onmessage = (m, extra) => {
        if ('method' in m && m.method === 'notifications/progress') wire.push(m.params?.progress);
        if ('result' in m && wire.length > 0) wire.push('result');
        onmessage(m, extra);
      };
      // The worker counts the notes it relayed, so the gateway waits for those three, and sends no NOTIFY barrier of its own.
      const keys: string[] = [];
      let progressNotes = 0;
      const stop = listenUpstream(stack.h.audit.pool, {
        note: (n) => {
          keys.push(n.key);
          if (n.method === 'notifications/progress') progressNotes += 1;
        },
      });
      // A NOTIFY of the test's own, seen on the listener: it listens, and everything sent before has arrived (PostgreSQL's order).
      const caughtUp = (tag: string) =>
        eventually(async () => {
          await relayUpstreamNote(stack.h.audit.pool, { key: tag, method: 'notifications/message', params: {} });
          return keys.includes(tag) ? true : undefined;
        }, { what: `the NOTIFY \`${tag}\`` });
      try {
        await caughtUp('test:listening');
        const long = await client.callTool({ name: 'everything.trigger-long-running-operation', arguments: { duration: 1, steps: 3 } }, undefined, { onprogress: () => undefined });
        assert.equal((long.structuredContent as { status?: string }).status, 'executed', JSON.stringify(long));
        assert.deepEqual(wire, [1, 2, 3, 'result'], 'every upstream progress notification, before the result');
        const echoed = await client.callTool({ name: 'everything.echo', arguments: { message: 'no notes' } });
        assert.equal((echoed.structuredContent as { status?: string }).status, 'executed', JSON.stringify(echoed));
        await caughtUp('test:answered');
        assert.equal(keys.filter((k) => k.startsWith('barrier:')).length, 0, 'no barrier NOTIFY for calls whose notes were counted');
        assert.equal(progressNotes, 3, 'the three progress notes, relayed once each');

        // Through the HTTP API the count stays between the worker and the MCP front door.
        const api = async (path: string, body: unknown) => {
          const r = await fetch(new URL(path, stack.mcpUrl), { method: 'POST', headers: { authorization: `Bearer ${stack.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
          return (await r.json()) as Record<string, unknown>;
        };
        const started = await api('/v1/sessions', { intent: 'echo a message' });
        const proposed = await api(`/v1/sessions/${String(started.sessionId)}/proposals`, { tool: 'everything.trigger-long-running-operation', args: { duration: 0.1, steps: 2 } });
        assert.equal(proposed.status, 'executed', JSON.stringify(proposed));
        assert.equal('relayedNotes' in proposed, false, JSON.stringify(proposed));
      } finally {
        await stop();
      }

      // The upstream registers a session resource: it tells the worker, which lists again and publishes; every MCP session hears of it.
      let resourcesChanged = 0;
      let toolsChanged = 0;
      client.setNotificationHandler(ResourceListChangedNotificationSchema, () => void (resourcesChanged += 1));
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void (toolsChanged += 1));
      const gz = await client.callTool({ name: 'everything.gzip-file-as-resource', arguments: { name: 'note.txt.gz', data: 'data:text/plain;base64,aGVsbG8=' } });
      assert.equal((gz.structuredContent as { status?: string }).status, 'executed', JSON.stringify(gz));
      await eventually(async () => (resourcesChanged > 0 && toolsChanged > 0 ? true : undefined), { what: 'list_changed notifications' });
    } finally {
      await client.close();
    }
  });
});

describe('the Python `mcp` client', () => {
  it('lists what the policy classifies, reads it, and gets -32002 for the rest', async () => {
    const agent = await stack.agent('read the everything server documentation from python');
    const { resources, prompts } = await agent.subjects();
    assert.ok(resources.includes('demo://resource/static/document/features.md'), resources.join(', '));
    assert.ok(resources.every((u) => u.startsWith('demo://resource/static/document/')), resources.join(', '));
    assert.deepEqual(prompts.sort(), ['everything.args-prompt', 'everything.completable-prompt', 'everything.simple-prompt']);
    const read = await agent.read('demo://resource/static/document/features.md');
    assert.match(JSON.stringify(read.contents), /Everything Server/);
    const refused = await agent.read('demo://resource/static/document/%2e%2e/%2e%2e/dynamic/text/1');
    assert.equal(refused.error?.code, -32002, JSON.stringify(refused));
    assert.deepEqual(await stack.eventKinds(agent.sessionId, READ), ['proposed', 'decided', 'executed', 'proposed', 'decided']);
  });
});

describe('resource subscriptions', () => {
  it('a classified resource is watched upstream and its updates reach the agent; an unclassified one is refused', async () => {
    const { client } = await sdkAgent(stack, 'watch the everything server features document');
    try {
      await rejectsWith(client.subscribeResource({ uri: 'demo://resource/dynamic/blob/1' }), -32002, /policy does not classify it/);
      const watched = 'demo://resource/static/document/features.md';
      const updates: string[] = [];
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
      await client.subscribeResource({ uri: watched });
      // The server sends updates of what its client (the worker) subscribed to, now and every 5 s.
      const toggled = await client.callTool({ name: 'everything.toggle-subscriber-updates', arguments: {} });
      assert.equal((toggled.structuredContent as { status?: string }).status, 'executed', JSON.stringify(toggled));
      await eventually(async () => (updates.length > 0 ? true : undefined), { what: 'notifications/resources/updated' });
      assert.ok(updates.every((u) => u === watched), updates.join(', '));
      await client.unsubscribeResource({ uri: watched });
    } finally {
      await client.close();
    }
  });
});

describe('upstream resources and prompts through the stdio bridge', () => {
  it('advertises listChanged, lists and reads what the policy classifies, refuses the rest', async () => {
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      GATEHOUSE_STACK_FILE: join(ROOT, '.data', 'no-stack-in-tests.json'),
      GATEHOUSE_AGENT_TOKEN: stack.token,
      GATEHOUSE_URL: stack.mcpUrl.replace(/\/mcp$/, ''),
      GATEHOUSE_INTENT: 'read the everything server documentation over stdio',
    };
    const client = new Client({ name: 'subjects-stdio-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(ROOT, 'bin', 'gatehouse.js'), 'mcp'], cwd: ROOT, env, stderr: 'pipe' }));
    try {
      assert.equal(client.getServerCapabilities()?.tools?.listChanged, true);
      const resources = (await client.listResources()).resources.map((r) => r.uri);
      assert.ok(resources.includes('demo://resource/static/document/architecture.md'), resources.join(', '));
      const read = await client.readResource({ uri: 'demo://resource/static/document/architecture.md' });
      assert.ok(read.contents.length > 0);
      await rejectsWith(client.readResource({ uri: 'demo://resource/dynamic/blob/2' }), -32002, /resource\.unclassified/);
      const prompts = (await client.listPrompts()).prompts.map((p) => p.name);
      assert.ok(prompts.includes('everything.simple-prompt'), prompts.join(', '));
    } finally {
      await client.close();
    }
  });
});
