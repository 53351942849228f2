/**
 * The policy page without a browser: "the policy without a rule" for every rule the alerts page
 * links — each an alert the page lists, each draft a valid policy in which that rule is in shadow
 * mode (the rest unchanged) — the paths graph escaping what a draft names, and which policy the page
 * shows (against a real PostgreSQL): the worker's default one, never the one the newest session's
 * agent chose.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { parse } from 'yaml';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample';
import { AuditStore } from '../../audit/store';
import { registerOpsRoutes } from '../../console/ops-routes';
import { currentPolicy, DROPPABLE_RULES, graphOf, parseDraft, policyWithout } from '../../console/policy-view';
import type { Person } from '../../console/sessions';
import { compilePolicy, parsePolicy, parsePolicyText, raisesAlert, type PolicyDocument } from '../../policies';
import { createTestDatabase, type TestDatabase } from '../support/servers';

/** The shipped production example, with agent-wide and owner-wide rules added. */
const production = (): PolicyDocument => {
  const parsed = parsePolicyText(readFileSync(join(__dirname, '../../policies/examples/production.yaml'), 'utf8'));
  assert.ok(parsed.success);
  const cross = { budgets: [{ tools: ['volumes.delete'], max: 3, windowMinutes: 60 }], transitions: [{ from: 'volumes.list', to: 'volumes.delete', within: { minutes: 30 } }] };
  const withCross = parsePolicy({ ...parsed.data, agent: cross, owner: cross });
  assert.ok(withCross.success);
  return withCross.data;
};

describe('console: the policy without a rule', () => {
  it('exists only for alerting rules, and each draft parses with the rule in shadow mode', () => {
    const base = production();
    assert.ok(DROPPABLE_RULES.length >= 10);
    for (const rule of DROPPABLE_RULES) {
      // An alerting rule of the catalogue, or the trail's alert for intent drift (review mode).
      assert.equal(raisesAlert(rule) || rule === 'mode.review', true, rule);
      const without = policyWithout(base, rule);
      assert.notEqual(compilePolicy(without, SAMPLE_TOOL_INFO).hash, compilePolicy(base, SAMPLE_TOOL_INFO).hash, `${rule} changes the policy`);
    }
    const t = policyWithout(base, 'transition.forbidden');
    assert.deepEqual(t.transitions.map((x) => x.mode), base.transitions.map(() => 'shadow'));
    assert.deepEqual({ ...t, transitions: base.transitions }, base);
    assert.equal(policyWithout(base, 'budget.writes').budget.mode, 'shadow');
    assert.deepEqual(policyWithout(base, 'agent.sequence').agent?.transitions.map((x) => x.mode), ['shadow']);
    assert.deepEqual(policyWithout(base, 'agent.sequence').owner, base.owner);
    assert.throws(() => policyWithout(base, 'tool.unknown'), /rule `tool.unknown` cannot be taken out of a policy by itself/);
  });

  it('refuses an invalid draft with every issue and its path', () => {
    assert.throws(() => parseDraft('version: 1\nbudget: { actions: -1, writes: x }\n'), (err: any) => {
      assert.equal(err.code, 'draft-invalid');
      assert.deepEqual(err.issues.map((i: { path: string }) => i.path).sort(), ['budget.actions', 'budget.writes']);
      return true;
    });
  });

  it('escapes what a draft names in the drawn graph', () => {
    const draft = parseDraft(JSON.stringify({ version: 1, name: 'x', upstreamTools: { '<img src=x onerror=alert(1)>': { effect: 'destructive' } } }));
    const tools = [...SAMPLE_TOOL_INFO, { name: '<img src=x onerror=alert(1)>', description: 'evil', effect: 'destructive' as const, environment: 'production' as const, resource: 'x', estimatesBlastRadius: false }];
    const g = graphOf(draft, tools, 'the draft');
    assert.ok(g.paths.some((p) => p.tools.includes('<img src=x onerror=alert(1)>')));
    assert.equal(g.svg.includes('<img'), false);
    assert.ok(g.svg.includes('&lt;img src=x onerror=alert(1)&gt;'));
  });
});

describe('console: the policy the page shows', () => {
  let db: TestDatabase;
  const hour = 3_600_000;
  const named = (name: string): PolicyDocument => ({ ...production(), name });
  /** A session as the workflow records it: its row, and its `session-started` event naming the policy it ran under. */
  const session = async (sessionId: string, policyRef: string, policy: PolicyDocument, startedAt: number) => {
    const store = new AuditStore(db.pool);
    const at = new Date(startedAt).toISOString();
    await store.startSession({ sessionId, workflowId: `session-${sessionId}`, agentId: 'billing-bot', owner: 'eng-007', intent: 'x', policyHash: compilePolicy(policy, SAMPLE_TOOL_INFO).hash, policy, startedAt: at, tools: SAMPLE_TOOL_INFO });
    await store.append([{ sessionId, seq: 1, kind: 'session-started', at, detail: { policy: policyRef } }]);
  };

  before(async () => {
    db = await createTestDatabase('console_policy_view');
  });
  after(async () => {
    await db?.drop();
  });

  it('before any session under the default policy, and not given one, it has none to show', async () => {
    await session('p-lax-first', 'lax', named('lax'), Date.now() - 3 * hour);
    await assert.rejects(currentPolicy(db.pool, {}), (err: any) => {
      assert.equal(err.code, 'no-policy');
      return true;
    });
  });

  it('shows the default policy as its newest session recorded it, not the newer session an agent started under its own policy', async () => {
    await session('p-default', 'default', named('production'), Date.now() - 2 * hour);
    await session('p-lax', 'lax', named('lax'), Date.now() - hour);
    const shown = await currentPolicy(db.pool, {});
    assert.equal(shown.policy.name, 'production');
    assert.equal(shown.from, "the worker's default policy (`default`) as session `p-default`, the newest under it, recorded it");
    assert.equal(policyWithout(shown.policy, 'args.bounds').name, 'production');
  });

  it('builds "backtest without it" from the default policy, and says so', async () => {
    const app = Fastify({ logger: false });
    const olivia: Person = { principal: 'olivia', role: 'operator', credentialId: 'c', keyId: 'k', csrf: 'x', until: Date.now() + hour };
    const unused = () => assert.fail('not used by these routes');
    registerOpsRoutes(app, { pool: db.pool, policy: {}, readState: unused, operator: unused, read: () => olivia, write: () => olivia });
    try {
      const r = await app.inject({ method: 'GET', url: '/api/policy/without/args.bounds' });
      assert.equal(r.statusCode, 200);
      const body = r.json() as { from: string; draft: string };
      assert.equal(body.from, "the worker's default policy (`default`) as session `p-default`, the newest under it, recorded it");
      assert.equal((parse(body.draft) as PolicyDocument).name, 'production');
    } finally {
      await app.close();
    }
  });

  it('shows the default policy it was given, and says where it came from', async () => {
    const shown = await currentPolicy(db.pool, { policy: named('given'), origin: '/etc/gatehouse/policy.yaml' });
    assert.equal(shown.policy.name, 'given');
    assert.equal(shown.from, "the worker's default policy `/etc/gatehouse/policy.yaml`");
  });
});
