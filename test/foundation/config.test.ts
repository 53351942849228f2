/** `loadConfig()`: environment first, then a live stack file, then defaults; bad values are refused. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError, deploymentEnv, insecureTemporalInProduction, loadConfig, stackFilePath, temporalSecurity, type StackFile } from '../../client/config';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function stack(pid: number): StackFile {
  return {
    pid,
    startedAt: '2026-01-01T00:00:00.000Z',
    temporal: { address: '127.0.0.1:17233', namespace: 'stackns', uiUrl: 'http://127.0.0.1:18233', embedded: true },
    taskQueue: 'stack-queue',
    databaseUrl: 'postgres://postgres:pw@127.0.0.1:15432/gatehouse',
    productionDatabaseUrl: 'postgres://postgres:pw@127.0.0.1:15432/gatehouse_production',
  };
}

test('with nothing set and no stack, the defaults apply and there is no database', () => {
  const config = loadConfig({ GATEHOUSE_STACK_FILE: join(dir, 'absent.json') });
  assert.equal(config.temporalAddress, '127.0.0.1:7233');
  assert.equal(config.namespace, 'default');
  assert.equal(config.taskQueue, 'gatehouse');
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.productionDatabaseUrl, undefined);
  assert.equal(config.slack, undefined);
});

test('a live stack file fills what the environment leaves out; the environment wins', async () => {
  const file = join(dir, 'live.json');
  await writeFile(file, JSON.stringify(stack(process.pid)));
  const fromStack = loadConfig({ GATEHOUSE_STACK_FILE: file });
  assert.equal(fromStack.temporalAddress, '127.0.0.1:17233');
  assert.equal(fromStack.namespace, 'stackns');
  assert.equal(fromStack.taskQueue, 'stack-queue');
  assert.equal(fromStack.databaseUrl, 'postgres://postgres:pw@127.0.0.1:15432/gatehouse');
  assert.equal(fromStack.productionDatabaseUrl, 'postgres://postgres:pw@127.0.0.1:15432/gatehouse_production');

  const mixed = loadConfig({ GATEHOUSE_STACK_FILE: file, TEMPORAL_ADDRESS: 'temporal:7233', DATABASE_URL: 'postgresql://u:p@db:5432/audit' });
  assert.equal(mixed.temporalAddress, 'temporal:7233');
  assert.equal(mixed.databaseUrl, 'postgresql://u:p@db:5432/audit');
  assert.equal(mixed.productionDatabaseUrl, 'postgres://postgres:pw@127.0.0.1:15432/gatehouse_production');
});

test('a stack file left by a dead process is ignored', async () => {
  const file = join(dir, 'dead.json');
  await writeFile(file, JSON.stringify(stack(2 ** 22 + 12345)));
  assert.equal(loadConfig({ GATEHOUSE_STACK_FILE: file }).temporalAddress, '127.0.0.1:7233');
  await writeFile(file, '{ not json');
  assert.equal(loadConfig({ GATEHOUSE_STACK_FILE: file }).databaseUrl, undefined);
});

test('the stack file lives under GATEHOUSE_DATA_DIR, or the project .data folder', () => {
  assert.equal(stackFilePath({ GATEHOUSE_DATA_DIR: '/srv/gh' }), '/srv/gh/stack.json');
  assert.match(stackFilePath({}), /\/\.data\/stack\.json$/);
});

test('every variable of a real deployment is read', () => {
  const config = loadConfig({
    GATEHOUSE_STACK_FILE: join(dir, 'absent.json'),
    TEMPORAL_ADDRESS: 'gatehouse.a1b2c.tmprl.cloud:7233',
    TEMPORAL_NAMESPACE: 'gatehouse.a1b2c',
    GATEHOUSE_TASK_QUEUE: 'gh-prod',
    DATABASE_URL: 'postgres://a:b@audit:5432/audit',
    GATEHOUSE_PRODUCTION_DATABASE_URL: 'postgres://a:b@prod:5432/prod',
    SLACK_BOT_TOKEN: 'xoxb-1',
    SLACK_SIGNING_SECRET: 'secret',
    SLACK_PORT: '3100',
  });
  assert.deepEqual(
    { ...config, stack: undefined },
    {
      temporalAddress: 'gatehouse.a1b2c.tmprl.cloud:7233',
      namespace: 'gatehouse.a1b2c',
      taskQueue: 'gh-prod',
      databaseUrl: 'postgres://a:b@audit:5432/audit',
      productionDatabaseUrl: 'postgres://a:b@prod:5432/prod',
      slack: { botToken: 'xoxb-1', signingSecret: 'secret', appToken: undefined, socketMode: false, port: 3100, apiUrl: undefined },
      stack: undefined,
    },
  );
  assert.equal(loadConfig({ GATEHOUSE_STACK_FILE: join(dir, 'absent.json'), SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }).slack?.socketMode, true);
});

test('unusable values are refused with a clear error that hides passwords', () => {
  const base = { GATEHOUSE_STACK_FILE: join(dir, 'absent.json') };
  assert.throws(() => loadConfig({ ...base, TEMPORAL_ADDRESS: 'http://x:7233' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, '`TEMPORAL_ADDRESS` must be host:port, got `http://x:7233`');
    return true;
  });
  assert.throws(() => loadConfig({ ...base, DATABASE_URL: 'mysql://root:hunter2@db/x' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.message, '`DATABASE_URL` must be a postgres:// url, got `mysql://root:***@db/x`');
    return true;
  });
  assert.throws(() => loadConfig({ ...base, SLACK_BOT_TOKEN: 'x', SLACK_PORT: 'eighty' }), ConfigError);
});

test('a refused database URL is shown only when it is a URL, its password hidden however it is spelled', () => {
  const base = { GATEHOUSE_STACK_FILE: join(dir, 'absent.json') };
  const message = (name: 'DATABASE_URL' | 'GATEHOUSE_PRODUCTION_DATABASE_URL', value: string): string => {
    try {
      loadConfig({ ...base, [name]: value });
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail(`\`${value}\` was accepted`);
  };
  // A libpq keyword string is no URL: nothing of it is shown.
  assert.equal(message('DATABASE_URL', 'host=db user=g password=hunter2'), '`DATABASE_URL` must be a postgres:// url, and its value is not a URL (not shown: it may hold a password)');
  assert.equal(message('GATEHOUSE_PRODUCTION_DATABASE_URL', 'password:hunter2'), '`GATEHOUSE_PRODUCTION_DATABASE_URL` must be a postgres:// url, and its value is not a URL (not shown: it may hold a password)');
  // A leading space: the URL without its password, and why it was refused.
  assert.equal(message('DATABASE_URL', ' postgres://:pw@db/a'), '`DATABASE_URL` must be a postgres:// url, got `postgres://:***@db/a` (with spaces or control characters around it)');
  // A password holding `@`: hidden whole.
  assert.equal(message('GATEHOUSE_PRODUCTION_DATABASE_URL', 'postgresql+psycopg://g:p@ss@db'), '`GATEHOUSE_PRODUCTION_DATABASE_URL` must be a postgres:// url, got `postgresql+psycopg://g:***@db`');
  for (const value of ['host=db user=g password=hunter2', ' postgres://:pw@db/a', 'postgresql+psycopg://g:p@ss@db', 'password:hunter2']) {
    const m = message('DATABASE_URL', value);
    for (const secret of ['hunter2', ':pw@', 'p@ss']) assert.ok(!m.includes(secret), `\`${m}\` shows \`${secret}\``);
  }
});

test('GATEHOUSE_ENV: development or production in any case and spacing, unset or empty is development, anything else refused', () => {
  assert.equal(deploymentEnv(undefined), 'development');
  assert.equal(deploymentEnv(''), 'development');
  assert.equal(deploymentEnv('development'), 'development');
  for (const value of ['production', 'Production', 'PRODUCTION', 'production ', ' production\n']) assert.equal(deploymentEnv(value), 'production', JSON.stringify(value));
  for (const [value, shown] of [['prod', 'prod'], ['staging', 'staging'], ['   ', '   '], ['production\u0000', 'production\\u0000'], ['pr0duction', 'pr0duction']]) {
    assert.throws(() => deploymentEnv(value), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.message, `\`GATEHOUSE_ENV\` must be \`development\` or \`production\` (unset means development), got \`${shown}\``);
      return true;
    });
  }
  // The production check of the Temporal connection follows the same reading.
  assert.match(insecureTemporalInProduction({}, { GATEHOUSE_ENV: 'Production ' }) ?? '', /connects to Temporal only with a client certificate/);
  assert.equal(insecureTemporalInProduction({}, { GATEHOUSE_ENV: 'development' }), undefined);
  assert.throws(() => insecureTemporalInProduction({}, { GATEHOUSE_ENV: 'prod' }), ConfigError);
});

test('temporal tls and api key: read from the environment, certificate files loaded, halves refused', async () => {
  const none = join(dir, 'absent.json');
  assert.deepEqual(temporalSecurity(loadConfig({ GATEHOUSE_STACK_FILE: none })), {}, 'a local server needs neither');
  assert.deepEqual(temporalSecurity(loadConfig({ GATEHOUSE_STACK_FILE: none, TEMPORAL_API_KEY: 'k-123' })), { tls: true, apiKey: 'k-123' });

  const cert = join(dir, 'client.pem');
  const key = join(dir, 'client.key');
  await writeFile(cert, 'CERT');
  await writeFile(key, 'KEY');
  const mtls = temporalSecurity(loadConfig({ GATEHOUSE_STACK_FILE: none, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key }));
  assert.ok(mtls.tls !== undefined && mtls.tls !== true);
  assert.equal(mtls.tls.clientCertPair?.crt.toString(), 'CERT');
  assert.equal(mtls.tls.clientCertPair?.key.toString(), 'KEY');
  assert.equal(mtls.tls.serverRootCACertificate, undefined, 'without TEMPORAL_TLS_CA the system roots apply');

  const ca = join(dir, 'ca.pem');
  await writeFile(ca, 'CA');
  const pinned = temporalSecurity(loadConfig({ GATEHOUSE_STACK_FILE: none, TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key, TEMPORAL_TLS_CA: ca, TEMPORAL_TLS_SERVER_NAME: 'temporal.example' }));
  assert.ok(pinned.tls !== undefined && pinned.tls !== true);
  assert.equal(pinned.tls.serverRootCACertificate?.toString(), 'CA');
  assert.equal(pinned.tls.serverNameOverride, 'temporal.example');

  assert.throws(() => loadConfig({ GATEHOUSE_STACK_FILE: none, TEMPORAL_TLS_CERT: cert }), (err: unknown) => err instanceof ConfigError && /go together/.test(err.message));
  const missing = loadConfig({ GATEHOUSE_STACK_FILE: none, TEMPORAL_TLS_CERT: join(dir, 'nope.pem'), TEMPORAL_TLS_KEY: key });
  assert.throws(() => temporalSecurity(missing), (err: unknown) => err instanceof ConfigError && /TEMPORAL_TLS_CERT/.test(err.message));
});

test("a stack with mutual tls: each role connects with its own certificate, only to the stack's server", async () => {
  const files = Object.fromEntries(['worker', 'gateway', 'cli', 'approvals', 'bench'].map((role) => [role, { certFile: join(dir, `client-${role}.pem`), keyFile: join(dir, `client-${role}.key`) }]));
  for (const [role, pair] of Object.entries(files)) {
    await writeFile(pair.certFile, `CERT ${role}`);
    await writeFile(pair.keyFile, `KEY ${role}`);
  }
  await writeFile(join(dir, 'stack-ca.pem'), 'STACK CA');
  const tls = { caFile: join(dir, 'stack-ca.pem'), serverName: 'temporal.gatehouse.internal', clients: files as NonNullable<StackFile['temporal']['tls']>['clients'] };
  const file = join(dir, 'tls-stack.json');
  const base = stack(process.pid);
  await writeFile(file, JSON.stringify({ ...base, temporal: { ...base.temporal, tls } }));
  const config = loadConfig({ GATEHOUSE_STACK_FILE: file });
  for (const role of ['worker', 'gateway', 'cli', 'approvals', 'bench'] as const) {
    const s = temporalSecurity(config, role);
    assert.ok(s.tls !== undefined && s.tls !== true);
    assert.equal(s.tls.clientCertPair?.crt.toString(), `CERT ${role}`);
    assert.equal(s.tls.clientCertPair?.key.toString(), `KEY ${role}`);
    assert.equal(s.tls.serverRootCACertificate?.toString(), 'STACK CA');
    assert.equal(s.tls.serverNameOverride, 'temporal.gatehouse.internal');
  }
  const cli = temporalSecurity(config);
  assert.ok(cli.tls !== undefined && cli.tls !== true);
  assert.equal(cli.tls.clientCertPair?.crt.toString(), 'CERT cli', 'the cli role is the default');
  // TEMPORAL_ADDRESS elsewhere: the stack's certificates are not sent to another server.
  assert.deepEqual(temporalSecurity(loadConfig({ GATEHOUSE_STACK_FILE: file, TEMPORAL_ADDRESS: 'temporal.example:7233' }), 'worker'), {});
});
