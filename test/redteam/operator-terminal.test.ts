/**
 * Red team: an agent (or an upstream MCP server it talks to) writes terminal controls into what an
 * operator reads in a terminal: the logs of `gatehouse start` and of the worker process. OSC 52
 * (`ESC]52;c;<base64>BEL`) sets the operator's clipboard; a carriage return and `ESC[2K` rewrite
 * the line being read ("down" shown as "connected"). Three ways in: a line the stack logs, an
 * upstream server's stderr and stdout in the worker's log, and what Temporal's SDK logs of a
 * failed workflow or activity (its error's stack: a workflow id, an agent id the agent chose).
 * Each reaches stderr with every control escaped, and an entry's text cannot start a line of its own.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { escapedLogText } from '../../worker/escaped-logger';
import { SESSION_WORKFLOW_TYPE } from '../../workflows/contract';
import { ROOT, runCli } from '../e2e/processes';
import { cliEnv } from '../operator/cli-env';
import { eventually } from '../support/eventually';
import { createTestDatabase, getTestServers, type TestDatabase } from '../support/servers';
import { testTrust, writeTestKeys } from '../support/trust';
import { workerBundleFile } from '../support/worker-bundle';

/** What a terminal acts on, but the line break that ends a line: C0 controls, DEL and the C1 controls. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
/** The payload: sets the clipboard to `hello`, then wipes the line and writes over it. */
const HOSTILE = '\u001b]52;c;aGVsbG8=\u0007\r\u001b[2K';
const SHOWN = '\\u001b]52;c;aGVsbG8=\\u0007\\u000d\\u001b[2K';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-operator-terminal-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('gatehouse start', () => {
  it("escapes the controls in a line of the stack's log", async () => {
    const r = await runCli(['start', '--ui-port', `${HOSTILE}gatehouse is running`], cliEnv(join(dir, 'start')));
    assert.equal(r.code, 2, r.stderr);
    assert.doesNotMatch(r.stderr, CONTROL, JSON.stringify(r.stderr));
    assert.equal(r.stderr, `gatehouse: --ui-port must be a port number, got \`${SHOWN}gatehouse is running\`\n`);
  });
});

describe("Temporal's logger", () => {
  it("writes the SDK's line with every control escaped and the lines after the first indented", () => {
    const error = ApplicationFailure.nonRetryable(`session start refused: the start names agent \`${HOSTILE}\`\n2026-01-01T00:00:00.000Z [INFO] all clear`, 'SessionStartRefusedError');
    const text = escapedLogText({ level: 'WARN', message: 'Activity failed', meta: { error, workflowId: `session-${HOSTILE}` }, timestampNanos: 1_767_225_600_000_000_000n });
    assert.doesNotMatch(text, CONTROL, text);
    const [first, ...rest] = text.split('\n');
    assert.match(first!, /^2026-01-01T00:00:00\.000Z \[WARN\] Activity failed \{$/);
    assert.ok(text.includes(`ApplicationFailure: session start refused: the start names agent \`${SHOWN}\``), text);
    assert.ok(rest.length > 2, text);
    for (const line of rest) assert.match(line, /^ {2}/, 'only the entry\'s first line starts at the margin');
  });
});

describe('the worker process (worker/main.ts)', () => {
  let audit: TestDatabase;
  let production: TestDatabase;
  let worker: ChildProcess | undefined;
  let stderr = '';
  let client: Client;
  let connection: Connection;
  const taskQueue = `operator-terminal-${randomUUID()}`;

  before(async () => {
    const servers = await getTestServers();
    audit = await createTestDatabase('op_terminal_audit');
    production = await createTestDatabase('op_terminal_prod');
    // An upstream server that writes the payload on stdout (a line that is no JSON-RPC) and on stderr, then exits.
    const server = [
      `process.stdout.write(${JSON.stringify(`${HOSTILE}\n`)});`,
      `process.stderr.write(${JSON.stringify(`x${HOSTILE}gatehouse worker: upstream \`echo\`: connected\n`)});`,
      'process.stdin.once("data", () => process.exit(1));',
    ].join('\n');
    const config = join(dir, 'gatehouse.yaml');
    writeFileSync(config, `mcp:\n  upstreams:\n    echo:\n      command: ${JSON.stringify(process.execPath)}\n      args: ["-e", ${JSON.stringify(server)}]\n`);
    const env: NodeJS.ProcessEnv = {
      ...cliEnv(join(dir, 'worker')),
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_NAMESPACE: servers.namespace,
      GATEHOUSE_TASK_QUEUE: taskQueue,
      DATABASE_URL: audit.url,
      GATEHOUSE_PRODUCTION_DATABASE_URL: production.url,
      GATEHOUSE_KEYS: writeTestKeys(join(dir, 'keys')),
      GATEHOUSE_CONFIG: config,
      GATEHOUSE_WORKFLOW_BUNDLE: await workerBundleFile(dir),
    };
    worker = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'worker', 'main.ts')], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    worker.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    connection = await Connection.connect({ address: servers.temporalAddress });
    client = new Client({ connection, namespace: servers.namespace });
  });
  after(async () => {
    if (worker && worker.exitCode === null) {
      const exited = new Promise((resolve) => worker!.once('exit', resolve));
      worker.kill('SIGTERM');
      await exited;
    }
    await connection?.close();
    await audit?.drop();
    await production?.drop();
  });

  it("escapes what an upstream server wrote and what the SDK logs of an agent's failed workflow and activity", async () => {
    // Anyone on the dev stack's namespace can start Gatehouse's workflows: an admissions workflow
    // under an id of its choosing fails naming the id, and a session start naming an agent id is refused.
    const admissions = await client.workflow.start('gatehouseAdmissions', { taskQueue, workflowId: `${HOSTILE}gatehouse-${randomUUID()}`, args: [] });
    const credential = await testTrust().credential('mallory-bot', 'eng-007');
    const sessionId = `op-terminal-${randomUUID()}`;
    const session = await client.workflow.start(SESSION_WORKFLOW_TYPE, {
      taskQueue,
      workflowId: `session-${sessionId}`,
      args: [{ sessionId, credential, agentId: HOSTILE, intent: 'look around' }],
    });
    await assert.rejects(admissions.result());
    await assert.rejects(session.result());
    await eventually(
      () => ['upstream `echo`: down', 'not valid JSON', 'is not an admissions id', 'Activity failed', 'the start names agent'].every((t) => stderr.includes(t)),
      { what: 'the worker logged the upstream, the failed workflow and the failed activity' },
    );
    assert.doesNotMatch(stderr, CONTROL, JSON.stringify(stderr));
    for (const shown of [`(stderr: x${SHOWN}gatehouse worker: upstream \`echo\`: connected)`, `\`${SHOWN}gatehouse-`, `the start names agent \`${SHOWN}\``]) assert.ok(stderr.includes(shown), `${shown} in ${stderr}`);
    // Every line is the worker's own, an SDK entry's first line, or a continuation of one.
    for (const line of stderr.split('\n').filter((l) => l !== '')) assert.match(line, /^(gatehouse worker: |\d{4}-\d\d-\d\dT[\d:.]+Z \[[A-Z]+\] | )/, line);
  });
});
