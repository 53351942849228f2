/**
 * Property tests (fast-check) over random policies and random proposal sequences.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { advance, evaluate, initialSessionState, parsePolicy, compilePolicy, replayAcrossSessions, replaySession, type CompiledPolicy, type Decision, type OutcomeStatus, type Proposal, type SessionState, type Tier, type ToolInfo } from '../../policies';
import { MINUTE, T0, TOOLS } from './fixtures';

const NAMES = TOOLS.map((t) => t.name);
const tierArb = fc.constantFrom<Tier>('autonomous', 'approval', 'blocked');
const tierMapArb = fc.record({ production: tierArb, staging: tierArb, default: tierArb }, { requiredKeys: ['default'] });
const globArb = fc.oneof(fc.constantFrom(...NAMES), fc.constantFrom('audit.*', 'volumes.*', '*.delete*', 'services.re*', 'b?lling.query', 'nothing.*'));

/** A random enforced policy document (as data) over the sample catalog. */
const policyDocArb = fc.record({
  tiers: fc.record({ read: tierMapArb, write: tierMapArb, destructive: tierMapArb }),
  alwaysBlocked: fc.array(globArb, { maxLength: 3 }),
  tools: fc.dictionary(fc.constantFrom(...NAMES), fc.record({ tier: tierArb }), { maxKeys: 4 }),
  budget: fc.record({ windowMinutes: fc.integer({ min: 1, max: 60 }), actions: fc.integer({ min: 0, max: 12 }), writes: fc.integer({ min: 0, max: 6 }), critical: fc.integer({ min: 0, max: 3 }), readOnlyAt: fc.double({ min: 0.1, max: 1, noNaN: true }) }),
  costCap: fc.record({ tokens: fc.integer({ min: 0, max: 5000 }) }),
  transitions: fc.array(fc.record({ from: globArb, to: globArb, within: fc.option(fc.record({ steps: fc.integer({ min: 1, max: 4 }) }), { nil: undefined }) }), { maxLength: 3 }).map((ts) => ts.map((t, i) => ({ ...t, id: `t${i}` }))),
  rateLimits: fc.record({ perTool: fc.record({ max: fc.integer({ min: 0, max: 5 }), perSeconds: fc.integer({ min: 1, max: 120 }) }) }),
});

interface Step {
  readonly tool: string;
  readonly dtMs: number;
  readonly tokenCost: number;
  readonly blastRadius?: number;
  readonly outcome: OutcomeStatus;
  readonly intent?: number;
}
const stepArb: fc.Arbitrary<Step> = fc.record(
  {
    tool: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...NAMES) }, { weight: 1, arbitrary: fc.constantFrom('kms.rotate', 'unknown.tool') }),
    dtMs: fc.integer({ min: 0, max: 10 * MINUTE }),
    tokenCost: fc.integer({ min: 0, max: 800 }),
    blastRadius: fc.option(fc.integer({ min: 0, max: 100_000 }), { nil: undefined }),
    outcome: fc.constantFrom<OutcomeStatus>('executed', 'executed', 'failed', 'expired'),
  },
  { requiredKeys: ['tool', 'dtMs', 'tokenCost', 'outcome'] },
);

function compile(doc: unknown): CompiledPolicy {
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new Error(`generated policy rejected: ${JSON.stringify(parsed.issues)}`);
  return compilePolicy(parsed.data, TOOLS);
}

/** Runs steps the way the workflow does; a denied call never runs. */
function drive(policy: CompiledPolicy, steps: readonly Step[], visit: (d: Decision, step: Step, before: SessionState, now: number, info: ToolInfo | undefined) => void): SessionState {
  let now = T0;
  const timed = steps.map((step) => {
    now += step.dtMs;
    const proposal: Proposal = { tool: step.tool, args: {}, reasoning: 'property', tokenCost: step.tokenCost };
    return { at: now, proposal, facts: step.blastRadius === undefined ? {} : { blastRadius: step.blastRadius }, step };
  });
  return replaySession(
    policy,
    { startedAt: T0 },
    timed,
    (d, t) => (d.verdict === 'deny' ? 'denied' : t.step.outcome),
    ({ step: t, decision, before }) => visit(decision, t.step, before, t.at, TOOLS.find((x) => x.name === t.step.tool)),
  );
}

/** Independent oracle of "blocked": an always-blocked glob, or the tier the document gives the tool. */
type GeneratedDoc = typeof policyDocArb extends fc.Arbitrary<infer D> ? D : never;

function blockedByDocument(doc: GeneratedDoc, tool: ToolInfo): boolean {
  const globMatch = (g: string) => new RegExp(`^${g.replace(/[.]/g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(tool.name);
  if (doc.alwaysBlocked.some(globMatch)) return true;
  const override = doc.tools[tool.name]?.tier;
  if (override !== undefined) return override === 'blocked';
  const map = doc.tiers[tool.effect] as Record<string, Tier>;
  return (map[tool.environment] ?? map.default) === 'blocked';
}

test('a blocked-tier tool is never allowed (nor sent to approval)', () => {
  fc.assert(
    fc.property(policyDocArb, fc.array(stepArb, { maxLength: 30 }), (doc, steps) => {
      const policy = compile(doc);
      drive(policy, steps, (d, step, _state, _now, info) => {
        if (!info) {
          assert.equal(d.verdict, 'deny', `unknown tool ${step.tool} must be denied`);
          return;
        }
        if (blockedByDocument(doc, info)) assert.equal(d.verdict, 'deny', `${step.tool} is blocked by the document`);
      });
    }),
    { numRuns: 300 },
  );
});

test('no budget is ever exceeded over random sequences', () => {
  fc.assert(
    fc.property(policyDocArb, fc.array(stepArb, { maxLength: 40 }), (doc, steps) => {
      const policy = compile(doc);
      const windowMs = doc.budget.windowMinutes * MINUTE;
      const performed: { at: number; write: boolean; critical: boolean }[] = [];
      let spent = 0;
      drive(policy, steps, (d, step, _state, now, info) => {
        if (d.verdict !== 'deny') {
          assert.ok(spent + step.tokenCost <= doc.costCap.tokens, 'an admitted call never passes the cost cap');
        }
        spent += step.tokenCost;
        if (d.verdict !== 'deny' && info && (step.outcome === 'executed' || step.outcome === 'failed')) {
          const override = doc.tools[info.name]?.tier;
          const map = doc.tiers[info.effect] as Record<string, Tier>;
          const tier = override ?? map[info.environment] ?? map.default;
          performed.push({ at: now, write: info.effect !== 'read', critical: info.effect === 'destructive' || tier === 'approval' });
        }
        const inWindow = performed.filter((e) => e.at > now - windowMs);
        assert.ok(inWindow.length <= doc.budget.actions, `actions ${inWindow.length} > ${doc.budget.actions}`);
        assert.ok(inWindow.filter((e) => e.write).length <= doc.budget.writes, 'writes budget exceeded');
        assert.ok(inWindow.filter((e) => e.critical).length <= doc.budget.critical, 'critical budget exceeded');
      });
    }),
    { numRuns: 300 },
  );
});

test('the same inputs give the same decision, and a JSON round trip of the state changes nothing', () => {
  fc.assert(
    fc.property(policyDocArb, fc.array(stepArb, { maxLength: 25 }), stepArb, (doc, steps, last) => {
      const a = compile(doc);
      const b = compile(JSON.parse(JSON.stringify(doc)));
      assert.equal(a.hash, b.hash);
      const sa = drive(a, steps, () => {});
      const sb = drive(b, steps, () => {});
      assert.deepEqual(sa, sb);
      const proposal: Proposal = { tool: last.tool, args: { n: 1 }, reasoning: 'again', tokenCost: last.tokenCost };
      const now = T0 + 400 * MINUTE;
      const d1 = evaluate(a, sa, proposal, { blastRadius: last.blastRadius }, now);
      const d2 = evaluate(b, JSON.parse(JSON.stringify(sb)) as SessionState, proposal, { blastRadius: last.blastRadius }, now);
      assert.deepEqual(d1, d2);
    }),
    { numRuns: 200 },
  );
});

test('evaluate never throws on any JSON input and always answers with a well-formed decision', () => {
  const policy = compile({ transitions: [{ from: 'volumes.list', to: 'volumes.unmount' }], tools: { 'billing.summary': { args: { months: { min: 1, max: 24 } } } } });
  const good = initialSessionState(policy, { startedAt: T0 });
  const check = (d: Decision) => {
    assert.ok(['allow', 'approve', 'deny'].includes(d.verdict));
    assert.ok(['autonomous', 'approval', 'blocked'].includes(d.tier));
    assert.ok(Array.isArray(d.reasons) && d.reasons.length > 0);
    assert.equal(d.policyHash, policy.hash);
    if (d.verdict === 'approve') assert.ok(d.approval);
  };
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), fc.anything(), (proposal, facts, now) => {
      check(evaluate(policy, good, proposal as never, facts as never, now as never));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.record({ tool: fc.oneof(fc.constantFrom(...NAMES), fc.string()), args: fc.dictionary(fc.string(), fc.jsonValue()), reasoning: fc.string() }), fc.jsonValue(), (proposal, state) => {
      check(evaluate(policy, good, proposal, {}, T0));
      check(evaluate(policy, state as never, proposal, {}, T0));
    }),
    { numRuns: 300 },
  );
});

test('advance never throws on a malformed proposal and only counts it', () => {
  const policy = compile({});
  const good = initialSessionState(policy, { startedAt: T0 });
  fc.assert(
    fc.property(fc.jsonValue(), fc.constantFrom<OutcomeStatus>('executed', 'denied', 'failed', 'expired'), (proposal, outcome) => {
      const next = advance(policy, good, proposal as never, outcome, T0);
      assert.equal(next.counters.proposals, 1);
      assert.deepEqual(JSON.parse(JSON.stringify(next)), next);
    }),
    { numRuns: 300 },
  );
});

test('parsePolicy never throws, and a wrong value is reported at its path', () => {
  fc.assert(
    fc.property(fc.jsonValue(), (input) => {
      const r = parsePolicy(input);
      if (!r.success) for (const i of r.issues) assert.ok(typeof i.path === 'string' && i.message.length > 0 && i.code.length > 0);
    }),
    { numRuns: 500 },
  );
  const numeric = [
    ['budget', 'writes', 'budget.writes'],
    ['budget', 'actions', 'budget.actions'],
    ['budget', 'critical', 'budget.critical'],
    ['costCap', 'tokens', 'costCap.tokens'],
    ['intent', 'reviewBelow', 'intent.reviewBelow'],
    ['subAgents', 'budgetShare', 'subAgents.budgetShare'],
  ] as const;
  fc.assert(
    fc.property(fc.constantFrom(...numeric), fc.oneof(fc.string(), fc.boolean(), fc.constant(null), fc.array(fc.integer()), fc.integer({ min: -100, max: -1 })), ([section, field, path], value) => {
      const r = parsePolicy({ [section]: { [field]: value } });
      assert.equal(r.success, false);
      if (!r.success) assert.deepEqual(r.issues.map((i) => i.path), [path]);
    }),
    { numRuns: 200 },
  );
});

test('replaying sessions together decides what replaying each alone decides, when no rule spans sessions', () => {
  fc.assert(
    fc.property(policyDocArb, fc.array(fc.array(stepArb, { maxLength: 12 }), { minLength: 1, maxLength: 4 }), (doc, sessions) => {
      const policy = compile(doc);
      const timed = sessions.map((steps) => {
        let now = T0;
        return steps.map((step) => {
          now += step.dtMs;
          return { at: now, proposal: { tool: step.tool, args: {}, reasoning: 'property', tokenCost: step.tokenCost }, facts: step.blastRadius === undefined ? {} : { blastRadius: step.blastRadius }, step };
        });
      });
      const outcome = (d: Decision, t: (typeof timed)[number][number]): OutcomeStatus => (d.verdict === 'deny' ? 'denied' : t.step.outcome);
      const alone = timed.map((steps) => {
        const seen: Decision[] = [];
        replaySession(policy, { startedAt: T0 }, steps, outcome, ({ decision }) => seen.push(decision));
        return seen;
      });
      const together: Decision[][] = timed.map(() => []);
      replayAcrossSessions(policy, timed.map((steps, i) => ({ sessionId: `s${i}`, principal: 'one-agent', owner: 'one-owner', init: { startedAt: T0 }, steps })), outcome, ({ sessionId, decision }) => {
        together[Number(sessionId.slice(1))]!.push(decision);
      });
      assert.deepEqual(together, alone);
    }),
    { numRuns: 150 },
  );
});
