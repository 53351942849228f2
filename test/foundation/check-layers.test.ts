/** The layering check (`npm run lint`): each rule of DESIGN.md's layers, on made-up sources. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFile, importsOf } from '../../scripts/check-layers';

const ROOT = '/project';
const check = (file: string, text: string) => checkFile(ROOT, file, text).map((v) => `${v.line}: ${v.message}`);

test('policies may import packages and each other, nothing else of the project, no node built-in', () => {
  assert.deepEqual(check('policies/a.ts', "import { z } from 'zod';\nimport { b } from './b';\nimport { sha256 } from '@noble/hashes/sha2';"), []);
  assert.deepEqual(check('policies/a.ts', "import { createHash } from 'node:crypto';"), ['1: policies must not import the node built-in `node:crypto`']);
  assert.deepEqual(check('policies/a.ts', "\nimport fs from 'fs';"), ['2: policies must not import the node built-in `fs`']);
  assert.deepEqual(check('policies/sub/a.ts', "import type { X } from '../../audit/types';"), ['1: policies must not import project code `../../audit/types`']);
});

test('workflows import activities, audit, approvals only as types, and never pg', () => {
  assert.deepEqual(check('workflows/s.ts', "import type * as acts from '../activities';\nimport { type AuditEventInput } from '../audit/types';"), []);
  assert.deepEqual(check('workflows/s.ts', "import { createActivities } from '../activities';"), [
    '1: workflow code must import `../activities` as types only (`import type`)',
  ]);
  assert.deepEqual(check('workflows/s.ts', "import { Pool } from 'pg';"), ['1: workflow code must not value-import `pg`']);
  assert.deepEqual(check('workflows/s.ts', "export { x } from '../approvals/types';"), ['1: workflow code must import `../approvals/types` as types only (`import type`)']);
  assert.deepEqual(check('workflows/s.ts', "import { evaluate } from '../policies';"), []);
  // The one pure module of approvals/ workflow code may use (a span's tool name).
  assert.deepEqual(check('workflows/s.ts', "import { shownLineAtMost } from '../approvals/shown-text';"), []);
});

test('a reversed arrow is reported, a forward one is not', () => {
  assert.deepEqual(check('cli/commands/x.ts', "import { Gatehouse } from '../../client';\nimport { migrate } from '../../audit/migrate';"), []);
  assert.deepEqual(check('audit/store.ts', "import { sessionWorkflowId } from '../workflows/contract';"), [
    '1: reversed layer arrow: `audit` must not import `workflows` (`../workflows/contract`)',
  ]);
  assert.deepEqual(check('client/index.ts', "const w = require('../worker/x');"), ['1: reversed layer arrow: `client` must not import `worker` (`../worker/x`)']);
  assert.deepEqual(check('activities/a.ts', "async function f() { await import('../cli/main'); }"), [
    '1: reversed layer arrow: `activities` must not import `cli` (`../cli/main`)',
  ]);
  assert.deepEqual(check('activities/a.ts', "import type { ApprovalRequest } from '../approvals/types';"), []);
});

test('the approval domain sits at the bottom, its Slack app at the top', () => {
  assert.deepEqual(check('activities/approvals.ts', "import { ApprovalStore } from '../approvals/store';"), []);
  assert.deepEqual(check('approvals/slack/app.ts', "import { decide } from '../../client/decide';\nimport { renderRequest } from '../messages';"), []);
  assert.deepEqual(check('approvals/store.ts', "import { checkout } from '../audit/checkout';"), []);
  assert.deepEqual(check('approvals/store.ts', "import { createApprovalsApp } from './slack/app';"), [
    '1: reversed layer arrow: `approvals` must not import `approvals/slack` (`./slack/app`)',
  ]);
  assert.deepEqual(check('approvals/decide.ts', "import { signDecision } from '../client/trust/sign';"), [
    '1: reversed layer arrow: `approvals` must not import `client` (`../client/trust/sign`)',
  ]);
});

test('a type-only import goes down the arrows too, except the workflow contract', () => {
  assert.deepEqual(check('approvals/types.ts', "import type { SigningKey } from '../client/trust/key-files';"), [
    '1: reversed layer arrow: `approvals` must not import `client` (`../client/trust/key-files`)',
  ]);
  assert.deepEqual(check('activities/a.ts', "import type { StackFile } from '../worker/stack';"), [
    '1: reversed layer arrow: `activities` must not import `worker` (`../worker/stack`)',
  ]);
  assert.deepEqual(check('audit/trace.ts', "import type { ProposeResult } from '../workflows/contract';"), []);
  assert.deepEqual(check('audit/trace.ts', "import { approvalSignal } from '../workflows/contract';"), [
    '1: reversed layer arrow: `audit` must not import `workflows` (`../workflows/contract`)',
  ]);
  assert.deepEqual(check('audit/trace.ts', "import type { SessionState } from '../workflows/runtime';"), [
    '1: reversed layer arrow: `audit` must not import `workflows` (`../workflows/runtime`)',
  ]);
});

test('files outside the layer folders are not checked', () => {
  assert.deepEqual(check('test/x.test.ts', "import { startStack } from '../worker/devstack/stack';"), []);
});

test('importsOf finds every kind of import with its line and type-only flag', () => {
  const refs = importsOf('a.ts', "import a from 'a';\nimport type { B } from 'b';\nexport * from 'c';\nconst d = require('d');\nimport e = require('e');\nimport { type F, g } from 'f';");
  assert.deepEqual(refs, [
    { specifier: 'a', line: 1, typeOnly: false },
    { specifier: 'b', line: 2, typeOnly: true },
    { specifier: 'c', line: 3, typeOnly: false },
    { specifier: 'd', line: 4, typeOnly: false },
    { specifier: 'e', line: 5, typeOnly: false },
    { specifier: 'f', line: 6, typeOnly: false },
  ]);
});
