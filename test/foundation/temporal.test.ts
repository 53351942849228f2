/**
 * Smoke test of the real Temporal server the suite runs on: a workflow runs an activity in this
 * process's worker, and a query reads the workflow's state back.
 */
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { getTestServers } from '../support/servers';
import { createSmokeActivities } from './fixtures/smoke-activities';
import { lastGreetingQuery, smokeWorkflow } from './fixtures/smoke-workflows';

// Worker state changes are logged at INFO: keep the test output to the runner's lines.
Runtime.install({ logger: new DefaultLogger('WARN') });

const taskQueue = `test-foundation-${randomUUID()}`;
let nativeConnection: NativeConnection;
let connection: Connection;
let client: Client;

before(async () => {
  const servers = await getTestServers();
  nativeConnection = await NativeConnection.connect({ address: servers.temporalAddress });
  connection = await Connection.connect({ address: servers.temporalAddress });
  client = new Client({ connection, namespace: servers.namespace });
});

after(async () => {
  await connection?.close();
  await nativeConnection?.close();
});

test('a workflow runs an activity through the real server and answers a query', async () => {
  const calls: string[] = [];
  const { namespace } = await getTestServers();
  const worker = await Worker.create({
    connection: nativeConnection,
    namespace,
    taskQueue,
    workflowsPath: require.resolve('./fixtures/smoke-workflows'),
    activities: createSmokeActivities(calls),
  });
  const workflowId = `smoke-${randomUUID()}`;
  const result = await worker.runUntil(async () => {
    const handle = await client.workflow.start(smokeWorkflow, { taskQueue, workflowId, args: ['gatehouse'] });
    const value = await handle.result();
    // Queries on a closed workflow are answered by replaying its history on this worker.
    assert.equal(await handle.query(lastGreetingQuery), value);
    return value;
  });
  assert.equal(result, `hello, gatehouse (pid ${process.pid})`);
  assert.deepEqual(calls, ['gatehouse']);

  const described = await client.workflow.getHandle(workflowId).describe();
  assert.equal(described.status.name, 'COMPLETED');
});
