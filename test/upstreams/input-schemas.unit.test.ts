/**
 * Upstream input schemas compiled once (no server): a server listing its tools again, or announcing
 * `list_changed` in a loop with fresh schema objects, compiles nothing new and grows nothing — the
 * validators are kept by schema text, at most `MAX_COMPILED_SCHEMAS` — and every kept one still checks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileInputSchema, compiledSchemas, MAX_COMPILED_SCHEMAS } from '../../activities/upstreams/tools';

const schema = (n: number) => ({ type: 'object', properties: { [`p${n}`]: { type: 'integer', maximum: n } }, required: [`p${n}`], additionalProperties: false });

test('the same schema, listed again as a new object, is the same validator; a thousand relistings add nothing', () => {
  const first = compileInputSchema(schema(1));
  assert.equal(typeof first, 'function');
  const before = compiledSchemas();
  for (let i = 0; i < 1_000; i++) assert.equal(compileInputSchema(JSON.parse(JSON.stringify(schema(1)))), first);
  assert.deepEqual(compiledSchemas(), before);
  const draft2020 = compileInputSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema(1) });
  assert.notEqual(draft2020, first, 'each dialect its own');
});

test('a flood of distinct schemas keeps at most the cap, replaces the compilers as it goes, and each validator still checks', () => {
  const early = compileInputSchema(schema(-1));
  const { generation } = compiledSchemas();
  for (let i = 0; i < 2 * MAX_COMPILED_SCHEMAS + 300; i++) compileInputSchema(schema(i));
  assert.deepEqual(compiledSchemas(), { kept: MAX_COMPILED_SCHEMAS, generation: generation + 2 }, 'ajv keeps something of each schema it compiled: its instances go');
  assert.ok(typeof early === 'function');
  assert.equal(early({ 'p-1': -1 }), true, 'a validator of a replaced compiler still checks');
  assert.equal(early({ 'p-1': 0 }), false);
  const validate = compileInputSchema(schema(7));
  assert.ok(typeof validate === 'function');
  assert.equal(validate({ p7: 7 }), true);
  assert.equal(validate({ p7: 8 }), false);
  assert.equal(validate({}), false);
  assert.match(String((compileInputSchema({ type: 'nope' }) as { error: string }).error), /schema is invalid/);
});
