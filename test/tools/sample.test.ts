/**
 * The sample catalog against a real PostgreSQL: the seed, every tool's happy path through
 * `runTool` (with the real AuditStore as the write-ahead sink), blast-radius estimates that match
 * what the delete removes, redaction in the audit trail, and permanent failures recorded.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AuditStore } from '../../audit/store';
import { createToolActivities, type RunToolResult } from '../../activities/tools/activities';
import { createSampleCatalog, previousMonth, SAMPLE_CUSTOMERS, SAMPLE_TEST_RECORDS, seedSampleProduction } from '../../activities/tools/sample';
import { createTestDatabase, type TestDatabase } from '../support/servers';

let db: TestDatabase;
let tools: ReturnType<typeof createToolActivities>;
const lastMonth = previousMonth(new Date());
const acme = SAMPLE_CUSTOMERS[0].id;

before(async () => {
  db = await createTestDatabase('tools_sample');
  const first = await seedSampleProduction(db.pool);
  assert.equal(first.seeded, true);
  tools = createToolActivities({ catalog: createSampleCatalog({ productionPool: db.pool }), audit: new AuditStore(db.pool) });
});

after(async () => {
  await db?.drop();
});

/** Runs one call as a session of its own: proposed (seq 1) before, outcome at seq 2. */
const sessionTimes = new Map<string, string>();

async function call(tool: string, args: Record<string, unknown>, opts: { sessionId?: string; key?: string } = {}): Promise<RunToolResult & { sessionId: string }> {
  const sessionId = opts.sessionId ?? `s-${randomUUID()}`;
  // One time per session: a repeat in the same session writes the same events again (idempotent).
  const at = sessionTimes.get(sessionId) ?? new Date().toISOString();
  sessionTimes.set(sessionId, at);
  const prep = await tools.prepareCall({ tool, args });
  const r = await tools.runTool({
    sessionId,
    proposalSeq: 1,
    tool,
    args,
    idempotencyKey: opts.key ?? `${sessionId}:1`,
    before: [{ sessionId, seq: 1, kind: 'proposed', at, proposalSeq: 1, tool, args: prep.redactedArgs, reasoning: 'test' }],
    afterSeq: 2,
    at,
  });
  return { ...r, sessionId };
}

async function events(sessionId: string) {
  const r = await db.pool.query('SELECT seq, kind, args, error, detail FROM events WHERE session_id = $1 ORDER BY seq', [sessionId]);
  return r.rows as { seq: number; kind: string; args: Record<string, unknown>; error: string | null; detail: Record<string, unknown> }[];
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const r = await db.pool.query(`SELECT count(*)::int AS n FROM ${sql}`, params);
  return r.rows[0].n as number;
}

describe('seed', () => {
  it('leaves at least 14,200 test records in last month, and real ones', async () => {
    assert.ok(SAMPLE_TEST_RECORDS >= 14_200);
    assert.equal(await count("billing_records WHERE is_test AND to_char(billed_at AT TIME ZONE 'UTC', 'YYYY-MM') = $1", [lastMonth]), SAMPLE_TEST_RECORDS);
    assert.ok((await count('billing_records WHERE NOT is_test')) > 200);
    assert.ok((await count('volume_mounts')) >= 3);
    assert.ok((await count('secret_versions')) >= 4);
  });

  it('is idempotent', async () => {
    const before = await count('billing_records');
    const again = await seedSampleProduction(db.pool);
    assert.deepEqual(again, { seeded: false, testMonth: lastMonth, testRecords: SAMPLE_TEST_RECORDS });
    assert.equal(await count('billing_records'), before);
  });
});

describe('billing', () => {
  it('billing.query filters by customer and period and honours limit', async () => {
    const r = await call('billing.query', { customerId: acme, limit: 5 });
    assert.equal(r.status, 'executed');
    const out = r.result as { records: { customerId: string; isTest: boolean }[]; matched: number; returned: number };
    assert.equal(out.returned, 5);
    assert.equal(out.matched, await count('billing_records WHERE customer_id = $1', [acme]));
    assert.ok(out.records.every((x) => x.customerId === acme && !x.isTest));
    const t = (await call('billing.query', { period: lastMonth, testOnly: true, limit: 1 })).result as { matched: number };
    assert.equal(t.matched, SAMPLE_TEST_RECORDS);
  });

  it('billing.summary totals a customer over N months', async () => {
    const r = await call('billing.summary', { customerId: acme, months: 3 });
    assert.equal(r.status, 'executed');
    const s = r.result as { total: number; currency: string; period_start: string; period_end: string; records: number };
    const now = new Date();
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 2, 1));
    const expected = await db.pool.query('SELECT coalesce(sum(amount_cents),0)::bigint AS c FROM billing_records WHERE customer_id = $1 AND billed_at >= $2', [acme, start]);
    assert.equal(s.total, Number(expected.rows[0].c) / 100);
    assert.ok(s.total > 0);
    assert.equal(s.currency, 'USD');
    assert.equal(s.period_start, start.toISOString().slice(0, 10));
    assert.equal(s.period_end, now.toISOString().slice(0, 10));
  });

  it('billing.summary rejects months 0 and 25 and a non-uuid customer, and a missing customer is NotFound', async () => {
    for (const args of [{ customerId: acme, months: 0 }, { customerId: acme, months: 25 }, { customerId: 'acme', months: 2 }]) {
      const p = await tools.prepareCall({ tool: 'billing.summary', args });
      assert.equal(p.valid, false, JSON.stringify(args));
      const r = await call('billing.summary', args);
      assert.deepEqual([r.status, r.error?.type, r.error?.retryable], ['failed', 'ToolArgumentsError', false]);
    }
    const missing = await call('billing.summary', { customerId: randomUUID(), months: 2 });
    assert.deepEqual([missing.status, missing.error?.type], ['failed', 'NotFound']);
  });

  it('billing.deleteRecords deletes exactly the estimated rows, once per idempotency key', async () => {
    const args = { period: lastMonth, testOnly: true };
    const prep = await tools.prepareCall({ tool: 'billing.deleteRecords', args });
    assert.deepEqual([prep.valid, prep.blastRadius], [true, SAMPLE_TEST_RECORDS]);
    const realBefore = await count('billing_records WHERE NOT is_test');

    const first = await call('billing.deleteRecords', args, { key: 'cleanup-1' });
    assert.equal(first.status, 'executed');
    assert.deepEqual(first.result, { deleted: prep.blastRadius });
    assert.equal(await count('billing_records WHERE is_test'), 0);
    assert.equal(await count('billing_records WHERE NOT is_test'), realBefore, 'real records untouched');

    // New matching rows appear; a retry of the same call must not delete them.
    const { start } = { start: new Date(`${lastMonth}-15T12:00:00Z`) };
    await db.pool.query("INSERT INTO billing_records (customer_id, amount_cents, currency, description, billed_at, is_test) VALUES ($1, 100, 'USD', 'late test row', $2, true)", [
      '7e570000-0000-4000-8000-000000000001',
      start,
    ]);
    // The same call again in its session (a retry): keys are a session's own.
    const again = await call('billing.deleteRecords', args, { key: 'cleanup-1', sessionId: first.sessionId });
    assert.deepEqual(again.result, first.result);
    assert.equal(again.latencyMs, first.latencyMs, 'the stored outcome, not a second run');
    assert.equal(await count('billing_records WHERE is_test'), 1);
    assert.equal(await count("tool_executions WHERE idempotency_key = 'cleanup-1'"), 1);

    const estimate = await tools.prepareCall({ tool: 'billing.deleteRecords', args });
    assert.equal(estimate.blastRadius, 1);
    assert.equal(await count('billing_records WHERE is_test'), 1, 'an estimate changes nothing');
  });
});

describe('volumes', () => {
  it('volumes.list shows mounts', async () => {
    const r = await call('volumes.list', { service: 'web' });
    const vols = (r.result as { volumes: { id: string; mounts: { service: string }[] }[] }).volumes;
    assert.deepEqual(vols.map((v) => v.id).sort(), ['vol-cache01', 'vol-logs01']);
    assert.ok(vols.every((v) => v.mounts.some((m) => m.service === 'web')));
  });

  it('volumes.unmount removes mounts and frees the volume', async () => {
    const r = await call('volumes.unmount', { volumeId: 'vol-cache01' });
    assert.deepEqual(r.result, { volumeId: 'vol-cache01', unmounted: ['web'], status: 'available' });
    assert.equal(await count("volume_mounts WHERE volume_id = 'vol-cache01'"), 0);
    const partial = await call('volumes.unmount', { volumeId: 'vol-logs01', service: 'web' });
    assert.deepEqual(partial.result, { volumeId: 'vol-logs01', unmounted: ['web'], status: 'in-use' });
  });

  it('volumes.delete refuses a mounted volume and deletes a free one with its data', async () => {
    const refused = await call('volumes.delete', { volumeId: 'vol-db01' });
    assert.deepEqual([refused.status, refused.error?.type, refused.error?.retryable], ['failed', 'VolumeInUse', false]);
    assert.equal(await count("volumes WHERE id = 'vol-db01'"), 1);
    const ev = await events(refused.sessionId);
    assert.deepEqual(ev.map((e) => e.kind), ['proposed', 'failed']);
    assert.match(ev[1]!.error!, /mounted by `api`/);

    const ok = await call('volumes.delete', { volumeId: 'vol-scratch01' });
    assert.deepEqual(ok.result, { volumeId: 'vol-scratch01', deleted: true, sizeGb: 100, blocksDeleted: 16 });
    assert.equal(await count("volume_blocks WHERE volume_id = 'vol-scratch01'"), 0);
    const gone = await call('volumes.delete', { volumeId: 'vol-scratch01' });
    assert.equal(gone.error?.type, 'NotFound');
  });
});

describe('services, env, secrets, staging, audit', () => {
  it('services.scale and services.restart change the service', async () => {
    const s = await call('services.scale', { service: 'api', replicas: 5 });
    assert.deepEqual(s.result, { service: 'api', previousReplicas: 3, replicas: 5 });
    assert.equal((await db.pool.query("SELECT replicas FROM services WHERE name = 'api'")).rows[0].replicas, 5);
    const r = await call('services.restart', { service: 'search' });
    assert.equal((r.result as { restartCount: number }).restartCount, 1);
    assert.equal((await call('services.restart', { service: 'nope' })).error?.type, 'NotFound');
  });

  it('env.modifyProduction sets the value and never logs it', async () => {
    const secret = 'postgres://api:s3cr3t-value@db/prod';
    const r = await call('env.modifyProduction', { service: 'api', key: 'DATABASE_URL', value: secret });
    assert.equal(r.status, 'executed');
    assert.equal((r.result as { created: boolean }).created, false);
    assert.equal((await db.pool.query("SELECT value FROM service_env WHERE service = 'api' AND key = 'DATABASE_URL'")).rows[0].value, secret);
    const ev = await events(r.sessionId);
    assert.equal(ev.length, 2);
    for (const e of ev) assert.equal(e.args.value, `[REDACTED: ${secret.length} characters]`);
    const stored = JSON.stringify(await db.pool.query('SELECT * FROM events WHERE session_id = $1', [r.sessionId]).then((q) => q.rows));
    assert.ok(!stored.includes('s3cr3t'), 'the value reaches no audit row');
    assert.ok(!JSON.stringify(r.result).includes('s3cr3t'));
  });

  it('env.modifyProduction: runTool re-redacts write-ahead events the caller forgot to redact', async () => {
    const sessionId = `s-${randomUUID()}`;
    const args = { service: 'web', key: 'API_TOKEN', value: 'tok-very-secret' };
    const at = new Date().toISOString();
    await tools.runTool({ sessionId, proposalSeq: 1, tool: 'env.modifyProduction', args, idempotencyKey: `${sessionId}:1`, before: [{ sessionId, seq: 1, kind: 'proposed', at, tool: 'env.modifyProduction', args }], afterSeq: 2, at });
    const ev = await events(sessionId);
    assert.ok(!JSON.stringify(ev).includes('tok-very-secret'));
  });

  it('secrets.rotate adds a version and never returns the material', async () => {
    const before = await db.pool.query("SELECT current_version FROM secrets WHERE service = 'api' AND name = 'db-password'");
    const r = await call('secrets.rotate', { service: 'api', secret: 'db-password' });
    const out = r.result as { version: number; previousVersion: number };
    assert.equal(out.previousVersion, before.rows[0].current_version);
    assert.equal(out.version, out.previousVersion + 1);
    const mat = await db.pool.query("SELECT material FROM secret_versions WHERE service = 'api' AND name = 'db-password' AND version = $1", [out.version]);
    const material = mat.rows[0].material as string;
    assert.ok(material.length >= 32);
    assert.ok(!JSON.stringify(r.result).includes(material));
    assert.ok(!JSON.stringify(await events(r.sessionId)).includes(material));
  });

  it('staging.writeConfig writes staging config', async () => {
    const r = await call('staging.writeConfig', { key: 'feature.search.enabled', value: 'true' });
    assert.deepEqual(r.result, { key: 'feature.search.enabled', created: true });
    assert.equal((await db.pool.query("SELECT value FROM staging_config WHERE key = 'feature.search.enabled'")).rows[0].value, 'true');
  });

  it('audit.modify refuses, permanently', async () => {
    const r = await call('audit.modify', { change: 'erase session 42' });
    assert.deepEqual([r.status, r.error?.type, r.error?.retryable], ['failed', 'AuditImmutable', false]);
  });

  it('an unknown tool is recorded as failed and its strings redacted', async () => {
    const p = await tools.prepareCall({ tool: 'db.dropEverything', args: { password: 'pw' } });
    assert.deepEqual([p.valid, p.issues?.[0]?.code, p.redactedArgs], [false, 'unknown_tool', { password: '[REDACTED: 2 characters]' }]);
    const r = await call('db.dropEverything', { password: 'pw' });
    assert.equal(r.error?.type, 'UnknownToolError');
    const ev = await events(r.sessionId);
    assert.deepEqual(ev.map((e) => [e.kind, e.args.password]), [['proposed', '[REDACTED: 2 characters]'], ['failed', '[REDACTED: 2 characters]']]);
  });
});
