/**
 * compilePolicy (policies/compile.ts) pinned exactly: each compiled transition and its message,
 * every kind of warning with its path, a tool's tier (table, fallback, override, shadow override,
 * always blocked) and message, argument bounds merged by path, blast radius, rates, approvers and
 * the unlock, each source of `hasShadow`, and what the rate windows keep. Pure: no server.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy, parsePolicy, type CompiledPolicy, type PolicyDocument, type ToolInfo } from '../../policies';
import { approverRuleFor, requirement } from '../../policies/compile';

type Hints = { server: string; tool: string };
const t = (name: string, effect: 'read' | 'write' | 'destructive', environment = 'production', upstream?: Hints): ToolInfo => ({
  name, description: name, effect, environment, resource: 'r', estimatesBlastRadius: false, ...(upstream ? { upstream } : {}),
});
const CATALOG: readonly ToolInfo[] = [t('db.get', 'read'), t('db.put', 'write', 'staging'), t('db.drop', 'destructive'), t('vm.stop', 'write', 'dev')];
const UPSTREAM: readonly ToolInfo[] = [
  ...CATALOG,
  t('gh.list', 'write', 'x', { server: 'gh', tool: 'list' }),
  t('gh.nuke', 'write', 'x', { server: 'gh', tool: 'nuke' }),
  t('gh.resources/read', 'read', 'x', { server: 'gh', tool: 'resources/read' }),
  t('lab.prompts/get', 'read', 'x', { server: 'lab', tool: 'prompts/get' }),
];

function doc(input: unknown): PolicyDocument {
  const r = parsePolicy(input);
  if (!r.success) assert.fail(JSON.stringify(r.issues));
  return r.data;
}
const compile = (input: unknown, catalog: readonly ToolInfo[] = CATALOG): CompiledPolicy => compilePolicy(doc(input), catalog);
const tool = (p: CompiledPolicy, name: string) => {
  const c = p.tools.get(name);
  assert.ok(c, name);
  return c;
};

describe('transitions', () => {
  it('each rule compiled: id, steps, window in ms, shadow, the message with its span and reason', () => {
    const p = compile({
      transitions: [
        { from: 'db.get', to: 'db.put', within: { steps: 1 } },
        { sequence: ['db.*', 'vm.stop', 'db.drop'], within: { steps: 2, minutes: 5 }, reason: 'r' },
        { id: 'late', from: 'vm.stop', to: 'db.put', within: { minutes: 1.5 }, mode: 'shadow' },
        { from: 'db.get', to: 'db.drop' },
      ],
    });
    assert.deepEqual(p.transitions.map(({ globs, ...rest }) => ({ ...rest, globs: globs.map((g) => g.source) })), [
      { id: 'db.get -> db.put', globs: ['db.get', 'db.put'], steps: 1, withinMs: undefined, shadow: false, message: '`db.get` then `db.put` within 1 step is a forbidden transition' },
      { id: 'db.* -> vm.stop -> db.drop', globs: ['db.*', 'vm.stop', 'db.drop'], steps: 2, withinMs: 300_000, shadow: false, message: '`db.*` then `vm.stop` then `db.drop` within 2 steps and within 5 minutes is a forbidden transition: r' },
      { id: 'late', globs: ['vm.stop', 'db.put'], steps: undefined, withinMs: 90_000, shadow: true, message: '`vm.stop` then `db.put` within 1.5 minutes is a forbidden transition' },
      { id: 'db.get -> db.drop', globs: ['db.get', 'db.drop'], steps: undefined, withinMs: undefined, shadow: false, message: '`db.get` then `db.drop` is a forbidden transition' },
    ]);
    assert.equal(p.hasShadow, true, 'a shadow transition');
    assert.deepEqual(tool(p, 'db.put').transitions, [{ rule: 0, positions: [1], completes: true }, { rule: 1, positions: [0], completes: false }, { rule: 2, positions: [1], completes: true }]);
    assert.deepEqual(tool(p, 'db.drop').transitions, [{ rule: 1, positions: [0, 2], completes: true }, { rule: 3, positions: [1], completes: true }]);
    assert.deepEqual(tool(p, 'db.get').transitions, [{ rule: 0, positions: [0], completes: false }, { rule: 1, positions: [0], completes: false }, { rule: 3, positions: [0], completes: false }]);
    assert.equal(compile({ mode: 'shadow', transitions: [{ from: 'db.get', to: 'db.put' }] }).transitions[0]?.shadow, true, 'a shadow policy');
  });
});

describe('warnings', () => {
  it('every rule that matches nothing, each unclassified upstream tool, each server named that offers nothing', () => {
    const p = compile(
      {
        transitions: [{ sequence: ['db.*', 'nope', 'db.drop'] }, { from: 'x.y', to: 'db.put' }, { from: 'db.get', to: 'x.z' }],
        tools: { 'zz.*': { tier: 'blocked' }, 'db.get': {} },
        upstreamTools: { 'gh.list': { effect: 'read' }, 'zz.none': { effect: 'read' }, 'gh.resources/*': { effect: 'read' } },
        upstreamResources: { gh: ['file:///x'], lab: ['file:///y'] },
        upstreamPrompts: { gh: ['p'], lab: ['q'] },
        agent: { budgets: [{ tools: ['db.get'], max: 1, windowMinutes: 5 }, { tools: ['qq.*'], max: 1, windowMinutes: 5 }], transitions: [{ from: 'qq.a', to: 'qq.b', within: { minutes: 5 } }] },
        owner: { transitions: [{ from: 'db.get', to: 'db.put', within: { minutes: 5 } }, { id: 'none', from: 'qq.a', to: 'db.put', within: { minutes: 5 } }] },
      },
      UPSTREAM,
    );
    assert.deepEqual(p.warnings, [
      { code: 'unused', path: 'transitions[0].sequence[1]', message: '`nope` matches no tool of the catalog', subject: 'nope' },
      { code: 'unused', path: 'transitions[1].from', message: '`x.y` matches no tool of the catalog', subject: 'x.y' },
      { code: 'unused', path: 'transitions[2].to', message: '`x.z` matches no tool of the catalog', subject: 'x.z' },
      { code: 'unused', path: 'tools["zz.*"]', message: '`zz.*` matches no tool of the catalog', subject: 'zz.*' },
      { code: 'unclassified', path: 'upstreamTools', message: 'upstream tool `gh.nuke` is not classified by the policy: it is unknown and denied' },
      { code: 'unused', path: 'upstreamTools["zz.none"]', message: '`zz.none` matches no upstream tool', subject: 'zz.none' },
      { code: 'unused', path: 'upstreamTools["gh.resources/*"]', message: '`gh.resources/*` matches no upstream tool', subject: 'gh.resources/*' },
      { code: 'unused', path: 'upstreamResources.lab', message: 'upstream server `lab` offers no resources' },
      { code: 'unused', path: 'upstreamPrompts.gh', message: 'upstream server `gh` offers no prompts' },
      { code: 'unused', path: 'agent.budgets[1]', message: '`qq.*` matches no tool of the catalog' },
      { code: 'unused', path: 'agent.transitions[0]', message: '`qq.a -> qq.b` matches no tool of the catalog' },
    ]);
    assert.deepEqual(p.unclassified, ['gh.nuke']);
    assert.deepEqual(p.catalog.map((i) => i.name), ['db.get', 'db.put', 'db.drop', 'vm.stop', 'gh.list', 'gh.resources/read', 'lab.prompts/get']);
    assert.deepEqual(tool(p, 'gh.list').upstream, { effect: 'read', environment: 'production', resource: 'gh', idempotent: false, rule: 'gh.list' });
    assert.deepEqual({ ...tool(p, 'gh.list').info, upstream: undefined }, { ...t('gh.list', 'read'), resource: 'gh', upstream: undefined });
    assert.equal(tool(p, 'db.get').upstream, undefined);
  });

  it('an unclassified resources/prompts tool is not worth a warning; without upstream tools no upstream section is checked', () => {
    const lab = [t('lab.resources/read', 'read', 'x', { server: 'lab', tool: 'resources/read' })];
    assert.deepEqual(compile({}, lab).warnings, []);
    assert.deepEqual(compile({}, lab).unclassified, ['lab.resources/read']);
    assert.deepEqual(compile({ upstreamTools: { 'gh.x': { effect: 'read' } }, upstreamResources: { gh: ['file:///x'] }, upstreamPrompts: { gh: ['p'] } }).warnings, []);
  });

  it('an estimator the policy cannot use is a warning', () => {
    const p = compile({ upstreamTools: { 'gh.list': { effect: 'write', estimate: { tool: 'gh.nuke' } }, 'gh.nuke': { effect: 'write' } } }, UPSTREAM);
    assert.deepEqual(p.warnings.filter((w) => w.code === 'estimate'), [
      { code: 'estimate', path: 'upstreamTools', message: 'estimator `gh.nuke` of `gh.list` is not a read tool of the same server classified by the policy: no estimate is made' },
    ]);
  });
});

describe('a tool', () => {
  it('its tier from the effect × environment table, the default, or read autonomous / else approval; each message', () => {
    const p = compile({ tiers: { read: { production: 'blocked' }, write: { dev: 'autonomous' }, destructive: {} } });
    const summary = (n: string) => {
      const c = tool(p, n);
      return [c.tier, c.tierRule, c.tierMessage, c.write, c.critical];
    };
    assert.deepEqual(summary('db.get'), ['blocked', 'tier.read', 'read tool `db.get` on production is blocked (tier table)', false, false]);
    assert.deepEqual(summary('vm.stop'), ['autonomous', 'tier.write', 'write tool `vm.stop` on dev runs autonomously (tier table)', true, false]);
    assert.deepEqual(summary('db.put'), ['approval', 'tier.write', 'write tool `db.put` on staging needs human approval (tier table)', true, true]);
    assert.deepEqual(summary('db.drop'), ['approval', 'tier.destructive', 'destructive tool `db.drop` on production needs human approval (tier table)', true, true]);
    const fallback = compile({ tiers: { read: { staging: 'blocked' } } });
    assert.equal(tool(fallback, 'db.get').tier, 'autonomous');
    assert.equal(compile({ tiers: { destructive: { default: 'autonomous' } } }).tools.get('db.drop')?.critical, true, 'destructive is critical at any tier');
  });

  it('the first override that sets a tier wins (exact name first); a shadow override only says what it would have made it', () => {
    const p = compile({ tools: { 'db.*': { tier: 'blocked' }, 'db.get': { tier: 'approval' }, 'vm.*': { tier: 'autonomous', mode: 'shadow' }, 'db.put': {} } });
    const get = tool(p, 'db.get');
    assert.deepEqual([get.tier, get.tierRule, get.tierMessage, get.shadowTier, get.critical], ['approval', 'tool.tier', 'read tool `db.get` on production needs human approval (per-tool override)', undefined, true]);
    const put = tool(p, 'db.put');
    assert.deepEqual([put.tier, put.tierRule, put.tierMessage], ['blocked', 'tool.tier', 'write tool `db.put` on staging is blocked (per-tool override)']);
    const stop = tool(p, 'vm.stop');
    assert.deepEqual([stop.tier, stop.tierRule, stop.shadowTier, stop.tierShadow], ['approval', 'tier.write', { tier: 'autonomous', rule: 'tool.tier', message: 'write tool `vm.stop` on dev runs autonomously (per-tool override)' }, false]);
    assert.equal(p.hasShadow, true);
    assert.equal(compile({ mode: 'shadow' }).tools.get('db.get')?.tierShadow, true);
  });

  it('always blocked: the tier is blocked unless the entry is shadow; the entries it matches, with their reason', () => {
    const p = compile({ alwaysBlocked: ['db.drop', { tool: 'db.*', mode: 'shadow', reason: 'data' }, { tool: 'vm.*' }] });
    assert.deepEqual(p.blockedGlobs.map(({ glob, ...rest }) => ({ ...rest, glob: glob.source })), [
      { glob: 'db.drop', shadow: false, rule: 'tool.always-blocked', message: '`db.drop` is always blocked by policy; no approver can unlock it' },
      { glob: 'db.*', shadow: true, rule: 'tool.always-blocked', message: '`db.*` is always blocked by policy: data; no approver can unlock it' },
      { glob: 'vm.*', shadow: false, rule: 'tool.always-blocked', message: '`vm.*` is always blocked by policy; no approver can unlock it' },
    ]);
    assert.equal(tool(p, 'db.drop').tier, 'blocked');
    assert.deepEqual(tool(p, 'db.drop').alwaysBlocked.map((b) => b.shadow), [false, true]);
    assert.equal(tool(p, 'db.get').tier, 'autonomous', 'only a shadow entry matches');
    assert.equal(tool(p, 'vm.stop').tier, 'blocked');
    assert.equal(p.hasShadow, true);
    assert.equal(compile({ mode: 'shadow', alwaysBlocked: ['db.get'] }).tools.get('db.get')?.tier, 'blocked', 'a shadow policy still enforces always-blocked');
  });

  it('argument bounds merged by path, the first rule that bounds a path wins; blast radius from the first rule that sets one', () => {
    const p = compile({
      tools: {
        'db.*': { mode: 'shadow', args: { 'a.b': { max: 1 }, c: { pattern: '^x$' } }, blastRadius: { denyAbove: 9 } },
        'db.put': { args: { 'a.b': { max: 2 } } },
        'db.p*': { blastRadius: { approvalAbove: 3 } },
      },
    });
    const put = tool(p, 'db.put');
    assert.deepEqual(put.args, [
      { path: 'a.b', segments: ['a', 'b'], bound: { max: 2 }, regex: undefined, shadow: false, asRun: true },
      { path: 'c', segments: ['c'], bound: { pattern: '^x$' }, regex: /^x$/u, shadow: true, asRun: true },
    ]);
    assert.equal(put.args[1]?.regex?.unicode, true);
    assert.deepEqual(put.blast, { denyAbove: 9, shadow: true });
    assert.equal(tool(p, 'vm.stop').blast, undefined);
    assert.deepEqual(tool(p, 'vm.stop').args, []);
  });

  it('rates: the policy\'s default, the tool\'s own instead, or both when the tool\'s is shadow (its rule\'s mode when it has none)', () => {
    const p = compile({
      rateLimits: { perTool: { max: 10, perSeconds: 30 }, perSession: { max: 7, perSeconds: 90 } },
      tools: { 'db.get': { rateLimit: { max: 3, perSeconds: 200 } }, 'db.put': { rateLimit: { max: 50, perSeconds: 5, mode: 'shadow' } }, 'db.drop': { mode: 'shadow', rateLimit: { max: 1, perSeconds: 1 } } },
    });
    assert.deepEqual(tool(p, 'db.get').rates, [{ max: 3, perMs: 200_000, shadow: false }]);
    assert.deepEqual(tool(p, 'db.put').rates, [{ max: 10, perMs: 30_000, shadow: false }, { max: 50, perMs: 5_000, shadow: true }]);
    assert.deepEqual(tool(p, 'db.drop').rates, [{ max: 10, perMs: 30_000, shadow: false }, { max: 1, perMs: 1_000, shadow: true }]);
    assert.deepEqual(tool(p, 'vm.stop').rates, [{ max: 10, perMs: 30_000, shadow: false }]);
    assert.deepEqual(p.sessionRate, { max: 7, perMs: 90_000, shadow: false });
    assert.deepEqual(p.rateKeep, { session: 7, tool: 50, windowMs: 200_000 });
    assert.deepEqual(compile({ rateLimits: { perTool: { max: 10, perSeconds: 30 }, perSession: { max: 1, perSeconds: 900 } } }).rateKeep, { session: 1, tool: 10, windowMs: 900_000 });
    assert.deepEqual(compile({ rateLimits: { perTool: { max: 10, perSeconds: 30 } } }).rateKeep, { session: 0, tool: 10, windowMs: 30_000 });
    assert.equal(compile({}).sessionRate, undefined);
  });
});

describe('approvers', () => {
  const D = doc({
    approvers: {
      groups: { a: [], b: [], c: [], u: [] },
      default: { groups: ['c'] },
      rules: [
        { tools: ['db.*'], effects: ['destructive'], groups: ['a'] },
        { effects: ['write'], groups: ['b'] },
        { tools: ['vm.*'], groups: ['a', 'b', 'c'], timeoutMinutes: 10, channel: '#vm', fourEyes: false, approversRequired: 2 },
      ],
      transitionUnlock: { groups: ['u'], timeoutMinutes: 1 },
    },
  });
  it('rules naming tools first (when the effect fits), then rules by effect, then the default', () => {
    const [drop, put, get, stop] = ['db.drop', 'db.put', 'db.get', 'vm.stop'].map((n) => approverRuleFor(D, CATALOG.find((i) => i.name === n)!).groups);
    assert.deepEqual([drop, put, get, stop], [['a'], ['b'], ['c'], ['a', 'b', 'c']]);
  });

  it('the requirement: minutes to ms, escalations spread evenly over the timeout unless given; the unlock from transitionUnlock', () => {
    const p = compilePolicy(D, CATALOG);
    assert.deepEqual(tool(p, 'vm.stop').approval, { groups: ['a', 'b', 'c'], approversRequired: 2, escalateAfterMs: [200_000, 400_000], timeoutMs: 600_000, channel: '#vm', fourEyes: false, unlocksTransition: false });
    assert.deepEqual(tool(p, 'vm.stop').unlock, { groups: ['u'], approversRequired: 1, escalateAfterMs: [], timeoutMs: 60_000, channel: '#gatehouse-approvals', fourEyes: true, unlocksTransition: true });
    const rule = { groups: ['a', 'b', 'c'], approversRequired: 1, timeoutMinutes: 0.0201, channel: '#c', fourEyes: true };
    assert.deepEqual(requirement(rule, false).escalateAfterMs, [402, 804]);
    assert.equal(requirement(rule, false).timeoutMs, 1206);
    assert.deepEqual(requirement({ ...rule, escalateAfterMinutes: [0.00001, 0.01] }, true).escalateAfterMs, [1, 600]);
    const noUnlock = compile({ approvers: { groups: { a: [] }, default: { groups: ['a'], timeoutMinutes: 2 } } });
    assert.deepEqual(tool(noUnlock, 'db.get').unlock, { ...tool(noUnlock, 'db.get').approval, unlocksTransition: true });
  });
});

describe('the policy', () => {
  it('budget, cost, intent and mandate in ms and their shadow flags', () => {
    const p = compile({ budget: { windowMinutes: 2, actions: 3, writes: 2, critical: 1, readOnlyAt: 0.5 }, costCap: { tokens: 9 }, intent: { reviewBelow: 0.4, decay: 0.9 }, mandate: { effects: ['read'] } });
    assert.deepEqual(p.budget, { windowMs: 120_000, actions: 3, writes: 2, critical: 1, tokens: 9, readOnlyAt: 0.5, shadow: false });
    assert.deepEqual([p.costShadow, p.intent, p.mandate, p.hasShadow], [false, { reviewBelow: 0.4, decay: 0.9, shadow: false, writesNeedWriteIntent: false }, { effects: ['read'], shadow: false }, false]);
    assert.equal('resourceWrites' in p, false);
    const seeded = compile({ intent: { writesNeedWriteIntent: true }, resourceWrites: { afterReads: 3, within: { minutes: 2 } } });
    assert.equal(seeded.intent.writesNeedWriteIntent, true);
    assert.deepEqual(seeded.resourceWrites, { afterReads: 3, withinMs: 120_000, shadow: false });
    assert.deepEqual(compile({ resourceWrites: {} }).resourceWrites, { afterReads: 2, shadow: false });
    assert.equal(seeded.hasShadow, false);
  });

  it('each rule that runs in shadow makes hasShadow true, and only its own finding shadow', () => {
    const cases: [unknown, (p: CompiledPolicy) => unknown, unknown][] = [
      [{ mode: 'shadow' }, (p) => [p.budget.shadow, p.costShadow, p.intent.shadow, p.mandate.shadow, tool(p, 'db.get').rates[0]?.shadow], [true, true, true, true, true]],
      [{ alwaysBlocked: [{ tool: 'x', mode: 'shadow' }] }, (p) => p.blockedGlobs[0]?.shadow, true],
      [{ tools: { 'db.get': { mode: 'shadow' } } }, (p) => tool(p, 'db.get').rates[0]?.shadow, false],
      [{ tools: { 'zz.none': { mode: 'shadow' } } }, () => true, true],
      [{ tools: { 'db.get': { rateLimit: { max: 1, perSeconds: 1, mode: 'shadow' } } } }, (p) => tool(p, 'db.get').rates.map((r) => r.shadow), [false, true]],
      [{ rateLimits: { perSession: { max: 1, perSeconds: 1, mode: 'shadow' } } }, (p) => p.sessionRate?.shadow, true],
      [{ rateLimits: { perTool: { max: 1, perSeconds: 1, mode: 'shadow' } } }, (p) => tool(p, 'db.get').rates[0]?.shadow, true],
      [{ budget: { mode: 'shadow' } }, (p) => [p.budget.shadow, p.costShadow], [true, false]],
      [{ costCap: { mode: 'shadow' } }, (p) => [p.budget.shadow, p.costShadow], [false, true]],
      [{ intent: { mode: 'shadow' } }, (p) => p.intent.shadow, true],
      [{ mandate: { mode: 'shadow' } }, (p) => p.mandate.shadow, true],
      [{ resourceWrites: { mode: 'shadow' } }, (p) => p.resourceWrites?.shadow, true],
      [{ mode: 'shadow', resourceWrites: {} }, (p) => p.resourceWrites?.shadow, true],
    ];
    for (const [input, pick, want] of cases) {
      const p = compile(input);
      assert.equal(p.hasShadow, true, JSON.stringify(input));
      assert.deepEqual(pick(p), want, JSON.stringify(input));
    }
    assert.equal(compile({ tools: { 'db.get': { mode: 'enforce', rateLimit: { max: 1, perSeconds: 1, mode: 'enforce' } } }, alwaysBlocked: [{ tool: 'x', mode: 'enforce' }] }).hasShadow, false);
  });

  it('cross-session rules per tool and ledger, absent when none names the tool', () => {
    const p = compile({ agent: { budgets: [{ tools: ['db.get'], max: 1, windowMinutes: 5 }] }, owner: { budgets: [{ tools: ['db.put'], max: 1, windowMinutes: 5 }] } });
    assert.deepEqual(Object.keys(tool(p, 'db.get').crossSession ?? {}), ['agent']);
    assert.deepEqual(Object.keys(tool(p, 'db.put').crossSession ?? {}), ['owner']);
    assert.equal(tool(p, 'vm.stop').crossSession, undefined);
    assert.equal(compile({ mode: 'shadow', agent: { budgets: [{ tools: ['db.get'], max: 1, windowMinutes: 5 }] } }).tools.get('db.get')?.crossSession, undefined);
  });
});

describe('edges', () => {
  it('a later rule\'s rate limit when the first matching rule has none; enforced transitions leave hasShadow false; no upstream key on a built-in', () => {
    const p = compile({ tools: { 'db.get': { tier: 'autonomous' }, 'db.*': { rateLimit: { max: 2, perSeconds: 3 } } }, transitions: [{ from: 'db.get', to: 'db.put' }] });
    assert.deepEqual(tool(p, 'db.get').rates, [{ max: 2, perMs: 3_000, shadow: false }]);
    assert.equal(p.hasShadow, false);
    assert.equal('upstream' in tool(p, 'db.get'), false);
  });
});
