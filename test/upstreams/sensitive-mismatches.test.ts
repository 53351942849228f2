/**
 * A server's `sensitive` list that names a tool the server does not list, or an argument the tool
 * does not declare, redacts nothing: the secret reaches the append-only trail as written. Each such
 * entry is reported (the worker's log, `gatehouse policy check --config`); a matching one is not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { sensitiveMismatches } from '../../activities/upstreams';

const tools: Pick<Tool, 'name' | 'inputSchema'>[] = [
  { name: 'write_file', inputSchema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } } } },
  { name: 'login', inputSchema: { type: 'object', properties: { auth: { type: 'object' } } } },
];

test('entries that match redact; a typo in a tool name or a path is reported, one line each', () => {
  assert.deepEqual(sensitiveMismatches({ name: 'fs', sensitive: { write_file: ['content'], login: ['auth.token', '*'] } }, tools), []);
  assert.deepEqual(sensitiveMismatches({ name: 'fs', sensitive: { writefile: ['content'], write_file: ['contents', 'content'] } }, tools), [
    'upstream `fs`: `sensitive` names tool `writefile`, which the server does not list: it redacts nothing',
    'upstream `fs`: `sensitive` path `contents` of `write_file` names no argument the tool declares: it redacts nothing',
  ]);
});

test('names from the configuration are shown on one line', () => {
  const [line] = sensitiveMismatches({ name: 'fs', sensitive: { 'x\nwarning: all clear': ['a'] } }, tools);
  assert.equal(line, 'upstream `fs`: `sensitive` names tool `x\\u000awarning: all clear`, which the server does not list: it redacts nothing');
});
