/**
 * The audit commands as a user runs them: `node bin/gatehouse.js …` with `DATABASE_URL` set,
 * checking output and exit codes (0 ok, 1 error, 2 tampering).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditStore } from '../../audit/store';
import { createTestDatabase, type TestDatabase } from '../support/servers';
import { freePort } from '../../worker/devstack/ports';
import { approvedSession, incidentSession, PRODUCTION_POLICY_FILE, withoutEvent } from './fixtures';
import { testTrust } from '../support/trust';

const ROOT = join(__dirname, '../..');
let db: TestDatabase;
let dir: string;
/** The test keyset as a file: what `GATEHOUSE_KEYS` names for every command here. */
let keysFile: string;

interface Run { readonly code: number; readonly stdout: string; readonly stderr: string }

function gatehouse(args: readonly string[], databaseUrl = db.url): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'bin/gatehouse.js'), ...args], {
      cwd: ROOT,
      // A private data dir: no running stack's file can leak into the command's configuration.
      env: { ...process.env, DATABASE_URL: databaseUrl, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_KEYS: keysFile },
      timeout: 60_000,
    }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  db = await createTestDatabase('audit_cli');
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-audit-cli-'));
  keysFile = join(dir, 'keys.json');
  await writeFile(keysFile, JSON.stringify(testTrust().keyset));
  const store = new AuditStore(db.pool);
  for (const id of ['c-1', 'c-2']) {
    const s = incidentSession(id, new Date(Date.now() - 3_600_000).toISOString());
    await store.startSession(s.record);
    await store.append(s.events);
    await store.patchSession(id, { mode: 'read-only', finalState: 'completed', counters: { proposals: 3, executed: 1, denied: 2 } });
  }
});
after(async () => {
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('gatehouse sessions and trace', () => {
  test('sessions lists mode, counters and final state', async () => {
    const r = await gatehouse(['sessions']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^started\s+session\s+agent\s+owner\s+mode\s+state\s+prop\s+exec\s+deny/);
    assert.match(r.stdout, /c-1\s+billing-bot\s+eng-007\s+read-only\s+completed\s+3\s+1\s+2/);
    const json = await gatehouse(['sessions', '--json']);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).map((s: { sessionId: string }) => s.sessionId).sort(), ['c-1', 'c-2']);
  });

  test('trace prints the story; --json the seed shape', async () => {
    const r = await gatehouse(['trace', 'c-1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /#2 the agent proposed billing\.deleteRecords\(.*\) \(est\. 14,200 rows\).*the policy decided APPROVAL .*data-lee denied after 2m 13s: 'not test data'; nothing ran/);
    const j = await gatehouse(['trace', 'c-1', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const trace = JSON.parse(j.stdout);
    assert.equal(trace.sessionId, 'c-1');
    assert.deepEqual(trace.executedActions.map((a: { action: string }) => a.action), ['billing.query', 'billing.deleteRecords', 'audit.modify']);
  });

  test('an unknown session exits 1 with a clear message', async () => {
    const r = await gatehouse(['trace', 'nope']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^gatehouse: unknown session `nope`: no such session in the audit trail$/m);
  });

  test('an unreachable database exits 1 naming the cause', async () => {
    const r = await gatehouse(['sessions'], `postgres://postgres:x@127.0.0.1:${await freePort()}/none`);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^gatehouse: audit database unavailable: /m);
  });
});

describe('gatehouse audit verify and export', () => {
  test('export, verify offline, then tamper: exit 2 naming the first broken link', async () => {
    const file = join(dir, 'c-1.json');
    const ex = await gatehouse(['audit', 'export', '--session', 'c-1', '--out', file]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stderr, /exported 12 event\(s\) of session c-1/);
    const ok = await gatehouse(['audit', 'verify', '--file', file]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: 1 session\(s\), 12 event\(s\)/);

    const doc = JSON.parse(await readFile(file, 'utf8'));
    doc.events[4].args.filter.test = false;
    const forged = join(dir, 'forged.json');
    await writeFile(forged, JSON.stringify(doc));
    const bad = await gatehouse(['audit', 'verify', '--file', forged]);
    assert.equal(bad.code, 2);
    assert.match(bad.stdout, /session `c-1` seq 5: content does not match its hash/);
  });

  test('verify of the database: 0 when intact, 2 after a superuser edit, --session narrows it', async () => {
    // The seeded sessions, by name: another test of this file adds a session that does not verify.
    const clean = await gatehouse(['audit', 'verify', '--json']);
    assert.deepEqual(JSON.parse(clean.stdout).broken, [], clean.stdout + clean.stderr);
    // A superuser edit, undone at the end: the other tests of this file find the rows as seeded, in any order.
    const edit = async (approver: string | null): Promise<void> => {
      const client = await db.pool.connect();
      try {
        await client.query('SET session_replication_role = replica');
        await client.query(`UPDATE events SET approver = $1 WHERE session_id = 'c-2' AND seq = 8`, [approver]);
      } finally {
        await client.query('RESET session_replication_role');
        client.release();
      }
    };
    const original = (await db.pool.query<{ approver: string | null }>(`SELECT approver FROM events WHERE session_id = 'c-2' AND seq = 8`)).rows[0]!.approver;
    await edit('eng-999');
    try {
      const all = await gatehouse(['audit', 'verify', '--json']);
      assert.equal(all.code, 2);
      const report = JSON.parse(all.stdout);
      assert.deepEqual(report.broken.map((b: { sessionId: string; seq: number }) => [b.sessionId, b.seq]), [['c-2', 8]]);
      assert.equal((await gatehouse(['audit', 'verify', '--session', 'c-1'])).code, 0);
    } finally {
      await edit(original);
    }
    assert.equal((await gatehouse(['audit', 'verify', '--session', 'c-2'])).code, 0, 'intact again once the edit is undone');
  });

  test('an executed approval-tier call without a signed approval: exit 2 naming the session and seq; --keys picks the keyset', async () => {
    const s = approvedSession('c-v', new Date(Date.now() - 30 * 86_400_000).toISOString());
    const events = withoutEvent(s.events, s.events.find((e) => e.kind === 'approved')!.seq);
    const store = new AuditStore(db.pool);
    await store.startSession(s.record);
    await store.append(events);
    const executedSeq = events.filter((e) => e.kind === 'executed').at(-1)!.seq;
    const r = await gatehouse(['audit', 'verify', '--session', 'c-v']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stdout, new RegExp(`session \`c-v\` seq ${executedSeq}: vote.missing: \`billing.deleteRecords\` ran without a valid signed approval of \`c-v:2\``));
    // An intact session verifies against an explicit keyset file too; an invalid keyset file is an error.
    assert.equal((await gatehouse(['audit', 'verify', '--session', 'c-1', '--keys', keysFile])).code, 0);
    const badKeys = join(dir, 'bad-keys.json');
    await writeFile(badKeys, JSON.stringify({ keys: [{ keyId: 'x', principal: 'p', role: 'approver', publicKey: 'nope' }] }));
    const bad = await gatehouse(['audit', 'verify', '--session', 'c-1', '--keys', badKeys]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /gatehouse: invalid keyset `.*bad-keys\.json`: keys\[0\]\.publicKey: expected a base64 Ed25519 public key/);
  });

  test('bad input changes nothing and exits 1', async () => {
    const missing = await gatehouse(['audit', 'verify', '--file', join(dir, 'absent.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /gatehouse: cannot read export file `.*absent\.json`: ENOENT/);
    const unknown = await gatehouse(['audit', 'export', '--session', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown session `nope`/);
  });
});

describe('gatehouse backtest', () => {
  test('a malformed --since exits 1 before touching the database', async () => {
    const r = await gatehouse(['backtest', '--policy', PRODUCTION_POLICY_FILE, '--since', 'fortnight'], 'postgres://postgres:x@127.0.0.1:1/none');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^gatehouse: malformed duration `fortnight`: expected a positive whole number and a unit, such as `14d`, `12h` or `30m`$/m);
  });

  test('an invalid policy exits 1 naming the path', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'version: 1\nbudget: { writes: -3 }\n');
    const r = await gatehouse(['backtest', '--policy', bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gatehouse: policy `.*bad\.yaml` is invalid: at `budget\.writes`/);
  });

  test('the recorded policy changes nothing; a stricter one reports newly blocked sessions', async () => {
    const same = await gatehouse(['backtest', '--policy', PRODUCTION_POLICY_FILE, '--since', '12h', '--json']);
    assert.equal(same.code, 0, same.stderr);
    const r = JSON.parse(same.stdout);
    assert.equal(r.proposalsCompared, 6);
    assert.equal(r.changes.length, 0);
    const strict = join(dir, 'strict.yaml');
    const text = (await readFile(PRODUCTION_POLICY_FILE, 'utf8')).replace('alwaysBlocked:\n', 'alwaysBlocked:\n  - billing.query\n');
    await writeFile(strict, text);
    const changed = await gatehouse(['backtest', '--policy', strict, '--since', '2h']);
    assert.equal(changed.code, 0, changed.stderr);
    assert.match(changed.stdout, /newly blocked\s+2  sessions: c-[12], c-[12]/);
  });
});
