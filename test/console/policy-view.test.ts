/**
 * The policy page's pure parts, without a browser: "the policy without a rule" for every rule the
 * alerts page links — each an alert the page lists, each draft a valid policy in which
 * that rule is in shadow mode (the rest unchanged) — and the paths graph escaping what a draft names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample';
import { DROPPABLE_RULES, graphOf, parseDraft, policyWithout } from '../../console/policy-view';
import { compilePolicy, parsePolicy, parsePolicyText, raisesAlert, type PolicyDocument } from '../../policies';

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
