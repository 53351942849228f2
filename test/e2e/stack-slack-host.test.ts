/**
 * `gatehouse start` with Slack credentials: the approvals app's HTTP endpoint binds 127.0.0.1 like
 * every other part of the stack (docs/quickstart.md), unless `SLACK_HOST` names another interface.
 * The stack runs against the suite's Temporal and PostgreSQL (it starts no server) and no worker.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack } from '../../worker/devstack/stack';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';

let root: string;
let audit: TestDatabase;
let production: TestDatabase;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-slack-host-'));
  audit = await createTestDatabase('slack_host_audit');
  production = await createTestDatabase('slack_host_production');
});
after(async () => {
  await audit?.drop();
  await production?.drop();
  await rm(root, { recursive: true, force: true });
});

/** The stack's environment: the suite's servers, Slack in HTTP mode on a free port, a Web API nobody answers. */
async function slackEnv(name: string, extra: NodeJS.ProcessEnv): Promise<NodeJS.ProcessEnv> {
  const servers = await getTestServers();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_DATA_DIR: join(root, name),
    TEMPORAL_ADDRESS: servers.temporalAddress,
    TEMPORAL_NAMESPACE: servers.namespace,
    DATABASE_URL: audit.url,
    GATEHOUSE_PRODUCTION_DATABASE_URL: production.url,
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    SLACK_PORT: '0',
    SLACK_API_URL: 'http://127.0.0.1:1/api/',
    ...extra,
  };
  for (const key of ['GATEHOUSE_STACK_FILE', 'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICY', 'GATEHOUSE_POLICIES', 'SLACK_APP_TOKEN', 'SLACK_HOST', 'GATEHOUSE_CONFIG', 'GATEHOUSE_CATALOG']) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

/** The approvals endpoint's URL of a stack started with `env`; the stack is stopped before it returns. */
async function approvalsUrl(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const stack = await startStack({ env, worker: false, log: () => undefined });
  try {
    return stack.stackFile.approvals?.url;
  } finally {
    await stack.stop();
  }
}

describe('the stack\'s slack approvals endpoint', { timeout: 300_000 }, () => {
  it('binds 127.0.0.1 by default', async () => {
    assert.match((await approvalsUrl(await slackEnv('default', {}))) ?? '', /^http:\/\/127\.0\.0\.1:\d+\/slack\/events$/);
  });

  it('binds the interface SLACK_HOST names', async () => {
    // Another loopback address (all of 127/8 is loopback on Linux): the test opens nothing to the network.
    assert.match((await approvalsUrl(await slackEnv('host', { SLACK_HOST: '127.0.0.2' }))) ?? '', /^http:\/\/127\.0\.0\.2:\d+\/slack\/events$/);
  });
});
