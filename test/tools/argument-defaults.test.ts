/**
 * What a tool's input schema tells the policy about the values it runs (no database): `defineTool`
 * refuses string parts that change a value after the gate judged it (`trim`, `toLowerCase`,
 * `toUpperCase`), and publishes the defaults it fills in for arguments a call leaves out — a catalog
 * tool's zod `.default()`s, an upstream tool's JSON Schema `default`s — with the tool's info, where a
 * bound on a missing argument judges them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { z } from 'zod';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { catalogInfo, createCatalog, describeCatalog } from '../../activities/tools/catalog';
import { defineTool } from '../../activities/tools/define';
import { CatalogError } from '../../activities/tools/errors';
import { inputDefaults } from '../../activities/tools/input-schema-rules';
import { createSampleCatalog } from '../../activities/tools/sample';
import { jsonSchemaDefaults, upstreamToolDefinition } from '../../activities/upstreams/tools';
import type { NamedUpstream } from '../../activities/upstreams';

// A pool that is never connected: building a catalog must not touch the database.
const pool = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none' });

function tool(name: string, input: z.ZodTypeAny) {
  return defineTool({
    name,
    description: 'a tool',
    effect: 'write',
    environment: 'test',
    resource: 'things',
    input,
    output: z.object({}),
    timeoutMs: 1000,
    retry: { maxAttempts: 1 },
    idempotent: true,
    handler: async () => ({}),
  });
}

describe('a string schema that changes the value is refused', () => {
  it('`trim`, `toLowerCase` and `toUpperCase` anywhere in the input schema, naming where', () => {
    const refused: [z.ZodTypeAny, string][] = [
      [z.object({ name: z.string().trim() }), 'string trim at `name`'],
      [z.object({ email: z.string().toLowerCase() }), 'string toLowerCase at `email`'],
      [z.object({ code: z.string().min(1).toUpperCase().max(8) }), 'string toUpperCase at `code`'],
      [z.object({ filter: z.object({ tags: z.array(z.string().trim()).optional() }) }), 'string trim at `filter.tags[]`'],
      [z.object({ a: z.union([z.number(), z.string().toLowerCase()]) }), 'string toLowerCase at `a`'],
      [z.object({ a: z.string().trim().default('x') }), 'string trim at `a`'],
      [z.string().trim(), 'string trim at `(root)`'],
    ];
    for (const [input, where] of refused) {
      assert.throws(() => tool('a.changes', input), (e: unknown) => {
        assert.ok(e instanceof CatalogError, String(e));
        assert.equal(e.message, `tool \`a.changes\`: its input schema changes the values it checks (${where}); the policy judges the arguments as proposed, so the tool must run them as they are`);
        return true;
      });
    }
    // What the gate judged is what runs: the trimmed value is another value.
    assert.notEqual(z.string().trim().parse('/srv/notes/x '), '/srv/notes/x ');
    // Checks that never change the value are fine.
    const kept = z.object({ s: z.string().min(1).max(64).regex(/^[a-z@.]+$/).email().optional(), t: z.string().startsWith('a').includes('x').default('ax') });
    assert.equal(tool('a.checks', kept).name, 'a.checks');
  });
});

describe('defaults a zod input schema publishes', () => {
  it('top-level and nested object properties, through the wrappers that let a missing value reach them', () => {
    const input = z
      .object({
        limit: z.number().int().max(500).default(50),
        dryRun: z.boolean().default(false).describe('preview only'),
        order: z.enum(['asc', 'desc']).nullable().default('asc'),
        when: z.string().optional(),
        options: z.object({ depth: z.number().default(3), mode: z.string().refine((s) => s !== '').default('fast'), off: z.number().default(1).optional() }).default({}),
        extra: z.object({ flag: z.boolean().default(true) }).optional(),
        late: z.number().optional().default(7),
        list: z.array(z.object({ n: z.number().default(1) })).default([]),
        map: z.record(z.object({ n: z.number().default(1) })),
        'dotted.key': z.number().default(1),
      })
      .strict()
      .refine(() => true);
    assert.deepEqual(inputDefaults(input), {
      limit: 50,
      dryRun: false,
      order: 'asc',
      options: {},
      'options.depth': 3,
      'options.mode': 'fast',
      'extra.flag': true,
      late: 7,
      list: [],
    });
  });

  it('union options publish only the defaults they agree on; intersections both sides; values that are not plain JSON are left out', () => {
    const union = z.union([z.object({ kind: z.literal('a'), n: z.number().default(1), m: z.number().default(2) }), z.object({ kind: z.literal('b'), n: z.number().default(1), m: z.number().default(3) })]);
    assert.deepEqual(inputDefaults(z.object({ u: union })), { 'u.n': 1 });
    assert.deepEqual(inputDefaults(z.intersection(z.object({ a: z.number().default(1) }), z.object({ b: z.string().default('x') }))), { a: 1, b: 'x' });
    assert.deepEqual(inputDefaults(z.object({ at: z.date().default(new Date(0)), n: z.number().default(Number.NaN), ok: z.number().default(0) })), { ok: 0 });
  });

  it('a schema that refers to itself is followed once along a path: a recursive union, a tree of optional children', () => {
    // A filter of filters: each option names the union again (was: the stack overflowed in defineTool).
    type Filter = { field?: string; limit?: number; and?: Filter[]; inner?: Filter } | { not: Filter };
    const filter: z.ZodType<Filter> = z.lazy(() => z.union([
      z.object({ field: z.string().optional(), limit: z.number().default(10), and: z.array(filter).optional(), inner: filter.optional() }),
      z.object({ not: filter }),
    ]));
    assert.deepEqual(tool('t.filter', z.object({ where: filter })).argumentDefaults, { 'where.limit': 10 });
    // A node with three optional children that are nodes again (was: 29,524 defaults, a hang at five children).
    type Node = { size?: number; a?: Node; b?: Node; c?: Node; d?: Node; e?: Node };
    const node: z.ZodType<Node> = z.lazy(() => z.object({ size: z.number().default(1), a: node.optional(), b: node.optional(), c: node.optional(), d: node.optional(), e: node.optional() }));
    const published = inputDefaults(z.object({ root: node.default({}) }));
    assert.deepEqual(published, { root: {}, 'root.size': 1 });
  });

  it('the sample catalog publishes its defaults with the tool info and descriptors the session snapshots', () => {
    const catalog = createSampleCatalog({ productionPool: pool });
    const info = catalogInfo(catalog);
    assert.deepEqual(info.find((t) => t.name === 'billing.query')?.argumentDefaults, { limit: 50 });
    assert.deepEqual(info.find((t) => t.name === 'volumes.list')?.argumentDefaults, { limit: 100 });
    assert.equal('argumentDefaults' in info.find((t) => t.name === 'billing.summary')!, false, 'a tool without defaults publishes none');
    const described = describeCatalog(catalog);
    assert.deepEqual(described.find((t) => t.name === 'billing.query')?.argumentDefaults, { limit: 50 });
    assert.deepEqual(JSON.parse(JSON.stringify(described)), described, 'plain JSON');
  });
});

describe('defaults an upstream tool\'s JSON Schema declares', () => {
  const schema = {
    type: 'object',
    properties: {
      path: { type: 'string' },
      dryRun: { type: 'boolean', default: false },
      head: { type: 'number', default: null },
      options: { type: 'object', default: { mode: 'fast' }, properties: { depth: { type: 'number', default: 3 }, inner: { type: 'object', properties: { flag: { type: 'string', default: 'on' } } } } },
      edits: { type: 'array', items: { type: 'object', properties: { n: { type: 'number', default: 1 } } } },
      'a.b': { type: 'number', default: 1 },
    },
    required: ['path'],
  };

  it('top-level and nested object properties, by dotted path; none under lists, none for dotted keys', () => {
    assert.deepEqual(jsonSchemaDefaults(schema), {
      dryRun: false,
      head: null,
      options: { mode: 'fast' },
      'options.depth': 3,
      'options.inner.flag': 'on',
    });
    assert.deepEqual(jsonSchemaDefaults({ type: 'object' }), {});
    assert.deepEqual(jsonSchemaDefaults(null), {});
    assert.deepEqual(jsonSchemaDefaults(JSON.parse('{ "properties": { "__proto__": { "default": 1 }, "ok": { "default": 2 } } }')), { ok: 2 });
  });

  it('published with the upstream tool\'s info', () => {
    const server = { name: 'fs', command: 'node', args: [], env: {}, timeoutMs: 5000, maxAttempts: 1, sensitive: {} } as unknown as NamedUpstream;
    const def = upstreamToolDefinition({ server, tool: { name: 'edit_file', inputSchema: schema } as Tool, caller: { callTool: async () => ({ content: [] }) }, markers: pool });
    const catalog = createCatalog([def], { database: pool });
    assert.deepEqual(catalogInfo(catalog)[0]?.argumentDefaults, jsonSchemaDefaults(schema));
  });
});
