/**
 * End to end, as a user on a fresh machine: `gatehouse start` runs as a process on embedded
 * defaults (its own Temporal dev server and PostgreSQL, in a temporary data folder), every demo
 * scenario runs as `gatehouse demo <name> --json` from "a second terminal" that knows nothing but
 * the stack file, and the outcomes are checked where they are true: the audit trail and the
 * production database, not the demo's own words. Then `gatehouse audit verify` must pass and
 * every session's workflow history must replay against today's code (`gatehouse replay`, one
 * workflow bundle for all). Each test stands alone: it starts the sessions it checks. (The resume
 * demo's crash is tested where it can be timed exactly: test/workflows/durability.test.ts.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { spawn } from 'node:child_process';
import { parseJsonOutput, runCli, startStack, type RunningStack } from './processes';
import type { DemoReport } from '../../demo';
import { SAMPLE_TEST_RECORDS } from '../../activities/tools/sample/seed';
import { eventually } from '../support/eventually';
import { installClientPackage, readmeAgent } from '../support/agent-package';

/** Variables that would point a process somewhere else than this test's stack. */
const STRIPPED = [
  'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_API_KEY',
  'GATEHOUSE_TASK_QUEUE', 'GATEHOUSE_STACK_FILE', 'GATEHOUSE_POLICY', 'GATEHOUSE_POLICIES', 'GATEHOUSE_CATALOG',
  'GATEHOUSE_KEYS', 'GATEHOUSE_ENV', 'GATEHOUSE_AGENT_TOKEN', 'GATEHOUSE_SLACK_SIGNING_KEY',
  'DATABASE_URL', 'GATEHOUSE_PRODUCTION_DATABASE_URL',
  'SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'SLACK_API_URL',
];

function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of STRIPPED) delete env[k];
  return env;
}

describe('gatehouse end to end: the demo scenarios against a started stack', { timeout: 600_000 }, () => {
  let audit: pg.Pool;
  let production: pg.Pool;
  let dataDir: string;
  let stack: RunningStack | undefined;
  /** What a user's second terminal has: nothing but the stack file the running stack wrote. */
  let userEnv: NodeJS.ProcessEnv;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-'));
    // The embedded PostgreSQL runs as its own user (we may be root): it must reach its folder.
    await chmod(dataDir, 0o755);
    // A key folder of its own: the user's real keys must not stand in for the stack's development keys.
    userEnv = { ...baseEnv(), GATEHOUSE_DATA_DIR: dataDir, XDG_CONFIG_HOME: join(dataDir, 'config') };
    stack = await startStack(userEnv, join(dataDir, 'stack.json'));
    const file = stack.stackFile as { databaseUrl: string; productionDatabaseUrl: string };
    audit = new pg.Pool({ connectionString: file.databaseUrl, max: 2 });
    production = new pg.Pool({ connectionString: file.productionDatabaseUrl, max: 2 });
  });

  after(async () => {
    await Promise.allSettled([audit?.end(), production?.end()]);
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function demo(name: string, ...flags: string[]): Promise<DemoReport> {
    const report = parseJsonOutput<DemoReport>(`gatehouse demo ${name}`, await runCli(['demo', name, '--json', ...flags], userEnv, 400_000));
    assert.equal(report.traces.length, report.sessionIds.length, 'the demo ends with a trace of every session');
    return report;
  }

  async function events(sessionId: string): Promise<{ kind: string; tool: string | null; proposal_seq: number | null; approver: string | null; decision: { verdict: string; reasons: { rule: string }[] } | null; detail: Record<string, unknown> | null }[]> {
    const r = await audit.query('SELECT kind, tool, proposal_seq, approver, decision, detail FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
    return r.rows;
  }

  async function count(sql: string, params: unknown[] = []): Promise<number> {
    const r = await production.query<{ n: string }>(sql, params);
    return Number(r.rows[0]?.n);
  }

  const testRows = (period: string) =>
    count("SELECT count(*)::text AS n FROM billing_records WHERE is_test AND billed_at >= $1::date AND billed_at < $1::date + interval '1 month'", [`${period}-01`]);
  const monthRows = (period: string) =>
    count("SELECT count(*)::text AS n FROM billing_records WHERE billed_at >= $1::date AND billed_at < $1::date + interval '1 month'", [`${period}-01`]);

  it('billing-cleanup: the 14,200-row delete waits for a human who denies it; the rows are still there', async () => {
    const r = await demo('billing-cleanup');
    const f = r.facts as Record<string, any>;
    const sessionId = r.sessionIds[0]!;
    const before = await testRows(f.period);
    assert.equal(before, SAMPLE_TEST_RECORDS, "the sample data has the incident's test rows");
    assert.equal(f.testBefore, before);
    assert.equal(f.blastRadius, before, 'the approver was shown the blast radius');

    const trail = await events(sessionId);
    const deletes = trail.filter((e) => e.tool === 'billing.deleteRecords');
    // Above the hard cap: denied outright, never put to a human.
    const overCap = deletes.filter((e) => e.proposal_seq === deletes[0]!.proposal_seq);
    assert.ok(overCap.some((e) => e.kind === 'decided' && e.decision?.verdict === 'deny' && e.decision.reasons.some((x) => x.rule === 'blast-radius.cap')));
    assert.ok(!overCap.some((e) => e.kind === 'approval-requested'));
    // Narrowed: held, then denied by a person (not the agent, not its owner).
    assert.ok(deletes.some((e) => e.kind === 'approval-requested'));
    const denial = deletes.find((e) => e.kind === 'denied');
    assert.ok(denial?.approver, 'a named approver denied it');
    assert.notEqual(denial.approver, 'billing-bot');
    assert.notEqual(denial.approver, 'intern-042');
    assert.ok(!deletes.some((e) => e.kind === 'executed'), 'no delete ran');
    const approval = await audit.query('SELECT status, decided_by FROM approvals WHERE approval_id = $1', [f.approvalId]);
    assert.equal(approval.rows[0]?.status, 'denied');

    assert.equal(await testRows(f.period), before, 'every test row is still there');
  });

  it('volume-cleanup: list then unmount is a forbidden transition; the unlock request lands as an approval', async () => {
    const r = await demo('volume-cleanup');
    const f = r.facts as Record<string, any>;
    assert.equal(f.listStatus, 'executed');
    assert.equal(f.unmountStatus, 'denied');
    const trail = await events(r.sessionIds[0]!);
    const unmounts = trail.filter((e) => e.tool === 'volumes.unmount');
    assert.ok(unmounts.some((e) => e.kind === 'decided' && e.decision?.reasons.some((x) => x.rule === 'transition.forbidden')));
    assert.ok(unmounts.some((e) => e.kind === 'approval-requested'), 'the out-of-band unlock is an approval request');
    assert.ok(!unmounts.some((e) => e.kind === 'executed'));
    const approval = await audit.query("SELECT status, requirement FROM approvals WHERE approval_id = $1", [f.unlockApprovalId]);
    assert.equal(approval.rows[0]?.requirement?.unlocksTransition, true);
    assert.equal(approval.rows[0]?.status, 'denied');
    assert.equal(await count('SELECT count(*)::text AS n FROM volume_mounts WHERE volume_id = $1', [f.volumeId]) > 0, true, 'the volume is still mounted');
  });

  it('runaway: read-only at 80% of the write budget, closed and flagged at 100%; the cost cap stops a token-hungry agent', async () => {
    const r = await demo('runaway');
    const [looper, hungry] = r.sessionIds as [string, string];
    const loopTrail = await events(looper);
    const modes = loopTrail.filter((e) => e.kind === 'mode-changed').map((e) => [e.detail?.from, e.detail?.to]);
    assert.deepEqual(modes, [['normal', 'read-only'], ['read-only', 'closed']], 'the session went read-only, then closed');
    const writes = loopTrail.filter((e) => e.kind === 'executed' && e.tool === 'staging.writeConfig').length;
    assert.equal(writes, 4, 'writes stop at 80% of a budget of 5');
    assert.ok(loopTrail.some((e) => e.kind === 'decided' && e.decision?.reasons.some((x) => x.rule === 'session.read-only')));
    const rows = await audit.query('SELECT session_id, mode, flagged_for_review FROM sessions WHERE session_id = ANY($1)', [[looper, hungry]]);
    const byId = new Map(rows.rows.map((x) => [x.session_id, x]));
    assert.equal(byId.get(looper)?.mode, 'closed');
    assert.equal(byId.get(looper)?.flagged_for_review, true);
    // Three calls of 30% of the cap each ran; the fourth would pass the cap and is denied for it.
    const hungryTrail = await events(hungry);
    assert.equal(hungryTrail.filter((e) => e.kind === 'executed').length, 3);
    const denials = hungryTrail.filter((e) => e.kind === 'decided' && e.decision?.verdict === 'deny').map((e) => e.decision?.reasons.map((x) => x.rule));
    assert.deepEqual(denials, [['cost.cap']]);
    assert.equal(byId.get(hungry)?.mode, 'closed');
    assert.equal(byId.get(hungry)?.flagged_for_review, true);
  });

  it('sub-agent: the child gets a quarter of the parent\'s budget and is denied past it', async () => {
    const r = await demo('sub-agent');
    const f = r.facts as Record<string, any>;
    const [parent, child] = r.sessionIds as [string, string];
    for (const k of ['actions', 'writes', 'tokens'] as const) {
      assert.equal(f.childBudget[k], Math.floor(f.parentBudgetBefore[k] * 0.25), `child ${k}: a quarter of the parent's`);
      assert.equal(f.parentBudgetAfter[k], f.parentBudgetBefore[k] - f.childBudget[k], `parent ${k}: the child's share taken`);
    }
    const childRow = await audit.query('SELECT parent_session_id FROM sessions WHERE session_id = $1', [child]);
    assert.equal(childRow.rows[0]?.parent_session_id, parent);
    const trail = await events(child);
    const executedWrites = trail.filter((e) => e.kind === 'executed' && e.tool === 'staging.writeConfig').length;
    // The example policy's 5 writes: the child's quarter is 1. Its one write runs and uses the
    // share up (the child closes); the next is denied for all three reasons, and the child is told so.
    assert.equal(f.childBudget.writes, 1);
    assert.equal(executedWrites, 1);
    assert.equal(f.childWrites, 1);
    const denials = trail.filter((e) => e.kind === 'decided' && e.decision?.verdict === 'deny').map((e) => e.decision?.reasons.map((x) => x.rule));
    assert.deepEqual(denials, [['session.closed', 'session.read-only', 'budget.writes']]);
    assert.deepEqual(f.deniedRules, denials[0]);
  });

  it('billing-cleanup --approve: a person approves and exactly the test rows go; real invoices stay', async () => {
    const r = await demo('billing-cleanup', '--approve');
    const f = r.facts as Record<string, any>;
    const trail = await events(r.sessionIds[0]!);
    const deletes = trail.filter((e) => e.tool === 'billing.deleteRecords');
    assert.ok(deletes.some((e) => e.kind === 'approved' && e.approver));
    assert.equal(deletes.filter((e) => e.kind === 'executed').length, 1);
    assert.equal(await testRows(f.period), 0);
    assert.equal(await monthRows(f.period), f.monthBefore - f.testBefore, 'only test rows were deleted');
  });

  it('billing-cleanup --approve runs again with the same story (it restores its test rows); `demo reset` seeds the sample data anew', async () => {
    const first = await demo('billing-cleanup', '--approve');
    const second = await demo('billing-cleanup', '--approve');
    for (const r of [first, second]) {
      const f = r.facts as Record<string, any>;
      assert.equal(f.testBefore, SAMPLE_TEST_RECORDS, 'every run starts from the full set of test rows');
      assert.equal(f.outcomeStatus, 'executed');
      assert.equal(f.testAfter, 0);
    }
    const period = (second.facts as Record<string, any>).period as string;
    assert.ok(second.steps.some((s) => /restored 14,237 test records/.test(JSON.stringify(s))), 'the second run says it restored the rows');
    const reset = await runCli(['demo', 'reset'], userEnv, 120_000);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /sample production data reset: 14,237 test billing records in \d{4}-\d{2}/);
    assert.equal(await testRows(period), SAMPLE_TEST_RECORDS);
  });

  it('the README\'s ten-line agent runs as is from an empty project; its delete waits until a person denies it', async () => {
    // As the README says: the package from `npm pack`, a credential from `agents create`, the gateway's URL from the stack.
    const { project } = await installClientPackage(await mkdtemp(join(dataDir, 'agent-')));
    await writeFile(join(project, 'agent.mjs'), await readmeAgent());
    const credential = parseJsonOutput<{ token: string }>('agents create', await runCli(['agents', 'create', 'billing-bot', '--owner', 'eng-007', '--json'], userEnv));
    const gatewayUrl = (stack!.stackFile as { gateway: { url: string } }).gateway.url;
    const agentEnv = { PATH: process.env.PATH ?? '', HOME: dataDir, GATEHOUSE_URL: gatewayUrl, GATEHOUSE_AGENT_TOKEN: credential.token };
    const agent = spawn(process.execPath, ['agent.mjs'], { cwd: project, env: agentEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    agent.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
    agent.stderr.on('data', (c: Buffer) => (out += c.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => agent.once('close', resolve));
    try {
      // From a second terminal: find the held delete, and decide it as a data owner (not the owner, eng-007).
      const pending = await eventually(
        async () => {
          const list = parseJsonOutput<{ approvalId: string; sessionId: string; agentId: string; owner: string; status: string }[]>('approvals list', await runCli(['approvals', 'list', '--json'], userEnv));
          return list.find((a) => a.agentId === 'billing-bot' && a.owner === 'eng-007' && a.status === 'pending');
        },
        { what: "the ten-line agent's delete put to a human", timeoutMs: 60_000, everyMs: 250 },
      );
      // The person decides once the agent has said the call is held (its `wait: 5` ran out), as in the README.
      await eventually(async () => (/^held for approval \S+$/m.test(out) ? true : undefined), { what: 'the agent printing that its delete is held', timeoutMs: 60_000 });
      const owner = await runCli(['approvals', 'deny', pending.approvalId, '--as', 'eng-007', '--reason', 'mine'], userEnv);
      assert.notEqual(owner.code, 0, 'the owner may not decide (four eyes)');
      const deny = await runCli(['approvals', 'deny', pending.approvalId, '--as', 'data-lee', '--reason', 'no backup'], userEnv);
      assert.equal(deny.code, 0, deny.stderr);
      assert.equal(await exited, 0, out);
      assert.match(out, /^held for approval \S+$/m, out);
      assert.match(out, /^denied \[/m, out);
      const trail = await events(pending.sessionId);
      assert.ok(trail.some((e) => e.kind === 'denied' && e.approver === 'data-lee'));
      assert.ok(!trail.some((e) => e.kind === 'executed' && e.tool === 'billing.deleteRecords'));
    } finally {
      agent.kill('SIGKILL');
    }
  });

  it('the development stack\'s keys serve the operator commands: keys list, agents create checks policy names', async () => {
    const keys = parseJsonOutput<{ development: boolean; keys: { principal: string; role: string }[] }>('keys list', await runCli(['keys', 'list', '--json'], userEnv));
    assert.equal(keys.development, true);
    assert.ok(keys.keys.some((k) => k.principal === 'dev-operator' && k.role === 'operator'));
    assert.ok(keys.keys.some((k) => k.principal === 'data-lee' && k.role === 'approver'));
    const made = parseJsonOutput<{ agentId: string; token: string }>('agents create', await runCli(['agents', 'create', 'e2e-bot', '--owner', 'eng-012', '--policy', 'demo', '--json'], userEnv));
    assert.equal(made.agentId, 'e2e-bot');
    const unknown = await runCli(['agents', 'create', 'e2e-bot', '--owner', 'eng-012', '--policy', 'nope'], userEnv);
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'gatehouse: unknown policy `nope`: the worker loads `default`, `demo`, `demo-billing`, `demo-batch`\n');
  });

  it('every session on the stack: its hash chain holds (`gatehouse audit verify`) and its history replays against today\'s code (`gatehouse replay`, one bundle)', async () => {
    // A session of this test's own, so that it checks something when it runs alone.
    const own = await demo('volume-cleanup');
    const r = await runCli(['audit', 'verify'], userEnv);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    const rows = await audit.query<{ session_id: string }>('SELECT session_id FROM sessions ORDER BY session_id');
    const sessionIds = rows.rows.map((x) => x.session_id);
    for (const id of own.sessionIds) assert.ok(sessionIds.includes(id), `session \`${id}\` is on the stack`);
    const replay = await runCli(['replay', '--json', ...sessionIds.map((id) => `session-${id}`)], userEnv);
    assert.equal(replay.code, 0, `${replay.stdout}\n${replay.stderr}`);
    const outcomes = replay.stdout.trim().split('\n').map((line) => JSON.parse(line) as { ok: boolean; workflowId: string });
    assert.deepEqual(outcomes, sessionIds.map((id) => ({ ok: true, workflowId: `session-${id}` })));
  });
});
