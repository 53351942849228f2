/**
 * The Python client as an agent author installs it: its wheel built from `clients/python`
 * (`pip wheel --no-deps`; the build backend comes from PyPI), installed into a fresh venv (its
 * dependencies httpx and pydantic from PyPI), imported from there and nowhere else, and
 * `examples/ten_line_agent.py`, copied out of the clone, run with it against a real gateway (in this
 * process, on a worker on the real Temporal server and PostgreSQL) with a real agent credential:
 * its delete is held, and a person's deny decides it. Each step has its own time limit.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RevocationStore } from '../../audit/credentials';
import { createGateway } from '../../gateway/server';
import { ROOT, runProcess, type Run } from '../support/agent-package';
import { eventually } from '../support/eventually';
import { venvPython } from '../../worker/devstack/python-venv';
import { testTrust } from '../support/trust';
import { createHarness, type Harness } from '../workflows/harness';

const AGENT = { agentId: 'py-wheel-bot', owner: 'eng-007' };
/** Longest a build or an install from PyPI may take before the test fails. */
const PIP_TIMEOUT_MS = 5 * 60_000;

let h: Harness;
let gateway: FastifyInstance;
let url: string;
let dir: string;
/** The fresh venv's interpreter, with the wheel installed. */
let python: string;
let wheel: string;

/** pip's environment: the network settings of this one, none of the project's Python paths. */
function pipEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONDONTWRITEBYTECODE: '1' };
  delete env.PYTHONPATH;
  delete env.VIRTUAL_ENV;
  return env;
}

function ok(what: string, r: Run): Run {
  assert.equal(r.code, 0, `${what} exited ${r.code ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** Builds the wheel and installs it into a fresh venv under `dir`. */
async function installWheel(): Promise<void> {
  const dist = join(dir, 'dist');
  ok('pip wheel', await runProcess(venvPython(ROOT), ['-m', 'pip', 'wheel', '--no-deps', join(ROOT, 'clients', 'python'), '-w', dist], { cwd: dir, env: pipEnv(), timeoutMs: PIP_TIMEOUT_MS }));
  const wheels = (await readdir(dist)).filter((f) => f.endsWith('.whl'));
  assert.equal(wheels.length, 1, `pip wheel left ${wheels.join(', ')}`);
  wheel = join(dist, wheels[0]!);
  ok('python3 -m venv', await runProcess('python3', ['-m', 'venv', join(dir, 'v')], { cwd: dir, env: pipEnv(), timeoutMs: 120_000 }));
  python = join(dir, 'v', 'bin', 'python');
  ok('pip install', await runProcess(python, ['-m', 'pip', 'install', wheel], { cwd: dir, env: pipEnv(), timeoutMs: PIP_TIMEOUT_MS }));
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-wheel-'));
  [h] = await Promise.all([createHarness('pywheel'), installWheel()]);
  gateway = createGateway({ client: h.gh, keyset: testTrust().keyset, revocations: new RevocationStore(h.audit.pool) });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
});

after(async () => {
  await gateway?.close();
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the Python client, installed from its wheel into a fresh venv', () => {
  it('imports from the venv, not the clone', async () => {
    assert.match(wheel, /gatehouse_client-[\d.]+-py3-none-any\.whl$/);
    const where = ok('import', await runProcess(python, ['-c', 'import gatehouse, importlib.metadata as m; print(gatehouse.__file__); print(m.version("gatehouse-client"))'], { cwd: dir, env: { PATH: process.env.PATH ?? '' }, timeoutMs: 60_000 }));
    const [file, version] = where.stdout.trim().split('\n');
    assert.ok(file!.startsWith(join(dir, 'v', 'lib')), `gatehouse comes from the venv's site-packages, not ${file}`);
    assert.match(version!, /^\d+\.\d+\.\d+/);
  });

  it('runs examples/ten_line_agent.py: its delete is held, the person denies it, nothing is deleted', async (t) => {
    await copyFile(join(ROOT, 'examples', 'ten_line_agent.py'), join(dir, 'ten_line_agent.py'));
    const token = await testTrust().credential(AGENT.agentId, AGENT.owner);
    const env = { PATH: process.env.PATH ?? '', HOME: dir, PYTHONUNBUFFERED: '1', GATEHOUSE_URL: url, GATEHOUSE_AGENT_TOKEN: token };
    const worker = await h.worker();
    await worker.runUntil(async () => {
      const agent = spawn(python, ['ten_line_agent.py'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      agent.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      agent.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const exited = new Promise<number | null>((done) => agent.once('close', done));
      try {
        const approvalId = await eventually(() => /^held for approval (\S+)$/m.exec(out)?.[1], { what: `the agent to print its held delete (so far: ${JSON.stringify(out + err)})`, timeoutMs: 120_000, everyMs: 100 });
        const row = await h.audit.pool.query<{ session_id: string; status: string; tool: string }>('SELECT session_id, status, tool FROM approvals WHERE approval_id = $1 AND agent_id = $2', [approvalId, AGENT.agentId]);
        assert.deepEqual(row.rows.map((r) => [r.status, r.tool]), [['pending', 'billing.deleteRecords']]);
        await h.vote(row.rows[0]!.session_id, approvalId, 'alice', false, { reason: 'no backup' });
        assert.equal(await exited, 0, `${out}\n${err}`);
        t.diagnostic(out.trimEnd().replace(/\n/g, ' | '));
        const lines = out.trimEnd().split('\n');
        assert.equal(lines.length, 3, out);
        assert.match(lines[0]!, /^executed \d+ test records$/);
        assert.equal(lines[1], `held for approval ${approvalId}`);
        assert.match(lines[2]!, /^denied \[.*'approval\.denied'.*\]$/);
        const events = await h.events(row.rows[0]!.session_id);
        assert.ok(events.some((e) => e.kind === 'denied' && e.approver === 'alice'), 'the person\'s deny is in the trail');
        assert.ok(!events.some((e) => e.kind === 'executed' && e.tool === 'billing.deleteRecords'), 'the delete never ran');
      } finally {
        agent.kill('SIGKILL');
      }
    });
  });
});
