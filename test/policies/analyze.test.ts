import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzePaths } from '../../policies';
import { examplePolicy, policyOf } from './fixtures';

test('every path from a read tool to a destructive, blocked or transition-ending tool is classified', () => {
  const a = analyzePaths(examplePolicy(), 2);
  // 3 read tools × 6 targets (3 destructive incl. the always-blocked audit.modify, 3 transition ends)
  assert.equal(a.summary.paths, 18);
  assert.equal(a.paths.length, 18);
  assert.ok(a.paths.every((p) => p.tools.length === 2 && p.tools[0] !== undefined && ['billing.query', 'billing.summary', 'volumes.list'].includes(p.tools[0])));
  const byKey = new Map(a.paths.map((p) => [p.tools.join(' > '), p]));
  const incident = byKey.get('volumes.list > volumes.unmount');
  assert.equal(incident?.status, 'blocked');
  assert.equal(incident?.unlockable, true);
  assert.deepEqual(incident?.steps[1]?.rules, ['transition.forbidden', 'tier.write']);
  const audit = byKey.get('billing.query > audit.modify');
  assert.equal(audit?.status, 'blocked');
  assert.equal(audit?.unlockable, false);
  assert.equal(byKey.get('billing.query > billing.deleteRecords')?.status, 'approval');
  assert.equal(a.summary.blocked + a.summary.approval + a.summary.autonomous, a.summary.paths);
  assert.equal(a.summary.blocked, 4);
});

test('longer paths go through writes and find sequences the pairs alone do not show', () => {
  const a = analyzePaths(examplePolicy(), 3);
  const key = (p: { tools: readonly string[] }) => p.tools.join(' > ');
  const scaleEnv = a.paths.find((p) => key(p) === 'billing.query > services.scale > env.modifyProduction');
  assert.equal(scaleEnv?.status, 'blocked');
  const seq = a.paths.find((p) => key(p) === 'volumes.list > volumes.unmount > volumes.delete');
  assert.equal(seq?.status, 'blocked');
  assert.ok(a.paths.every((p) => new Set(p.tools).size === p.tools.length), 'no tool twice on a path');
  assert.ok(a.summary.paths > 18);
});

test('a permissive policy shows autonomous paths to destructive tools', () => {
  const p = policyOf({ tiers: { destructive: { default: 'autonomous' } }, alwaysBlocked: [] });
  const a = analyzePaths(p, 2);
  const del = a.paths.find((x) => x.tools.join(' > ') === 'billing.query > volumes.delete');
  assert.equal(del?.status, 'autonomous');
  assert.ok(a.summary.autonomous > 0);
});

test('enumeration stops at the path limit and says so', () => {
  const a = analyzePaths(examplePolicy(), 4, 10);
  assert.equal(a.paths.length, 10);
  assert.equal(a.truncated, true);
});

test('an agent-wide transition ends paths and blocks them inside one session too; in shadow mode it does not', () => {
  const doc = (mode?: 'shadow') => ({
    transitions: [],
    tools: { 'volumes.unmount': { tier: 'autonomous' } },
    agent: { transitions: [{ from: 'volumes.list', to: 'volumes.unmount', within: { minutes: 30 }, ...(mode ? { mode } : {}) }] },
  });
  const path = (a: ReturnType<typeof analyzePaths>) => a.paths.find((p) => p.tools.join(' > ') === 'volumes.list > volumes.unmount');
  const enforced = path(analyzePaths(policyOf(doc()), 2));
  assert.equal(enforced?.status, 'blocked');
  assert.deepEqual(enforced?.steps.map((s) => s.rules), [[], ['agent.sequence']]);
  assert.equal(enforced?.unlockable, false, 'no out-of-band unlock for a cross-session rule');
  // From another read tool it runs on its own; in shadow mode the transition ends no path.
  assert.equal(analyzePaths(policyOf(doc()), 2).paths.find((p) => p.tools.join(' > ') === 'billing.query > volumes.unmount')?.status, 'autonomous');
  assert.equal(path(analyzePaths(policyOf(doc('shadow')), 2)), undefined);
});
