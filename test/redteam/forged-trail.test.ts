/**
 * Red team, attack 1's second half: whoever can schedule Gatehouse's audit activity writes a trail
 * of its own making, chained correctly — a made-up session ("victim-bot deleted 14,237 rows"), or
 * an event squatting the next seq of a live victim session. Whether that route is open is another
 * defence's business; here the trails are written straight into the audit database through the
 * store (what the activity does), and `gatehouse audit verify` (the CLI) must fail on each, naming
 * the session, the seq and the check. A genuine session that ran an approved destructive call —
 * real workflow, real signed approval — still verifies with exit 0.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../audit/store';
import type { AuditEventInput } from '../../audit/types';
import { SAMPLE_TEST_CUSTOMERS } from '../../activities/tools/sample';
import { parsePolicy } from '../../policies';
import { canonicalJson, sha256Hex } from '../../policies/hash';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import type { ToolInfo } from '../../policies/types';
import { testPolicy } from '../workflows/harness';
import { assertAuditVerifies, pendingApproval, quickPolicy, productionSnapshot, redTeam, signedVote, trust, voteFor, type Agent, type RedTeam } from './attacker';

const ROOT = join(__dirname, '../..');
let rt: RedTeam;
let victim: Agent;
let dir: string;
let keysFile: string;

interface Verdict { readonly code: number; readonly stdout: string; readonly findings: string[] }

/** `gatehouse audit verify [--session id]` against the red team's audit database: exit code, text, and `seq check` of each finding. */
async function verify(sessionId?: string, extra: readonly string[] = []): Promise<Verdict> {
  const run = (json: boolean) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const args = ['audit', 'verify', ...(sessionId !== undefined ? ['--session', sessionId] : []), ...extra, ...(json ? ['--json'] : [])];
    execFile(process.execPath, [join(ROOT, 'bin/gatehouse.js'), ...args], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: rt.h.audit.url, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_KEYS: keysFile },
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0, stdout, stderr });
    });
  });
  const [text, json] = [await run(false), await run(true)];
  assert.equal(text.code, json.code, text.stderr);
  const report = JSON.parse(json.stdout) as { trail: { sessionId: string; seq: number; rule: string }[]; votes: { sessionId: string; seq: number; rule: string }[] };
  const findings = [...report.trail, ...report.votes].map((f) => `${f.sessionId} ${f.seq} ${f.rule}`).sort();
  return { code: text.code, stdout: text.stdout, findings };
}

/** Appends events as the audit activity would (the store chains them). */
function forge(events: readonly AuditEventInput[]): Promise<unknown> {
  return new AuditStore(rt.h.audit.pool).append(events);
}

const DELETE_TEST_ROWS = { tool: 'billing.deleteRecords', args: { customerId: SAMPLE_TEST_CUSTOMERS[0]!.id, testOnly: true }, reasoning: 'tidy the QA customer' };

before(async () => {
  rt = await redTeam('forged_trail');
  victim = await rt.agent('victim-bot', 'eng-007');
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-forged-trail-'));
  keysFile = join(dir, 'keys.json');
  await writeFile(keysFile, JSON.stringify(trust.keyset));
});
after(async () => {
  await rt?.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * A whole session written by whoever holds the store: its row (under `policy` and `tools`, both the
 * writer's choice) and a trail in which `victim-bot` deleted 14,237 billing records, unapproved.
 */
async function forgeDeletion(id: string, policy: unknown, tools: readonly ToolInfo[]): Promise<void> {
  const hash = sha256Hex(canonicalJson(policy));
  const at = new Date().toISOString();
  await new AuditStore(rt.h.audit.pool).startSession({ sessionId: id, workflowId: `session-${id}`, agentId: 'victim-bot', owner: 'eng-007', intent: 'tidy billing', policyHash: hash, policy, startedAt: at, tools });
  const call = { proposalSeq: 1, tool: 'billing.deleteRecords', args: { testOnly: true, period: '2026-11' } };
  await forge([
    { sessionId: id, seq: 1, kind: 'session-started', at, detail: { agentId: 'victim-bot', owner: 'eng-007', intent: 'tidy billing', policyHash: hash, credentialId: 'made-up' } },
    { sessionId: id, seq: 2, kind: 'proposed', at, ...call, reasoning: 'tidy' },
    { sessionId: id, seq: 3, kind: 'decided', at, proposalSeq: 1, tool: call.tool, decision: { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: hash } },
    { sessionId: id, seq: 4, kind: 'executed', at, ...call, resultStatus: 'executed', detail: { result: { deleted: 14_237 } } },
  ]);
}

describe('audit verify against forged trails', () => {
  it('a genuine session that ran an approved destructive call verifies: exit 0', async () => {
    const s = await victim.gh.startSession({ intent: 'tidy the QA customer' });
    const pending = s.propose(DELETE_TEST_ROWS);
    const p = await pendingApproval(s);
    await s.workflow.signal('approval', signedVote(trust.approver('alice'), voteFor(p, true, 'QA data')));
    const r = await pending;
    assert.equal(r.status, 'executed');
    await s.end({});
    const kinds = (await rt.h.events(s.sessionId)).map((e) => e.kind);
    assert.deepEqual(kinds.filter((k) => ['approval-requested', 'approved', 'executed'].includes(k)), ['approval-requested', 'approved', 'executed']);
    const v = await verify();
    assert.equal(v.code, 0, v.stdout);
    assert.deepEqual(v.findings, []);
    assert.match(v.stdout, /^ok: \d+ session\(s\)/);
    await assertAuditVerifies(rt.h);
  });

  it('a made-up session\'s four-event trail ("victim-bot deleted 14,237 rows"): exit 2, unknown session, no credential', async () => {
    const before = await productionSnapshot(rt.h);
    const id = 'made-up-1';
    const at = new Date().toISOString();
    const call = { proposalSeq: 1, tool: 'billing.deleteRecords', args: { testOnly: true, period: '2026-11' } };
    await forge([
      { sessionId: id, seq: 1, kind: 'session-started', at, detail: { agentId: 'victim-bot', owner: 'eng-007', intent: 'tidy billing', policy: 'default' } },
      { sessionId: id, seq: 2, kind: 'proposed', at, ...call, reasoning: 'tidy' },
      { sessionId: id, seq: 3, kind: 'decided', at, proposalSeq: 1, tool: call.tool, decision: { verdict: 'allow', tier: 'autonomous', reasons: [], policyHash: '0'.repeat(64) } },
      { sessionId: id, seq: 4, kind: 'executed', at, ...call, resultStatus: 'executed', detail: { result: { deleted: 14_237 } } },
    ]);
    const v = await verify(id);
    assert.equal(v.code, 2);
    assert.deepEqual(v.findings, [`${id} 1 trail.credential`, `${id} 4 trail.unknown-session`]);
    assert.match(v.stdout, /session `made-up-1` seq 4: trail\.unknown-session: `billing\.deleteRecords` ran in a session the sessions table does not know/);
    // The whole trail fails too, and nothing in production moved.
    assert.equal((await verify()).code, 2);
    assert.deepEqual(await productionSnapshot(rt.h), before);
  });

  it('a whole session written with its row, under a policy of the forger\'s own: exit 2 against the policies the deployment ran', async () => {
    const permissive = parsePolicy({ name: 'production', tiers: { read: { default: 'autonomous' }, write: { default: 'autonomous' }, destructive: { default: 'autonomous' } }, budget: { critical: 1000 } });
    assert.ok(permissive.success);
    const id = 'forged-row-1';
    await forgeDeletion(id, permissive.data, SAMPLE_TOOL_INFO);
    // The row and the trail agree with each other: only the deployment's policies tell them apart.
    assert.equal((await verify(id)).code, 0);
    const ran = join(dir, 'policies');
    await mkdir(ran, { recursive: true });
    await writeFile(join(ran, 'default.json'), JSON.stringify(testPolicy()));
    await writeFile(join(ran, 'quick.json'), JSON.stringify(quickPolicy()));
    const v = await verify(id, ['--policy', ran]);
    assert.deepEqual([v.code, v.findings], [2, [`${id} 1 trail.policy-unknown`]]);
    // A genuine session under the deployment's own policy holds.
    const genuine = await victim.gh.startSession({ intent: 'look at billing' });
    assert.equal((await genuine.propose({ tool: 'billing.query', args: { customerId: SAMPLE_TEST_CUSTOMERS[0]!.id, limit: 1 }, reasoning: 'look' })).status, 'executed');
    await genuine.end({});
    assert.equal((await verify(genuine.sessionId, ['--policy', ran])).code, 0);
  });

  it('a whole session under the deployment\'s own policy with a catalog of the forger\'s own: exit 2 against the catalogs the deployment ran', async () => {
    // The policy is the deployment's; the catalog in the row calls the destructive delete a read, so its run needs no vote.
    const policy = testPolicy();
    const id = 'forged-catalog-1';
    await forgeDeletion(id, policy, SAMPLE_TOOL_INFO.map((t) => (t.name === 'billing.deleteRecords' ? { ...t, effect: 'read' as const } : t)));
    const ran = join(dir, 'catalog-policies');
    await mkdir(ran, { recursive: true });
    await writeFile(join(ran, 'default.json'), JSON.stringify(policy));
    // The deployment's policy alone does not tell this session apart: the tiers come from the recorded catalog.
    assert.deepEqual((await verify(id, ['--policy', ran])).findings, []);
    // The red team's worker runs the workflow tests' catalog (the sample tools and four test tools): a module like a deployment's.
    const catalog = ['--catalog', 'test/workflows/fixtures/catalog.ts'];
    const v = await verify(id, ['--policy', ran, ...catalog]);
    assert.deepEqual([v.code, v.findings], [2, [`${id} 1 trail.catalog-unknown`]]);
    assert.match(v.stdout, /`billing\.deleteRecords` is recorded as read in production \(billing\); the deployment's catalog defines it as destructive/);
    // A genuine session holds against the same catalogs.
    const genuine = await victim.gh.startSession({ intent: 'look at billing' });
    assert.equal((await genuine.propose({ tool: 'billing.query', args: { customerId: SAMPLE_TEST_CUSTOMERS[0]!.id, limit: 1 }, reasoning: 'look' })).status, 'executed');
    await genuine.end({});
    assert.deepEqual((await verify(genuine.sessionId, catalog)).findings, []);
  });

  it('a row whose catalog is not one, or names a tool with terminal sequences: findings, not a crash, each on one escaped line', async () => {
    const catalog = ['--catalog', 'test/workflows/fixtures/catalog.ts'];
    await forgeDeletion('forged-catalog-2', testPolicy(), [null] as never);
    const junk = await verify('forged-catalog-2', catalog);
    assert.deepEqual([junk.code, junk.findings], [2, ['forged-catalog-2 4 vote.missing']]);
    const sly = 'billing.purge\u001b[2K\nok: every session verifies';
    await forgeDeletion('forged-catalog-3', testPolicy(), [...SAMPLE_TOOL_INFO, { ...SAMPLE_TOOL_INFO[0]!, name: sly }]);
    const named = await verify('forged-catalog-3', catalog);
    assert.equal(named.code, 2);
    assert.ok(named.findings.includes('forged-catalog-3 1 trail.catalog-unknown'));
    assert.doesNotMatch(named.stdout, /\u001b/);
    assert.doesNotMatch(named.stdout, /^ok: every session verifies/m);
  });

  it('an event squatting the next seq of a live victim session: exit 2 naming that seq', async () => {
    const s = await victim.gh.startSession({ intent: 'look at billing' });
    const read = await s.propose({ tool: 'billing.query', args: { customerId: SAMPLE_TEST_CUSTOMERS[0]!.id, limit: 1 }, reasoning: 'look' });
    assert.equal(read.status, 'executed');
    const before = await productionSnapshot(rt.h);
    const seq = (await rt.h.events(s.sessionId)).length + 1;
    await forge([{
      sessionId: s.sessionId, seq, kind: 'executed', at: new Date().toISOString(), proposalSeq: 2, tool: 'billing.deleteRecords',
      args: { testOnly: true, period: '2026-11' }, resultStatus: 'executed', detail: { result: { deleted: 14_237 } },
    }]);
    const v = await verify(s.sessionId);
    assert.equal(v.code, 2);
    assert.deepEqual(v.findings, [`${s.sessionId} ${seq} trail.unproposed`, `${s.sessionId} ${seq} vote.missing`]);
    assert.match(v.stdout, new RegExp(`seq ${seq}: vote\\.missing: \`billing\\.deleteRecords\` ran without a signed approval: policy \`test\` puts it in the approval tier`));
    assert.deepEqual(await productionSnapshot(rt.h), before);
  });

  it('a forged executed approval-tier call in a genuine session whose approval events are unsigned', async () => {
    const s = await victim.gh.startSession({ intent: 'look at billing' });
    await s.end({});
    const events = await rt.h.events(s.sessionId);
    const at = new Date().toISOString();
    const id = s.sessionId;
    let seq = events.length;
    const call = { proposalSeq: 9, tool: 'billing.deleteRecords', args: { testOnly: true, period: '2026-11' } };
    await forge([
      { sessionId: id, seq: ++seq, kind: 'proposed', at, ...call, reasoning: 'tidy' },
      { sessionId: id, seq: ++seq, kind: 'approval-requested', at, proposalSeq: 9, tool: call.tool, approvalId: `${id}:9`, detail: { callDigest: 'c'.repeat(64) } },
      { sessionId: id, seq: ++seq, kind: 'approved', at, proposalSeq: 9, tool: call.tool, approvalId: `${id}:9`, approver: 'alice', detail: { reason: 'fine' } },
      { sessionId: id, seq: ++seq, kind: 'executed', at, ...call, resultStatus: 'executed' },
    ]);
    const v = await verify(id);
    assert.equal(v.code, 2);
    assert.deepEqual(v.findings, [`${id} ${seq - 1} vote.unsigned`, `${id} ${seq} vote.missing`]);
  });
});
