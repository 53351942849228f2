/**
 * `gatehouse audit verify` believes the session's record and policy, not the trail's story. Each
 * trail here is written straight into a real PostgreSQL through `AuditStore` (correct hash
 * chaining: what a forger scheduling the audit activity would write), then checked with the CLI
 * (exit code and message) or `verifyDatabase`: an executed call's tier comes from the policy the
 * session row recorded, and a trail must start with `session-started`, belong to a known session,
 * name its credential or a parent that recorded the spawn, and propose what ran.
 *
 * The CLI's `audit verify` runs in-process (its commander command, given the environment and an
 * output buffer); two checks run the real `gatehouse` binary, for its exit codes 2 and 0 (a
 * process costs about 0.8 s of CPU, and this file once started 34).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Command } from 'commander';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../audit/store';
import { AuditConflictError } from '../../audit/errors';
import { exportSession } from '../../audit/export';
import { verifyDatabase, verifyExport } from '../../audit/verify';
import { registerAudit } from '../../cli/commands/audit';
import type { AuditEventInput } from '../../audit/types';
import { compilePolicy } from '../../policies';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { testTrust } from '../support/trust';
import { approvedSession, productionDocument, scriptSession, withoutEvent, type ScriptedSession } from './fixtures';

const ROOT = join(__dirname, '../..');
const trust = testTrust();
let db: TestDatabase;
let store: AuditStore;
let dir: string;
let keysFile: string;

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

const cliEnv = (keys: string): NodeJS.ProcessEnv => ({ ...process.env, DATABASE_URL: db.url, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_KEYS: keys });

/** The real `gatehouse` binary, in a process of its own. */
function gatehouse(args: readonly string[], keys = keysFile): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/gatehouse.js'), ...args], {
      cwd: ROOT,
      env: cliEnv(keys),
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `gatehouse <args>` of the audit family in this process: what it printed and the exit code it set. */
async function gatehouseInProcess(args: readonly string[], keys = keysFile): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const program = new Command().name('gatehouse').exitOverride();
  registerAudit(program, { out: (t) => (stdout += `${t}\n`), err: (t) => (stderr += `${t}\n`) }, cliEnv(keys));
  const before = process.exitCode;
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'gatehouse', ...args]);
    return { code: Number(process.exitCode ?? 0), stdout, stderr };
  } finally {
    process.exitCode = before;
  }
}

/** `audit verify --session <id> --json`, and without `--json`: the exit code and each finding as `seq check`. */
async function verifyCli(sessionId: string, keys = keysFile): Promise<{ code: number; findings: string[]; text: string }> {
  const json = await gatehouseInProcess(['audit', 'verify', '--session', sessionId, '--json'], keys);
  const report = JSON.parse(json.stdout) as { trail: { seq: number; rule: string }[]; votes: { seq: number; rule: string }[] };
  const text = await gatehouseInProcess(['audit', 'verify', '--session', sessionId], keys);
  assert.equal(text.code, json.code);
  return { code: json.code, findings: [...report.trail, ...report.votes].map((f) => `${f.seq} ${f.rule}`).sort(), text: text.stdout };
}

async function recordSession(s: ScriptedSession, events: readonly AuditEventInput[] = s.events): Promise<void> {
  await store.startSession(s.record);
  await store.append(events);
}

const DELETE = { tool: 'billing.deleteRecords', args: { filter: { period: '2026-10', test: true } }, reasoning: 'delete the test records' };
const allow = (policyHash: string) => ({ verdict: 'allow' as const, tier: 'autonomous' as const, reasons: [], policyHash });

before(async () => {
  db = await createTestDatabase('audit_verify_origin');
  store = new AuditStore(db.pool);
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-verify-origin-'));
  keysFile = join(dir, 'keys.json');
  await writeFile(keysFile, JSON.stringify(trust.keyset));
});
after(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('forged trails fail with the check that caught them', () => {
  test('a made-up session\'s four-event trail: no session row, no credential', async () => {
    const at = '2026-11-03T10:00:00.000Z';
    const id = 'forged-four';
    const tool = DELETE.tool;
    await store.append([
      { sessionId: id, seq: 1, kind: 'session-started', at, detail: { agentId: 'victim-bot', owner: 'eng-007', intent: 'tidy billing' } },
      { sessionId: id, seq: 2, kind: 'proposed', at, proposalSeq: 1, ...DELETE },
      { sessionId: id, seq: 3, kind: 'decided', at, proposalSeq: 1, tool, decision: allow('a'.repeat(64)) },
      { sessionId: id, seq: 4, kind: 'executed', at, proposalSeq: 1, tool, resultStatus: 'executed', detail: { result: { deleted: 14_237 } } },
    ]);
    const r = await verifyCli(id);
    assert.equal(r.code, 2);
    assert.deepEqual(r.findings, ['1 trail.credential', '4 trail.unknown-session']);
    assert.match(r.text, /session `forged-four` seq 4: trail\.unknown-session: `billing\.deleteRecords` ran in a session the sessions table does not know/);
    // The whole database fails too, naming the same session: the real binary exits 2.
    const all = await gatehouse(['audit', 'verify']);
    assert.equal(all.code, 2);
    assert.match(all.stdout, /^  session `forged-four` seq 1: trail\.credential: the session started with no agent credential and no parent$/m);
  });

  test('an executed approval-tier call with no approval events at all (the decision rewritten to allow)', async () => {
    const s = approvedSession('forged-noapproval', '2026-11-03T10:00:00Z');
    const requested = s.events.find((e) => e.kind === 'approval-requested')!.seq;
    const approved = s.events.find((e) => e.kind === 'approved')!.seq;
    const events = withoutEvent(withoutEvent(s.events, approved), requested)
      .map((e) => (e.kind === 'decided' && e.tool === DELETE.tool ? { ...e, decision: allow(s.record.policyHash) } : e));
    await recordSession(s, events);
    const executed = events.find((e) => e.kind === 'executed' && e.tool === DELETE.tool)!.seq;
    const r = await verifyCli('forged-noapproval');
    assert.equal(r.code, 2);
    assert.deepEqual(r.findings, [`${executed} vote.missing`]);
    assert.match(r.text, new RegExp(`seq ${executed}: vote\\.missing: \`billing\\.deleteRecords\` ran without a signed approval: policy \`production\` puts it in the approval tier and the trail holds no approval request for it`));
  });

  test('approval events present but unsigned, or signed over another digest', async () => {
    const s = approvedSession('forged-unsigned', '2026-11-03T10:00:00Z');
    const unsigned = s.events.map((e) => (e.kind === 'approved' ? { ...e, detail: { reason: 'trust me', approvers: ['data-lee'] } } : e));
    await recordSession(s, unsigned);
    const approvedSeq = unsigned.find((e) => e.kind === 'approved')!.seq;
    const executedSeq = unsigned.filter((e) => e.kind === 'executed').at(-1)!.seq;
    const a = await verifyCli('forged-unsigned');
    assert.equal(a.code, 2);
    assert.deepEqual(a.findings, [`${approvedSeq} vote.unsigned`, `${executedSeq} vote.missing`].sort());

    // data-lee really signed, but over the call the forger did not record: the request names another digest.
    const t = approvedSession('forged-digest', '2026-11-03T10:00:00Z');
    const other = t.events.map((e) => (e.kind === 'approval-requested' ? { ...e, detail: { ...e.detail, callDigest: 'f'.repeat(64) } } : e));
    await recordSession(t, other);
    const b = await verifyCli('forged-digest');
    assert.equal(b.code, 2);
    assert.deepEqual(b.findings, [`${approvedSeq} vote.digest`, `${executedSeq} vote.missing`].sort());
    assert.match(b.text, /vote\.digest: the vote was signed over call digest `\w{12}`, not the requested call's `ffffffffffff`/);
  });

  test('an approval requested for fewer approvers than the policy requires proves nothing', async () => {
    const s = approvedSession('forged-zero', '2026-11-03T10:00:00Z');
    const approved = s.events.find((e) => e.kind === 'approved')!.seq;
    const events = withoutEvent(s.events, approved).map((e) => (e.kind === 'approval-requested'
      ? { ...e, detail: { ...e.detail, requirement: { ...(e.detail!.requirement as object), approversRequired: 0 } } }
      : e));
    await recordSession(s, events);
    const executed = events.filter((e) => e.kind === 'executed').at(-1)!.seq;
    const r = await verifyCli('forged-zero');
    assert.equal(r.code, 2);
    assert.deepEqual(r.findings, [`${executed} trail.requirement`]);
  });

  test('an event squatting a seq of a genuine session: unproposed, unapproved, and contested when the session writes it', async () => {
    const s = approvedSession('squatted', '2026-11-03T10:00:00Z');
    await store.startSession(s.record);
    await store.append(s.events.slice(0, 4));
    const at = s.events[4]!.at;
    // The forger takes seq 5: "billing.deleteRecords ran" as a proposal the session never made.
    await new AuditStore(db.pool).append([{ sessionId: 'squatted', seq: 5, kind: 'executed', at, proposalSeq: 9, tool: DELETE.tool, args: DELETE.args, resultStatus: 'executed', detail: { result: { deleted: 14_237 } } }]);
    const first = await verifyCli('squatted');
    assert.equal(first.code, 2);
    assert.deepEqual(first.findings, ['5 trail.unproposed', '5 vote.missing']);
    // The session's own seq 5 then conflicts: refused, and the contested seq is named from then on.
    await assert.rejects(store.append(s.events.slice(4)), AuditConflictError);
    const afterwards = await verifyCli('squatted');
    assert.deepEqual(afterwards.findings, ['5 trail.conflict', '5 trail.unproposed', '5 vote.missing']);
    assert.match(afterwards.text, /session `squatted` seq 5: trail\.conflict: another writer recorded seq 5 before the session did/);
  });

  test('an always-blocked call that ran, whatever its decision says', async () => {
    const s = approvedSession('forged-blocked', '2026-11-03T10:00:00Z');
    const end = s.events.at(-1)!;
    const at = end.at;
    const call = { proposalSeq: 3, tool: 'audit.modify', args: { entry: 42 } };
    const events: AuditEventInput[] = [
      ...s.events.slice(0, -1),
      { sessionId: 'forged-blocked', seq: end.seq, kind: 'proposed', at, ...call, reasoning: 'tidy' },
      { sessionId: 'forged-blocked', seq: end.seq + 1, kind: 'decided', at, proposalSeq: 3, tool: call.tool, decision: allow(s.record.policyHash) },
      { sessionId: 'forged-blocked', seq: end.seq + 2, kind: 'executed', at, ...call, resultStatus: 'executed' },
    ];
    await recordSession(s, events);
    const r = await verifyCli('forged-blocked');
    assert.equal(r.code, 2);
    assert.deepEqual(r.findings, [`${end.seq + 2} trail.blocked`]);
    assert.match(r.text, /trail\.blocked: `audit\.modify` ran although policy `production` blocks it: no approval can unlock it/);
  });

  test('a trail that does not begin with session-started, and a start under another policy than the row\'s', async () => {
    const s = approvedSession('no-start', '2026-11-03T10:00:00Z');
    await recordSession(s, withoutEvent(s.events, 1));
    const a = await verifyCli('no-start');
    assert.equal(a.code, 2);
    assert.deepEqual(a.findings, ['1 trail.policy', '1 trail.start']);
    assert.match(a.text, /seq 1: trail\.start: the trail begins with `proposed`, not `session-started`/);

    const t = approvedSession('other-policy', '2026-11-03T10:00:00Z');
    const events = t.events.map((e) => (e.kind === 'session-started' ? { ...e, detail: { ...e.detail, policyHash: 'b'.repeat(64) } } : e));
    await recordSession(t, events);
    const b = await verifyCli('other-policy');
    assert.equal(b.code, 2);
    assert.deepEqual(b.findings, ['1 trail.policy']);
  });

  test('a child whose parent never recorded the spawn; one whose parent did verifies', async () => {
    const parent = approvedSession('parent-1', '2026-11-03T10:00:00Z');
    const spawnAt = parent.events.at(-1)!.at;
    const spawned: AuditEventInput = {
      sessionId: 'parent-1', seq: parent.events.length + 1, kind: 'decided', at: spawnAt, proposalSeq: 3, tool: 'session.spawnChild',
      args: { agentId: 'billing-bot', intent: 'help', sessionId: 'parent-1.1' }, detail: { childSessionId: 'parent-1.1', status: 'started' },
    };
    await recordSession(parent, [...parent.events, spawned]);
    for (const id of ['parent-1.1', 'parent-1.2']) {
      const child = scriptSession({ sessionId: id, startedAt: '2026-11-03T10:05:00Z', steps: [{ proposal: { tool: 'billing.query', args: { customer: 'acme', period: '2026-10' }, reasoning: 'look' } }] });
      const events = child.events.map((e) => (e.kind === 'session-started' ? { ...e, detail: { ...e.detail, credentialId: undefined, parentSessionId: 'parent-1' } } : e));
      await recordSession({ ...child, record: { ...child.record, parentSessionId: 'parent-1' } }, events);
    }
    assert.equal((await verifyCli('parent-1.1')).code, 0);
    const r = await verifyCli('parent-1.2');
    assert.equal(r.code, 2);
    assert.deepEqual(r.findings, ['1 trail.spawn']);
    assert.match(r.text, /seq 1: trail\.spawn: parent `parent-1` never recorded spawning this session/);
  });
});

describe('the policy decides, not the trail: what still verifies', () => {
  test('a genuine approved destructive call verifies: exit 0', async () => {
    await recordSession(approvedSession('genuine', '2026-11-03T10:00:00Z'));
    const r = await gatehouse(['audit', 'verify', '--session', 'genuine']); // the real binary
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ok: 1 session\(s\), \d+ event\(s\)/);
  });

  test('under a shadow policy an approval-tier call runs without approval and still verifies', async () => {
    const policy = compilePolicy({ ...productionDocument(), mode: 'shadow' }, SAMPLE_TOOL_INFO);
    const s = scriptSession({ sessionId: 'shadow-1', startedAt: '2026-11-03T10:00:00Z', policy, steps: [{ proposal: DELETE, facts: { blastRadius: 500 } }] });
    assert.deepEqual(s.events.map((e) => e.kind), ['session-started', 'proposed', 'decided', 'executed', 'session-ended']);
    await recordSession(s);
    assert.equal((await verifyCli('shadow-1')).code, 0);
  });

  test('a session recorded before its catalog was: the CLI derives tiers from the sample catalog', async () => {
    const s = approvedSession('legacy-1', '2026-11-03T10:00:00Z');
    const { tools: _tools, ...record } = s.record;
    await recordSession({ ...s, record });
    assert.equal((await verifyCli('legacy-1')).code, 0);
    // Without a catalog every tool is unknown to the policy, hence blocked: what ran is unproven.
    const bare = await verifyDatabase(db.pool, { sessionId: 'legacy-1', keyset: trust.keyset });
    assert.deepEqual(bare.votes.map((v) => v.rule), ['trail.blocked', 'trail.blocked']);
  });

  test('an export is held to its recorded policy offline too', async () => {
    const s = approvedSession('export-1', '2026-11-03T10:00:00Z');
    const requested = s.events.find((e) => e.kind === 'approval-requested')!.seq;
    const approved = s.events.find((e) => e.kind === 'approved')!.seq;
    await recordSession(s, withoutEvent(withoutEvent(s.events, approved), requested));
    const report = verifyExport(await exportSession(db.pool, 'export-1'), { keyset: trust.keyset });
    assert.equal(report.ok, false);
    assert.deepEqual(report.votes.map((v) => v.rule), ['vote.missing']);
  });

  test('a key revoked later is refused by audit verify at once (README, trust boundary)', async () => {
    const revoked = join(dir, 'revoked-keys.json');
    const keys = trust.keyset.keys.map((k) => (k.principal === 'data-lee' ? { ...k, revoked: true } : k));
    await writeFile(revoked, JSON.stringify({ ...trust.keyset, keys }));
    const s = approvedSession('revoked-later', '2026-11-03T10:00:00Z');
    await recordSession(s);
    assert.equal((await verifyCli('revoked-later')).code, 0);
    const approvedSeq = s.events.find((e) => e.kind === 'approved')!.seq;
    const executedSeq = s.events.filter((e) => e.kind === 'executed').at(-1)!.seq;
    const r = await verifyCli('revoked-later', revoked);
    assert.equal(r.code, 2);
    assert.deepEqual(r.findings, [`${approvedSeq} envelope.key-revoked`, `${executedSeq} vote.missing`].sort());
  });
});
