/** `catalogMismatches`: a session's recorded catalog against the catalogs the deployment ran (pure). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { catalogMismatches } from '../../audit/catalog-evidence';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import type { ToolInfo } from '../../policies/types';

const del = SAMPLE_TOOL_INFO.find((t) => t.name === 'billing.deleteRecords')!;

describe('a recorded catalog against the deployment\'s', () => {
  test('the catalog as the deployment defines it holds; so does one of several versions', () => {
    assert.deepEqual(catalogMismatches(SAMPLE_TOOL_INFO, SAMPLE_TOOL_INFO), []);
    const older: ToolInfo = { ...del, environment: 'staging' };
    assert.deepEqual(catalogMismatches([older], [...SAMPLE_TOOL_INFO, older]), []);
  });

  test('a tool relabelled (effect, environment or resource) is named with both definitions', () => {
    assert.deepEqual(catalogMismatches([{ ...del, effect: 'read' }], SAMPLE_TOOL_INFO), [
      "`billing.deleteRecords` is recorded as read in production (billing); the deployment's catalog defines it as destructive in production (billing)",
    ]);
    assert.equal(catalogMismatches([{ ...del, environment: 'staging' }], SAMPLE_TOOL_INFO).length, 1);
    assert.equal(catalogMismatches([{ ...del, resource: 'reports' }], SAMPLE_TOOL_INFO).length, 1);
  });

  test('a built-in tool no catalog defines, or one recorded as an upstream tool, is named', () => {
    assert.deepEqual(catalogMismatches([{ ...del, name: 'billing.purgeAll', effect: 'read' }], SAMPLE_TOOL_INFO), [
      '`billing.purgeAll` is recorded as a read tool, and no catalog given to verify against defines it',
    ]);
    assert.deepEqual(catalogMismatches([{ ...del, upstream: { server: 'billing', tool: 'deleteRecords' } }], SAMPLE_TOOL_INFO), [
      "`billing.deleteRecords` is recorded as an upstream tool; the deployment's catalog defines it as a destructive tool of its own",
    ]);
  });

  test('an upstream tool is left to the policy that classifies it', () => {
    assert.deepEqual(catalogMismatches([{ ...del, name: 'fs.read_file', effect: 'read', upstream: { server: 'fs', tool: 'read_file' } }], SAMPLE_TOOL_INFO), []);
  });
});
