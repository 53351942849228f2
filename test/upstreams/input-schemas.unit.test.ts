/**
 * Upstream input schemas compiled once (no server): a server listing its tools again, or announcing
 * `list_changed` in a loop with fresh schema objects, compiles nothing new and grows nothing — the
 * validators are kept by schema text, at most `MAX_COMPILED_SCHEMAS` — and every kept one still checks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileInputSchema, compiledSchemaCount, MAX_COMPILED_SCHEMAS } from '../../activities/upstreams/tools';

const schema = (n: number) => ({ type: 'object', properties: { [`p${n}`]: { type: 'integer', maximum: n } }, required: [`p${n}`], additionalProperties: false });

test('the same schema, listed again as a new object, is the same validator; a thousand relistings add nothing', () => {
  const first = compileInputSchema(schema(1));
  assert.equal(typeof first, 'function');
  const before = compiledSchemaCount();
  for (let i = 0; i < 1_000; i++) assert.equal(compileInputSchema(JSON.parse(JSON.stringify(schema(1)))), first);
  assert.equal(compiledSchemaCount(), before);
  const draft2020 = compileInputSchema({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema(1) });
  assert.notEqual(draft2020, first, 'each dialect its own');
});

test('a flood of distinct schemas keeps at most the cap, and each validator still checks', () => {
  for (let i = 0; i < MAX_COMPILED_SCHEMAS + 300; i++) compileInputSchema(schema(i));
  assert.equal(compiledSchemaCount(), MAX_COMPILED_SCHEMAS);
  const validate = compileInputSchema(schema(7));
  assert.ok(typeof validate === 'function');
  assert.equal(validate({ p7: 7 }), true);
  assert.equal(validate({ p7: 8 }), false);
  assert.equal(validate({}), false);
  assert.match(String((compileInputSchema({ type: 'nope' }) as { error: string }).error), /schema is invalid/);
});
