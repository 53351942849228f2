/**
 * `gatehouse start --temporal server` (worker/devstack/stack-temporal.ts): the full Temporal server
 * on the stack's embedded PostgreSQL, announced as `(server, postgresql)`, with the namespace and
 * search attributes in place, and Temporal's Web UI served by the console to an operator; a stop and a
 * restart keep every session (and the certificates), and leave no process.
 */
import assert from 'node:assert/strict';
import { eventually } from '../support/eventually';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { stackTemporalSecurity } from '../../client/config';
import { startStack } from '../../worker/devstack/stack';
import { freeServerPort } from '../../worker/devstack/temporal-full-server';
import { GATEHOUSE_SEARCH_ATTRIBUTES } from '../../worker/devstack/temporal-server';
import { builtTemporalUi } from '../../worker/devstack/temporal-ui-binary';
import { webUi } from './stack-server-ui';

// Only where the UI server was never built (CI builds it and sets TEMPORAL_UI_DIR: never skipped there).
const uiSkip = builtTemporalUi() ? false : 'the temporal ui server is not built here: `.ci/run` builds it, or set TEMPORAL_UI_DIR';

let root: string;
const quiet = () => undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-stack-server-'));
  await chmod(root, 0o755); // the postgres user must get through when running as root
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

function processesMentioning(text: string): number[] {
  return readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text);
    } catch {
      return false;
    }
  }).map(Number);
}

test('--temporal server: the full server on the embedded postgres; stop and restart keep the session', async (t) => {
  const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: join(root, 'data') };
  for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'GATEHOUSE_PRODUCTION_DATABASE_URL', 'GATEHOUSE_STACK_FILE', 'SLACK_BOT_TOKEN', 'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICIES', 'GATEHOUSE_POLICY']) delete env[key];
  const temporalPort = await freeServerPort();
  const taskQueue = `test-stack-server-${Date.now()}`;
  const workflowId = `stack-server-${Date.now()}`;

  let stack = await startStack({ env, temporal: 'server', worker: false, temporalPort, log: quiet });
  try {
    const line = stack.parts.find((p) => p.name === 'temporal');
    assert.equal(line?.where, `127.0.0.1:${temporalPort} (server, postgresql)`);
    const connection = await Connection.connect({ address: stack.stackFile.temporal.address, ...stackTemporalSecurity(stack.stackFile.temporal.tls, 'cli') });
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: stack.stackFile.temporal.namespace });
    assert.deepEqual(Object.keys(GATEHOUSE_SEARCH_ATTRIBUTES).filter((name) => customAttributes?.[name] === undefined), []);
    // Nothing polls this queue: the session stays running, on the server's PostgreSQL.
    const client = new Client({ connection, namespace: stack.stackFile.temporal.namespace });
    await client.workflow.start('agentSession', { taskQueue, workflowId, args: [{}] });
    await connection.close();
    await t.test('temporal\'s web ui: an operator reads the session through the console', { skip: uiSkip }, () => webUi(stack, env, workflowId));
  } finally {
    await stack.stop();
  }
  assert.deepEqual(processesMentioning(env.GATEHOUSE_DATA_DIR ?? ''), [], 'stop leaves no process');

  stack = await startStack({ env, temporal: 'server', worker: false, temporalPort, log: quiet });
  try {
    const connection = await Connection.connect({ address: stack.stackFile.temporal.address, ...stackTemporalSecurity(stack.stackFile.temporal.tls, 'cli') });
    const client = new Client({ connection, namespace: stack.stackFile.temporal.namespace });
    const handle = client.workflow.getHandle(workflowId);
    // A restarted full server answers on its frontend before its history hosts have joined the ring
    // (`UNAVAILABLE: Not enough hosts to serve the request`, seen under load): wait for that, nothing else.
    const described = await eventually(
      () => handle.describe().catch((err: unknown) => {
        if (/Not enough hosts/.test(String((err as { cause?: unknown }).cause ?? err))) return undefined;
        throw err;
      }),
      { what: 'the restarted server serving the session', timeoutMs: 60_000 },
    );
    assert.equal(described.status.name, 'RUNNING', 'the session survived the restart');
    await handle.terminate('test done');
    await connection.close();
  } finally {
    await stack.stop();
  }
});
