/**
 * `@gatehouse/client` as an agent author gets it: `npm pack` of `packages/client` (its `prepack`
 * builds it), installed from the tarball into an empty project, offline (it has no dependencies). The
 * README's ten-line agent — read from the README, which must show `examples/ten-line-agent.ts`
 * exactly — typechecks there against the installed declarations and runs with plain `node` against
 * a real gateway (in this process, on a worker on the real Temporal server and PostgreSQL) with a
 * real agent credential: its delete is held, and a person's deny decides it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { RevocationStore } from '../../audit/credentials';
import { PROBLEMS } from '../../gateway/problems';
import { createGateway } from '../../gateway/server';
import { eventually } from '../support/eventually';
import { ROOT, installClientPackage, readmeAgent, runProcess } from '../support/agent-package';
import { testTrust } from '../support/trust';
import { createHarness, type Harness } from '../workflows/harness';

const AGENT = { agentId: 'billing-bot', owner: 'eng-007' };

let h: Harness;
let gateway: FastifyInstance;
let url: string;
let dir: string;
let project: string;
let tarball: string;
/** Sessions whose agent read a pending proposal's outcome (`GET .../proposals/{id}`). */
const followed = new Set<string>();

/** Only what the agent's own terminal would have: no repository paths, no Temporal address. */
function agentEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...extra };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-agent-package-'));
  [h, { project, tarball }] = await Promise.all([createHarness('agentpkg'), installClientPackage(dir)]);
  gateway = createGateway({ client: h.gh, keyset: testTrust().keyset, revocations: new RevocationStore(h.audit.pool) });
  gateway.addHook('onRequest', async (request) => {
    const poll = /^\/v1\/sessions\/([^/?]+)\/proposals\/[^/?]+/.exec(request.url);
    if (request.method === 'GET' && poll) followed.add(decodeURIComponent(poll[1]!));
  });
  await gateway.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(gateway.server.address() as AddressInfo).port}`;
});

after(async () => {
  await gateway?.close();
  await h?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('@gatehouse/client, installed from its tarball into an empty project', () => {
  it('is ESM with declarations and no dependencies; the README shows examples/ten-line-agent.ts, which typechecks against it', async () => {
    const snippet = await readmeAgent();
    assert.equal(snippet, await readFile(join(ROOT, 'examples', 'ten-line-agent.ts'), 'utf8'), 'the README\'s snippet is examples/ten-line-agent.ts exactly');
    assert.match(snippet, /^import \{ Gatehouse \} from '@gatehouse\/client';$/m);
    const installed = JSON.parse(await readFile(join(project, 'node_modules', '@gatehouse', 'client', 'package.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(installed.type, 'module');
    assert.equal(installed.dependencies, undefined, 'no runtime dependencies');
    assert.deepEqual(await readdir(join(project, 'node_modules')), ['.package-lock.json', '@gatehouse'], 'nothing but the package was installed');
    const dist = await readdir(join(project, 'node_modules', '@gatehouse', 'client', 'dist'));
    for (const file of ['index.js', 'index.d.ts']) assert.ok(dist.includes(file), `dist/${file} is in the tarball ${tarball}`);
    // `.mts`: ESM whatever the project's package.json says, as `agent.mjs` is for node.
    await writeFile(join(project, 'agent.mts'), snippet);
    const tsc = await runProcess(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '--noEmit', '--strict', '--module', 'nodenext', '--target', 'es2022', '--lib', 'es2022,dom', 'agent.mts'], { cwd: project, timeoutMs: 120_000 });
    assert.equal(tsc.code, 0, `the agent typechecks against the installed declarations:\n${tsc.stdout}${tsc.stderr}`);
  });

  it('without a URL or a token the agent stops at once, naming the variable; with a credential the gateway refuses, a typed 401', async () => {
    await writeFile(join(project, 'agent.mjs'), await readmeAgent());
    const noUrl = await runProcess(process.execPath, ['agent.mjs'], { cwd: project, env: agentEnv({}), timeoutMs: 60_000 });
    assert.equal(noUrl.code, 1);
    assert.match(noUrl.stderr, /ConfigurationError: no gateway URL: set `GATEHOUSE_URL`/);
    const noToken = await runProcess(process.execPath, ['agent.mjs'], { cwd: project, env: agentEnv({ GATEHOUSE_URL: url }), timeoutMs: 60_000 });
    assert.equal(noToken.code, 1);
    assert.match(noToken.stderr, /MissingCredentialError: no agent credential: set `GATEHOUSE_AGENT_TOKEN`/);
    const script = [
      "import { Gatehouse, AuthenticationError } from '@gatehouse/client';",
      "const gh = await Gatehouse.connect({ token: 'not-a-credential' });",
      "try { await gh.startSession({ intent: 'anything' }); } catch (err) { console.log(err instanceof AuthenticationError, err.status, err.type); }",
    ].join('\n');
    const refused = await runProcess(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env: agentEnv({ GATEHOUSE_URL: url }), timeoutMs: 60_000 });
    assert.equal(refused.stdout, 'true 401 urn:gatehouse:problem:unauthorized\n', refused.stderr);
  });

  it('maps every problem type the gateway answers to its error class, with Retry-After in seconds', async () => {
    // From the gateway's own table: a code added there fails here until the client maps it.
    const problems = Object.entries(PROBLEMS).map(([code, p]) => ({ code, status: p.status, title: p.title }));
    const script = `
import { errorFromProblem, GatehouseError } from '@gatehouse/client';
const problems = JSON.parse(process.argv[1]);
const out = {};
for (const p of problems) {
  const e = errorFromProblem(p.status, { type: 'urn:gatehouse:problem:' + p.code, title: p.title, status: p.status, detail: 'why' }, '7', 'other');
  out[p.code] = [e.name, e instanceof GatehouseError, e.code, e.detail, e.retryAfter];
}
console.log(JSON.stringify(out));
`;
    const run = await runProcess(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(problems)], { cwd: project, env: agentEnv({}), timeoutMs: 60_000 });
    assert.equal(run.code, 0, run.stderr);
    const mapped = JSON.parse(run.stdout) as Record<string, [string, boolean, string, string, number]>;
    const expected: Record<string, string> = {
      unauthorized: 'AuthenticationError',
      forbidden: 'ForbiddenError',
      'forbidden-origin': 'ForbiddenError',
      'start-refused': 'SessionStartRefusedError',
      'not-found': 'NotFoundError',
      'session-exists': 'SessionExistsError',
      'session-closed': 'SessionClosedError',
      'body-too-large': 'ProposalTooLargeError',
      'unsupported-media-type': 'InvalidRequestError',
      'invalid-request': 'InvalidRequestError',
      'invalid-proposal': 'InvalidProposalError',
      'rate-limited': 'RateLimitedError',
      'too-many-sessions': 'RateLimitedError',
      'too-many-in-flight': 'RateLimitedError',
      unavailable: 'ServiceUnavailableError',
      internal: 'GatehouseError',
    };
    assert.deepEqual(Object.fromEntries(Object.entries(mapped).map(([code, [name]]) => [code, name])), expected);
    for (const [code, [, base, readCode, detail, retryAfter]] of Object.entries(mapped)) assert.deepEqual([base, readCode, detail, retryAfter], [true, code, 'why', 7], code);
  });

  it('its whole surface works against the gateway: a held call followed to its end, state, sub-agents, halt, end, and the gateway\'s problems as typed errors', async () => {
    const script = `
import { Gatehouse, GatehouseError } from '@gatehouse/client';
const failure = async (f) => { try { await f(); return 'no error'; } catch (e) { return { name: e.name, base: e instanceof GatehouseError, status: e.status, code: e.code, paths: (e.errors ?? []).map((x) => x.path) }; } };
const gh = await Gatehouse.connect();
const other = await Gatehouse.connect({ token: process.env.OTHER_TOKEN });
const session = await gh.startSession({ intent: 'list volumes and look up billing records', budget: { actions: 20 } });
const call = { tool: 'volumes.list', args: {}, reasoning: 'look', idempotencyKey: 'look-1' };
const first = await session.propose(call);
const period = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1)).toISOString().slice(0, 7);
// Held for a person: followed with one-second reads until the test's person denies it.
const held = await session.propose({ tool: 'billing.deleteRecords', args: { testOnly: true, period }, reasoning: 'the intent says so' }, { wait: 1 });
const child = await session.spawnChild({ agentId: 'pkg-bot.reader', intent: 'list volumes' });
const childState = await child.state();
await child.halt('done with it');
const state = await session.state();
const report = {
  started: [session.started.agentId, session.started.owner],
  listed: [first.status, first.sequence],
  sessionId: session.sessionId,
  held: [held.status, held.approvalId === session.sessionId + ':2', held.decision.reasons.at(-1).rule],
  child: [child.spawn.status, childState.parentSessionId === session.sessionId, childState.principal],
  state: [state.mode, state.counters.executed],
  invalid: await failure(() => session.propose({ tool: 'volumes.list', args: 'not an object', reasoning: '' })),
  forbidden: await failure(() => other.session(session.sessionId).state()),
  missing: await failure(() => gh.session('no-such-session').state()),
  summary: (await session.end({ reason: 'done' })).finalState,
  closed: await failure(() => session.propose(call)),
};
gh.close();
other.close();
console.log(JSON.stringify(report));
`;
    await writeFile(join(project, 'surface.mjs'), script);
    const env = agentEnv({ GATEHOUSE_URL: url, GATEHOUSE_AGENT_TOKEN: await testTrust().credential('pkg-bot', 'eng-007'), OTHER_TOKEN: await testTrust().credential('pkg-other-bot', 'eng-012') });
    const run = await h.run(async () => {
      const script = runProcess(process.execPath, ['surface.mjs'], { cwd: project, env, timeoutMs: 180_000 });
      const held = await eventually(
        async () => (await h.audit.pool.query<{ approval_id: string; session_id: string }>("SELECT approval_id, session_id FROM approvals WHERE agent_id = 'pkg-bot' AND status = 'pending'")).rows.find((r) => followed.has(r.session_id)),
        { what: 'the script to follow its held delete', timeoutMs: 120_000, everyMs: 200 },
      );
      await h.vote(held.session_id, held.approval_id, 'alice', false, { reason: 'no backup' });
      return script;
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    const error = (name: string, status: number, code: string, paths: string[] = []) => ({ name, base: true, status, code, paths });
    const { sessionId, ...report } = JSON.parse(run.stdout) as Record<string, unknown>;
    assert.ok(followed.has(sessionId as string), 'the held call was followed by reading its outcome');
    assert.deepEqual(report, {
      started: ['pkg-bot', 'eng-007'],
      listed: ['executed', 1],
      held: ['denied', true, 'approval.denied'],
      child: ['started', true, 'pkg-bot'],
      state: ['normal', 1],
      invalid: error('InvalidProposalError', 422, 'invalid-request', ['body.args']),
      forbidden: error('ForbiddenError', 403, 'forbidden'),
      missing: error('SessionNotFoundError', 404, 'not-found'),
      summary: 'completed',
      closed: error('SessionClosedError', 409, 'session-closed'),
    });
  });

  it('runs with plain node and a real credential: its delete is held, the person denies it, nothing is deleted, the session ends', async (t) => {
    await writeFile(join(project, 'agent.mjs'), await readmeAgent());
    const token = await testTrust().credential(AGENT.agentId, AGENT.owner);
    const testRows = async () => Number((await h.production.pool.query<{ n: string }>('SELECT count(*) AS n FROM billing_records WHERE is_test')).rows[0]!.n);
    const testRowsBefore = await testRows();
    await h.run(async () => {
      const agent = spawn(process.execPath, ['agent.mjs'], { cwd: project, env: agentEnv({ GATEHOUSE_URL: url, GATEHOUSE_AGENT_TOKEN: token }), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      agent.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      agent.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      const exited = new Promise<number | null>((done) => agent.once('close', done));
      try {
        // The person's second terminal: the agent says what it waits for, and the approval is pending.
        const approvalId = await eventually(() => /^held for approval (\S+)$/m.exec(out)?.[1], { what: `the agent to print its held delete (so far: ${JSON.stringify(out)})`, timeoutMs: 120_000, everyMs: 100 });
        const row = await h.audit.pool.query<{ session_id: string; status: string; tool: string; agent_id: string }>('SELECT session_id, status, tool, agent_id FROM approvals WHERE approval_id = $1', [approvalId]);
        assert.deepEqual(row.rows.map((r) => ({ status: r.status, tool: r.tool, agent: r.agent_id })), [{ status: 'pending', tool: 'billing.deleteRecords', agent: AGENT.agentId }]);
        const sessionId = row.rows[0]!.session_id;
        await h.vote(sessionId, approvalId, 'alice', false, { reason: 'no backup' });
        assert.equal(await exited, 0, `${out}\n${err}`);
        t.diagnostic(out.trimEnd().replace(/\n/g, ' | '));
        const lines = out.trimEnd().split('\n');
        assert.equal(lines.length, 3, out);
        assert.match(lines[0]!, /^executed \d+ test records$/);
        assert.equal(lines[1], `held for approval ${approvalId}`);
        assert.match(lines[2]!, /^denied \[ .*'approval\.denied' \]$/, "the rules that decided, the person's deny last");
        const events = await h.events(sessionId);
        assert.ok(events.some((e) => e.kind === 'denied' && e.approver === 'alice'), 'the person\'s deny is in the trail');
        assert.ok(!events.some((e) => e.kind === 'executed' && e.tool === 'billing.deleteRecords'), 'the delete never ran');
        const session = await h.audit.pool.query<{ final_state: string | null }>('SELECT final_state FROM sessions WHERE session_id = $1', [sessionId]);
        assert.equal(session.rows[0]?.final_state, 'completed', 'the agent ended its session');
        assert.equal(await testRows(), testRowsBefore, 'every test record is still there');
      } finally {
        agent.kill('SIGKILL');
      }
    });
  });
});
