/**
 * The production shape's namespace is Gatehouse's alone: `gatehouse start --temporal server` runs
 * the frontend with mutual TLS. The stock `temporal` CLI and an SDK client without a certificate
 * are refused at connect, so is a certificate of another CA; Gatehouse's client, with the stack's
 * certificate for its role, runs a session end to end (a proposal executed by the stack's worker).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { Gatehouse } from '../../client';
import { loadConfig, temporalSecurity, TEMPORAL_CLIENT_ROLES } from '../../client/config';
import { readKeyFile } from '../../client/trust/key-files';
import { startStack } from '../../worker/devstack/stack';
import { findTemporalCli } from '../../worker/devstack/temporal-binary';
import { freeServerPort } from '../../worker/devstack/temporal-full-server';
import { ensureTemporalTls } from '../../worker/devstack/temporal-tls';

const exec = promisify(execFile);
let root: string;
const quiet = () => undefined;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'gatehouse-mtls-'));
  await chmod(root, 0o755); // the postgres user must get through when running as root
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Runs the stock CLI; resolves with its exit code and output (never throws on a non-zero exit). */
async function temporalCli(args: string[]): Promise<{ code: number; output: string }> {
  const cli = await findTemporalCli();
  // No TEMPORAL_* of ours leaks in; a home of its own (the cli reads its config file from there).
  return exec(cli, args, { timeout: 60_000, env: { PATH: process.env.PATH ?? '', HOME: root } }).then(
    (r) => ({ code: 0, output: r.stdout + r.stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof err.code === 'number' ? err.code : -1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` }),
  );
}

test('--temporal server: only a certificate of the stack opens the namespace; gatehouse runs a session with its own', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: join(root, 'data') };
  for (const key of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'DATABASE_URL', 'GATEHOUSE_PRODUCTION_DATABASE_URL', 'GATEHOUSE_STACK_FILE', 'SLACK_BOT_TOKEN', 'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_POLICIES', 'GATEHOUSE_POLICY', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_SERVER_NAME', 'TEMPORAL_API_KEY']) delete env[key];
  const stack = await startStack({ env, temporal: 'server', temporalPort: await freeServerPort(), log: quiet });
  try {
    const { address, namespace, tls } = stack.stackFile.temporal;
    assert.ok(tls, 'the stack file names the certificates');
    assert.match(stack.parts.find((p) => p.name === 'temporal access')?.where ?? '', /^mutual tls: a client certificate of the ca in .*temporal-tls required/);
    for (const role of TEMPORAL_CLIENT_ROLES) assert.equal(statSync(tls.clients[role].keyFile).mode & 0o777, 0o600, `the ${role} key is not 0600`);
    assert.equal(statSync(join(env.GATEHOUSE_DATA_DIR!, 'temporal-tls', 'ca.key')).mode & 0o777, 0o600);
    const list = ['workflow', 'list', '--address', address, '--namespace', namespace, '--limit', '1'];

    // (a) the stock CLI without a certificate: plain TCP, then TLS trusting the CA but with no client certificate.
    const plain = await temporalCli(list);
    assert.notEqual(plain.code, 0, `the cli without tls was let in: ${plain.output}`);
    assert.match(plain.output, /failed reaching server/, 'refused at connect');
    const noCert = await temporalCli([...list, '--tls-ca-path', tls.caFile, '--tls-server-name', tls.serverName]);
    assert.notEqual(noCert.code, 0, `the cli without a client certificate was let in: ${noCert.output}`);
    assert.match(noCert.output, /failed reaching server/, 'refused at the handshake');
    // ... nor an SDK client.
    await assert.rejects(async () => {
      const c = await Connection.connect({ address, connectTimeout: '5s' });
      await c.workflowService.getSystemInfo({});
    });
    await assert.rejects(async () => {
      const c = await Connection.connect({ address, connectTimeout: '5s', tls: { serverRootCACertificate: await readFile(tls.caFile), serverNameOverride: tls.serverName } });
      await c.workflowService.getSystemInfo({});
    });

    // (b) a certificate of a CA of one's own (the same names, the same shape) is refused.
    const forged = await ensureTemporalTls(join(root, 'forged'));
    const wrongCa = await temporalCli([...list, '--tls-ca-path', tls.caFile, '--tls-server-name', tls.serverName, '--tls-cert-path', forged.clients.cli.certFile, '--tls-key-path', forged.clients.cli.keyFile]);
    assert.notEqual(wrongCa.code, 0, `a self-made certificate was let in: ${wrongCa.output}`);
    assert.match(wrongCa.output, /failed reaching server/, 'refused at the handshake');

    // The stack's own cli certificate opens it: the refusals above are the certificate's doing.
    const own = await temporalCli([...list, '--tls-ca-path', tls.caFile, '--tls-server-name', tls.serverName, '--tls-cert-path', tls.clients.cli.certFile, '--tls-key-path', tls.clients.cli.keyFile]);
    assert.equal(own.code, 0, own.output);

    // (c) Gatehouse's client, configured from the stack file as any Gatehouse command is, runs a session.
    const config = loadConfig(env);
    const gh = await Gatehouse.connect({
      address: config.temporalAddress,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      ...temporalSecurity(config, 'cli'),
      issuer: readKeyFile(stack.stackFile.keys!.developmentOperatorKey!),
    });
    try {
      const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1)).toISOString().slice(0, 7);
      const session = await gh.startSession({ agentId: 'billing-bot', owner: 'eng-007', intent: 'look at last month\'s test billing records' });
      const found = await session.propose({ tool: 'billing.query', args: { testOnly: true, period: lastMonth }, reasoning: 'look' });
      assert.equal(found.status, 'executed');
      await session.end({ reason: 'done' });
    } finally {
      await gh.close();
    }
  } finally {
    await stack.stop();
  }
});
