/**
 * `gatehouse approvals list | approve | deny`: a vote signed with the person's own approver key,
 * checked by the same path as a Slack click, for teams without Slack. In-process for the cases,
 * and once through the real `gatehouse` binary (configuration and keys from the environment,
 * exit codes).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decideFromCli, listApprovals, type CliDecisionDeps, type CommandIo } from '../../cli/commands/approvals';
import { renderApproval, showApproval } from '../../cli/commands/approvals-show';
import type { ApprovalStore } from '../../approvals/store';
import type { ApprovalRecord } from '../../approvals/types';
import { approvalRequest, recordOf } from './fixtures';
import { temporalStateReader } from '../../client/decide';
import { temporalVoteSender } from '../../client/vote-sender';
import { writeKeyFile } from '../../client/trust/key-files';
import { getTestServers } from '../support/servers';
import { testTrust } from '../support/trust';
import { requirement, startHarness, votePayload, type Harness } from './helpers';

let h: Harness;
let home: string;
/** Where the test people keep their approver keys (the user's key folder of the binary run). */
let keyDir: string;

before(async () => {
  h = await startHarness({ prefix: 'approvals_cli' });
  home = await mkdtemp(join(tmpdir(), 'gatehouse-approvals-cli-'));
  keyDir = join(home, 'config', 'gatehouse', 'keys');
  for (const name of ['bob', 'U0ALICE', 'mallory', 'billing-bot', 'U0OWNER']) writeKeyFile(keyDir, testTrust().approver(name));
});
after(async () => {
  await h?.close();
  await rm(home, { recursive: true, force: true });
});

function bufferIo(): CommandIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t) };
}

const deps = (dirs: readonly string[] = [keyDir]): CliDecisionDeps => ({ store: h.store, sendVote: temporalVoteSender(h.client), state: temporalStateReader(h.client), keyset: testTrust().keyset, keyDirs: dirs });

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(__dirname, '../../bin/gatehouse.js'), ...args], { env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('gatehouse approvals', () => {
  test('list shows pending approvals; --json gives the records; --all includes decided ones', async () => {
    const a = await h.newApproval();
    const io = bufferIo();
    assert.equal(await listApprovals(h.store, {}, io), 0);
    const table = io.stdout.join('\n');
    assert.ok(table.includes(a.req.approvalId) && table.includes('billing.deleteRecords') && table.includes('0/1'));

    await h.activities.resolveApproval(a.req, { approvalId: a.req.approvalId, status: 'expired', decidedBy: [], at: new Date().toISOString() });
    const pending = bufferIo();
    await listApprovals(h.store, { json: true }, pending);
    assert.ok(!(JSON.parse(pending.stdout.join('')) as Array<{ approvalId: string }>).some((r) => r.approvalId === a.req.approvalId));
    const all = bufferIo();
    await listApprovals(h.store, { json: true, all: true }, all);
    const found = (JSON.parse(all.stdout.join('')) as Array<{ approvalId: string; status: string }>).find((r) => r.approvalId === a.req.approvalId);
    assert.equal(found?.status, 'expired');
  });

  test('show puts everything an approver judges on one screen, checked against the session; list has an argument summary', async () => {
    const a = await h.newApproval();
    const list = bufferIo();
    await listApprovals(h.store, { state: temporalStateReader(h.client) }, list);
    const header = list.stdout[0]!.split('\n')[0]!;
    assert.match(header, /^ID\s+TOOL\s+ARGS\s+AGENT\s+OWNER\s+STATUS\s+APPROVERS\s+VOTES\s+DEADLINE$/);
    const row = list.stdout[0]!.split('\n').find((l) => l.startsWith(a.req.approvalId))!;
    // The row's arguments as stored (jsonb orders keys: shorter first, then bytewise), not the request's order.
    const stored = (await h.store.get(a.req.approvalId))!;
    const summary = Object.entries(stored.redactedArgs).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ').slice(0, 39);
    assert.ok(row.includes(summary), `the row summarises the arguments: ${row}`);

    const io = bufferIo();
    assert.equal(await showApproval(h.store, a.req.approvalId, { state: temporalStateReader(h.client) }, io), 0);
    const screen = io.stdout.join('\n');
    assert.match(screen, new RegExp(`^approval ${a.req.approvalId} · pending$`, 'm'));
    assert.match(screen, /^checked: this row shows exactly the call the session waits for$/m);
    assert.match(screen, /^ {2}tool {9}billing\.deleteRecords$/m);
    for (const reason of a.req.decision.reasons) assert.ok(screen.includes(`${reason.rule}: ${reason.message}`), `reason ${reason.rule} shown`);
    assert.ok(screen.includes(`intent     "${a.req.intent}"`));
    assert.ok(screen.includes(`reasoning  "${a.req.proposal.reasoning}"`));
    assert.match(screen, /deadline {3}\S+ \(in \d+[smh]\); then denied automatically, never approved/);
    assert.match(screen, /votes {6}0 of 1 approval\(s\)/);
    assert.ok(screen.includes(`call digest ${a.req.callDigest}`));

    const json = bufferIo();
    await showApproval(h.store, a.req.approvalId, { json: true, state: temporalStateReader(h.client) }, json);
    assert.deepEqual((JSON.parse(json.stdout.join('')) as { shown: unknown }).shown, { ok: true });
    const missing = bufferIo();
    assert.equal(await showApproval(h.store, 'no-such-approval', {}, missing), 1);
    assert.match(missing.stderr.join('\n'), /no approval `no-such-approval`/);
  });

  test('approve signs with the approver key over the call; a refusal exits 1 and signals nothing', async () => {
    const a = await h.newApproval();
    const refused = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'mallory' }, refused), 1);
    assert.match(refused.stderr.join('\n'), /refused \(not-an-approver\): `mallory` is not in an approver group/);
    const self = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'billing-bot' }, self), 1);
    assert.match(self.stderr.join('\n'), /self-approval/);
    const owner = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'U0OWNER' }, owner), 1);
    assert.match(owner.stderr.join('\n'), /four-eyes/);
    assert.deepEqual(await h.received(a.handle), []);

    const ok = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'bob', reason: 'checked', digest: a.req.callDigest.slice(0, 12) }, ok), 0);
    const bob = testTrust().approver('bob');
    assert.match(ok.stdout.at(-1)!, new RegExp(`approved \`.+\` \\(billing.deleteRecords\\) as \`bob\`: signed with \`${bob.keyId}\``));
    const received = await h.received(a.handle);
    assert.equal(received.length, 1);
    assert.equal(received[0]!.signatures[0]!.keyid, bob.keyId);
    const p = votePayload(received[0]!);
    assert.deepEqual(
      { workflowId: p.workflowId, firstRunId: p.firstRunId, approvalId: p.approvalId, callDigest: p.callDigest, verdict: p.verdict, reason: p.reason, onBehalfOf: p.onBehalfOf },
      { workflowId: a.req.workflowId, firstRunId: a.handle.firstExecutionRunId, approvalId: a.req.approvalId, callDigest: a.req.callDigest, verdict: 'approve', reason: 'checked', onBehalfOf: undefined },
    );

    const again = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'U0ALICE' }, again), 1);
    assert.match(again.stderr.join('\n'), /already-decided/);
  });

  test('approve prints the call exactly as `show` does, and signs only the call confirmed: its digest, or a yes at the terminal', async () => {
    const a = await h.newApproval();
    const now = Date.now();
    const at = { ...deps(), now: () => now };
    const shown = bufferIo();
    assert.equal(await showApproval(h.store, a.req.approvalId, { state: temporalStateReader(h.client) }, shown, now), 0);
    const screen = shown.stdout.join('\n');
    assert.match(screen, /^checked: this row shows exactly the call the session waits for$/m);
    const head = a.req.callDigest.slice(0, 12);
    assert.ok(screen.split('\n').at(-1)!.startsWith(`decide: gatehouse approvals approve ${a.req.approvalId} --digest ${head} --as <you>`));

    // Nothing confirmed (no terminal, no digest): the call is printed, nothing signed.
    const bare = bufferIo();
    assert.equal(await decideFromCli(at, { approvalId: a.req.approvalId, approve: true, as: 'bob' }, bare), 1);
    assert.equal(bare.stdout.join('\n'), screen, 'the same screen, from the same code');
    assert.match(bare.stderr.join('\n'), new RegExp(`refused \\(digest-required\\): .*gatehouse approvals approve ${a.req.approvalId} --digest ${head}`));
    // Another digest, or too little of one: refused; the question answered no: refused.
    for (const digest of ['f'.repeat(12), head.slice(0, 11), `${head}zz`]) {
      const wrong = bufferIo();
      assert.equal(await decideFromCli(at, { approvalId: a.req.approvalId, approve: true, as: 'bob', digest }, wrong), 1);
      assert.match(wrong.stderr.join('\n'), /refused \(digest-mismatch\)/, digest);
      assert.equal(wrong.stdout.join('\n'), screen);
    }
    const asked: string[] = [];
    const no = bufferIo();
    assert.equal(await decideFromCli(at, { approvalId: a.req.approvalId, approve: true, as: 'bob' }, no, async (q) => (asked.push(q), false)), 1);
    assert.deepEqual(asked, [`approve this call (call digest ${head}…) as bob? [y/N] `]);
    assert.match(no.stderr.join('\n'), /refused \(not-confirmed\)/);
    assert.deepEqual(await h.received(a.handle), [], 'nothing signed or signalled');
    // A vote the rule refuses anyway is refused before anything is shown or asked.
    const owner = bufferIo();
    assert.equal(await decideFromCli(at, { approvalId: a.req.approvalId, approve: true, as: 'U0OWNER' }, owner, async () => assert.fail('not asked')), 1);
    assert.deepEqual(owner.stdout, []);

    // Yes at the terminal: signed over that digest.
    const yes = bufferIo();
    assert.equal(await decideFromCli(at, { approvalId: a.req.approvalId, approve: true, as: 'bob' }, yes, async () => true), 0);
    assert.equal(yes.stdout[0], screen);
    assert.deepEqual((await h.received(a.handle)).map((e) => votePayload(e).callDigest), [a.req.callDigest]);

    // With --json the call goes to stderr (stdout stays one JSON document); the whole digest works as its prefix.
    const b = await h.newApproval();
    const json = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: b.req.approvalId, approve: true, as: 'bob', json: true, digest: b.req.callDigest.toUpperCase() }, json), 0);
    assert.equal(JSON.parse(json.stdout.join('')).ok, true);
    assert.match(json.stderr.join('\n'), new RegExp(`call digest ${b.req.callDigest}`));
  });

  test('a session that does not answer (a worker from before the vote update): the vote is sent, said so, and not kept in the row', async () => {
    const a = await h.newApproval({}, { olderWorker: true });
    const out = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: false, as: 'bob', reason: 'not this month' }, out), 0);
    assert.match(out.stdout.join('\n'), /^denial of `[^`]+` \(billing\.deleteRecords\) as `bob` signed with `[^`]+` and sent to session workflow `[^`]+`, which has not answered yet/);
    assert.equal((await h.received(a.handle)).length, 1, 'the session has it, as the signal');
    assert.deepEqual((await h.store.get(a.req.approvalId))?.votes, []);
  });

  test('deny needs a reason; an unknown id is a clear refusal', async () => {
    const a = await h.newApproval({ requirement: requirement({ approversRequired: 2 }) });
    const noReason = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: false, as: 'bob', reason: ' ' }, noReason), 1);
    assert.match(noReason.stderr.join('\n'), /reason-required/);
    const denied = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: false, as: 'bob', reason: 'wrong month', json: true }, denied), 0);
    assert.deepEqual(JSON.parse(denied.stdout.join('')), { ok: true, approver: 'bob', group: 'sre', final: true, answered: true, keyId: testTrust().approver('bob').keyId });
    assert.deepEqual((await h.received(a.handle)).map((e) => [votePayload(e).verdict, votePayload(e).reason]), [['deny', 'wrong month']]);
    const unknown = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: 'nope:1', approve: true, as: 'bob' }, unknown), 1);
    assert.match(unknown.stderr.join('\n'), /not-found\): no approval `nope:1`/);
  });

  test('without a key the command says what is missing and how to make it; nothing is signalled', async () => {
    const a = await h.newApproval();
    const named = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true, as: 'U0CAROL' }, named), 1);
    assert.equal(
      named.stderr.join('\n'),
      `gatehouse: no approver key for \`U0CAROL\`: looked for \`U0CAROL.approver.key\` in \`${keyDir}\`; make one with \`gatehouse keys create --approver U0CAROL\` and register its public key in the keyset`,
    );
    const empty = join(home, 'empty');
    const none = bufferIo();
    assert.equal(await decideFromCli(deps([empty]), { approvalId: a.req.approvalId, approve: true }, none), 1);
    assert.match(none.stderr.join('\n'), /^gatehouse: no approver key: none in `.*empty`; make one with `gatehouse keys create --approver <name>`/);
    const several = bufferIo();
    assert.equal(await decideFromCli(deps(), { approvalId: a.req.approvalId, approve: true }, several), 1);
    assert.match(several.stderr.join('\n'), /several approver keys \(.*bob.*\): pass `--as <name>`/);
    // A key that is not registered in the keyset signs nothing that counts: refused before the signal.
    const stray = { ...deps(), keyset: { ...testTrust().keyset, keys: testTrust().keyset.keys.filter((k) => k.principal !== 'bob') } };
    const unregistered = bufferIo();
    assert.equal(await decideFromCli(stray, { approvalId: a.req.approvalId, approve: true, as: 'bob' }, unregistered), 1);
    assert.match(unregistered.stderr.join('\n'), /refused \(key-refused\): key `.+` of `bob` is not in the keyset/);
    assert.deepEqual(await h.received(a.handle), []);
  });

  test('the gatehouse binary: configuration and keys from the environment, exit codes', async () => {
    const servers = await getTestServers();
    const a = await h.newApproval();
    const keysFile = join(home, 'keys.json');
    await writeFile(keysFile, JSON.stringify(testTrust().keyset));
    const env = {
      DATABASE_URL: h.db.url,
      TEMPORAL_ADDRESS: servers.temporalAddress,
      TEMPORAL_NAMESPACE: servers.namespace,
      GATEHOUSE_STACK_FILE: join(home, 'no-such-stack.json'),
      GATEHOUSE_KEYS: keysFile,
      XDG_CONFIG_HOME: join(home, 'config'),
    };
    const refused = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'mallory'], env);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /not-an-approver/);
    const noKey = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'U0CAROL'], env);
    assert.equal(noKey.code, 1);
    assert.match(noKey.stderr, /no approver key for `U0CAROL`: looked for `U0CAROL.approver.key`/);
    // No terminal to ask at, and no digest: the call is printed, nothing is signed.
    const unconfirmed = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'U0ALICE'], env);
    assert.equal(unconfirmed.code, 1, unconfirmed.stderr);
    assert.match(unconfirmed.stdout, new RegExp(`call digest ${a.req.callDigest}`));
    assert.match(unconfirmed.stderr, /refused \(digest-required\)/);
    assert.deepEqual(await h.received(a.handle), []);
    const approved = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'U0ALICE', '--digest', a.req.callDigest.slice(0, 16)], env);
    assert.equal(approved.code, 0, approved.stderr);
    assert.deepEqual((await h.received(a.handle)).map((e) => e.signatures[0]!.keyid), [testTrust().approver('U0ALICE').keyId]);
    const missing = await runCli(['approvals', 'deny', a.req.approvalId, '--as', 'bob'], env);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /--reason/);
    const noKeyset = await runCli(['approvals', 'approve', a.req.approvalId, '--as', 'bob'], { ...env, GATEHOUSE_KEYS: '' });
    assert.equal(noKeyset.code, 1);
    assert.match(noKeyset.stderr, /gatehouse: no keyset to sign against: set `GATEHOUSE_KEYS` or run `gatehouse start`/);
  });
});

describe('what a decided row says (pure)', () => {
  const now = Date.parse('2026-11-21T10:30:00.000Z');
  const at = '2026-11-21T10:05:00.000Z';
  // Two approvals needed, alice gave one; the workflow stores her as `decidedBy` of any outcome.
  const row = (id: string, r: Partial<ApprovalRecord>): ApprovalRecord =>
    recordOf(approvalRequest(id, { requirement: requirement({ approversRequired: 2 }) }), {
      decidedBy: ['U0ALICE'],
      decidedAt: at,
      votes: [{ approver: 'U0ALICE', approve: true, via: 'slack', at: '2026-11-21T10:01:00.000Z' }],
      ...r,
    });
  const expired = row('session-r1', { status: 'expired', reason: 'no decision before the deadline' });
  const cancelled = row('session-r2', { status: 'cancelled', reason: 'session halted by billing-bot: done here' });
  /** A store that lists these rows and nothing else (listApprovals without a state reader reads only `list`). */
  const listing = (rows: ApprovalRecord[]) => ({ list: async () => rows }) as unknown as ApprovalStore;

  test('show: an expired or cancelled row names nobody as its decider; what it collected is approvals so far', () => {
    const e = renderApproval(expired, undefined, undefined, now).join('\n');
    const c = renderApproval(cancelled, undefined, undefined, now).join('\n');
    for (const [screen, status] of [[e, 'expired'], [c, 'cancelled']] as const) {
      assert.doesNotMatch(screen, /^ {2}decided /m, `a ${status} row has no decided-by line:\n${screen}`);
      assert.doesNotMatch(screen, /by U0ALICE/, `a ${status} row does not name alice as who ended it`);
      assert.match(screen, /^ {2}approvals so far, counted by the session but not enough to decide: U0ALICE$/m);
      assert.match(screen, /^ {2}votes {6}1 of 2 approval\(s\) \(U0ALICE\)$/m);
    }
    assert.match(e, new RegExp(`^ {2}expired {4}${at}: nobody decided by its deadline ${expired.deadline}, so it was denied automatically$`, 'm'));
    assert.match(c, new RegExp(`^ {2}cancelled {2}${at}: the session was halted before anyone decided: "session halted by billing-bot: done here"$`, 'm'));
    // Nothing collected: no such line.
    assert.doesNotMatch(renderApproval({ ...expired, decidedBy: [], votes: [] }, undefined, undefined, now).join('\n'), /approvals so far/);
    // An approval or a denial did decide: it says by whom.
    const approved = renderApproval(row('session-r3', { status: 'approved', decidedBy: ['U0ALICE', 'bob'], reason: 'checked' }), undefined, undefined, now).join('\n');
    assert.match(approved, new RegExp(`^ {2}decided {4}${at} by U0ALICE, bob: "checked"$`, 'm'));
    const denied = renderApproval(row('session-r4', { status: 'denied', decidedBy: ['bob'], reason: 'not now' }), undefined, undefined, now).join('\n');
    assert.match(denied, new RegExp(`^ {2}decided {4}${at} by bob: "not now"$`, 'm'));
  });

  test('list --all: the VOTES column counts approvals, never shows a partial approver as the decider', async () => {
    const approved = row('session-r5', { status: 'approved', decidedBy: ['U0ALICE', 'bob'] });
    const denied = row('session-r6', { status: 'denied', decidedBy: ['bob'], reason: 'not now' });
    const io = bufferIo();
    assert.equal(await listApprovals(listing([expired, cancelled, approved, denied]), { all: true }, io, now), 0);
    const lines = io.stdout.join('\n').split('\n');
    const header = lines[0]!;
    const votesOf = (id: string): string => {
      const line = lines.find((l) => l.startsWith(id))!;
      return line.slice(header.indexOf('VOTES'), header.indexOf('DEADLINE')).trim();
    };
    assert.equal(votesOf(expired.approvalId), '1/2 so far (U0ALICE)');
    assert.equal(votesOf(cancelled.approvalId), '1/2 so far (U0ALICE)');
    assert.equal(votesOf(approved.approvalId), '2/2 (U0ALICE, bob)');
    assert.equal(votesOf(denied.approvalId), 'denied by bob');
  });
});
