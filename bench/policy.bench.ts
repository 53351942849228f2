/**
 * Policy engine benchmark: decisions per second and p50/p99 latency of `evaluate` for a
 * realistic policy (50 tools, 20 transition rules, budgets, rate limits, argument and
 * blast-radius bounds) against a session that already has 1,000 actions behind it; and, in the
 * same run, the same decisions expressed in Cedar (`@cedar-policy/cedar-wasm`) as the anchor.
 *
 * Cedar has no session state, so it is handed the window counts, rate counts and the tools seen
 * so far precomputed in its context (outside its timing); Gatehouse derives them inside
 * `evaluate`. Approval triggers are Cedar `forbid` policies whose ids start with `approve-`:
 * a deny whose determining policies are all `approve-*` reads as `approve`.
 *
 * `npm run bench:policy`. The last line is one JSON object.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import {
  advance,
  budgetUsed,
  compilePolicy,
  evaluate,
  initialSessionState,
  parsePolicy,
  type CompiledPolicy,
  type Decision,
  type Proposal,
  type ProposalFacts,
  type SessionState,
  type ToolInfo,
  type Verdict,
} from '../policies';

const RESOURCES = ['billing', 'volumes', 'services', 'secrets', 'users', 'orders', 'payments', 'dns', 'config'] as const;
const STAGING = new Set(['config']);
const OPS = [
  ['list', 'read'],
  ['get', 'read'],
  ['update', 'write'],
  ['restart', 'write'],
  ['delete', 'destructive'],
] as const;

function catalog(): ToolInfo[] {
  const tools: ToolInfo[] = [];
  for (const r of RESOURCES) {
    for (const [op, effect] of OPS) {
      tools.push({ name: `${r}.${op}`, description: `${op} ${r}`, effect, environment: STAGING.has(r) ? 'staging' : 'production', resource: r, estimatesBlastRadius: op === 'delete' });
    }
  }
  tools.push(
    { name: 'audit.modify', description: 'modify the audit log', effect: 'destructive', environment: 'production', resource: 'audit', estimatesBlastRadius: false },
    { name: 'kms.rotate', description: 'rotate a key', effect: 'write', environment: 'production', resource: 'kms', estimatesBlastRadius: false },
    { name: 'iam.crossAccountAssume', description: 'assume a role elsewhere', effect: 'write', environment: 'production', resource: 'iam', estimatesBlastRadius: false },
    { name: 'deploy.rollout', description: 'roll out a release', effect: 'write', environment: 'production', resource: 'deploy', estimatesBlastRadius: false },
    { name: 'reports.export', description: 'export a report', effect: 'read', environment: 'production', resource: 'reports', estimatesBlastRadius: false },
  );
  return tools;
}

/** 20 rules: 14 pairs (some within 5 steps) and 6 three-step sequences, all exact names. */
function transitionRules(): { from?: string; to?: string; sequence?: string[]; within?: { steps: number } }[] {
  const rules: { from?: string; to?: string; sequence?: string[]; within?: { steps: number } }[] = [];
  RESOURCES.forEach((r, i) => rules.push({ from: `${r}.list`, to: `${r}.delete`, ...(i % 2 === 0 ? { within: { steps: 5 } } : {}) }));
  rules.push({ from: 'secrets.update', to: 'services.restart' }, { from: 'services.update', to: 'config.update' }, { from: 'volumes.update', to: 'volumes.restart' }, { from: 'users.update', to: 'payments.update' }, { from: 'dns.update', to: 'deploy.rollout' });
  rules.push(
    { sequence: ['users.get', 'payments.get', 'payments.delete'] },
    { sequence: ['orders.list', 'orders.update', 'billing.update'] },
    { sequence: ['secrets.get', 'secrets.update', 'deploy.rollout'] },
    { sequence: ['volumes.get', 'services.restart', 'volumes.delete'] },
    { sequence: ['dns.get', 'config.update', 'dns.restart'] },
    { sequence: ['billing.get', 'orders.get', 'billing.delete'] },
  );
  return rules;
}

function policyDocument(): unknown {
  const tools: Record<string, unknown> = { '*.delete': { blastRadius: { approvalAbove: 100, denyAbove: 50_000 } }, 'dns.update': { tier: 'blocked' } };
  for (const r of RESOURCES) tools[`${r}.list`] = { args: { limit: { min: 1, max: 500 } } };
  return {
    name: 'bench',
    alwaysBlocked: ['audit.*', 'iam.crossAccount*', 'kms.*'],
    tools,
    budget: { windowMinutes: 30, actions: 60, writes: 20, critical: 5, readOnlyAt: 0.8 },
    costCap: { tokens: 10_000_000 },
    transitions: transitionRules(),
    rateLimits: { perTool: { max: 100, perSeconds: 60 }, perSession: { max: 300, perSeconds: 60 } },
    approvers: { groups: { 'on-call': ['ann', 'bob'], 'sre-leads': ['cy'] }, default: { groups: ['on-call', 'sre-leads'] }, rules: [{ tools: ['volumes.delete'], groups: ['sre-leads'], approversRequired: 2 }] },
  };
}

/** 1,000 prior actions, one a minute: reads, a staging write every 10th, a read of every resource. */
function history(policy: CompiledPolicy, start: number): { state: SessionState; now: number; performed: { tool: string; step: number }[] } {
  let state = initialSessionState(policy, { startedAt: start });
  // Performed tools in order, for Cedar's `seen` / `recent` context (Gatehouse keeps its own automaton).
  const performed: { tool: string; step: number }[] = [];
  let now = start;
  const reads = [...RESOURCES.map((r) => `${r}.get`), 'reports.export', 'billing.list', 'volumes.list', 'orders.list'];
  for (let i = 0; i < 1000; i++) {
    now += 60_000;
    const tool = i % 10 === 9 ? 'config.update' : (reads[i % reads.length] ?? 'reports.export');
    const p: Proposal = { tool, args: tool.endsWith('.list') ? { limit: 50 } : {}, reasoning: 'history', tokenCost: 120 };
    const d = evaluate(policy, state, p, {}, now);
    state = advance(policy, state, p, d.verdict === 'deny' ? 'denied' : 'executed', now);
    if (d.verdict !== 'deny') performed.push({ tool, step: state.step });
  }
  return { state, now, performed };
}

interface Case {
  readonly proposal: Proposal;
  readonly facts: ProposalFacts;
}

function cases(): Case[] {
  const c = (tool: string, args: Record<string, unknown> = {}, facts: ProposalFacts = {}): Case => ({ proposal: { tool, args, reasoning: 'bench', tokenCost: 300 }, facts });
  return [
    c('billing.get'),
    c('users.list', { limit: 20 }),
    c('users.list', { limit: 5000 }),
    c('config.update'),
    c('services.update'),
    c('payments.restart'),
    c('users.delete', {}, { blastRadius: 50 }),
    c('users.delete', {}, { blastRadius: 14_200 }),
    c('users.delete', {}, { blastRadius: 60_000 }),
    c('billing.delete', {}, { blastRadius: 10 }),
    c('volumes.delete', {}, { blastRadius: 3 }),
    c('orders.delete', {}, { blastRadius: 3 }),
    c('dns.update'),
    c('audit.modify'),
    c('kms.rotate'),
    c('unknown.tool'),
    c('reports.export'),
    c('deploy.rollout'),
    c('secrets.get'),
    c('orders.update'),
  ];
}

// ---- Cedar: the same decisions ----

const CEDAR_POLICIES: Record<string, string> = {
  'permit-known': 'permit(principal, action == Action::"call", resource) when { context.known };',
  'deny-unknown': 'forbid(principal, action, resource) unless { context.known };',
  'deny-blocked': 'forbid(principal, action, resource) when { context.known && resource.tier == "blocked" };',
  'approve-tier': 'forbid(principal, action, resource) when { context.known && resource.tier == "approval" };',
  'deny-closed': 'forbid(principal, action, resource) when { context.closed };',
  'deny-read-only': 'forbid(principal, action, resource) when { context.readOnly && context.known && resource.effect != "read" };',
  'deny-actions': 'forbid(principal, action, resource) when { context.actions + 1 > 60 };',
  'deny-writes': 'forbid(principal, action, resource) when { context.known && resource.effect != "read" && context.writes + 1 > 20 };',
  'deny-critical': 'forbid(principal, action, resource) when { context.known && resource.critical && context.critical + 1 > 5 };',
  'approve-critical': 'forbid(principal, action, resource) when { context.known && resource.critical && context.critical + 1 >= 4 };',
  'deny-cost': 'forbid(principal, action, resource) when { context.tokens + context.tokenCost > 10000000 };',
  'deny-rate-tool': 'forbid(principal, action, resource) when { context.toolRate >= 100 };',
  'deny-rate-session': 'forbid(principal, action, resource) when { context.sessionRate >= 300 };',
  'deny-blast': 'forbid(principal, action, resource) when { context.known && resource.hasBlast && context.blastRadius > 50000 };',
  'approve-blast': 'forbid(principal, action, resource) when { context.known && resource.hasBlast && context.blastRadius > 100 };',
  'approve-blast-unknown': 'forbid(principal, action, resource) when { context.known && resource.hasBlast && context.blastRadius < 0 };',
  'deny-args-limit': 'forbid(principal, action, resource) when { context.known && resource.hasLimit && context has limit && (context.limit < 1 || context.limit > 500) };',
};
transitionRules().forEach((r, i) => {
  const seq = r.sequence ?? [r.from ?? '', r.to ?? ''];
  const last = seq[seq.length - 1] ?? '';
  const before = seq.slice(0, -1).map((s) => JSON.stringify(s));
  const set = r.within ? 'context.recent' : 'context.seen';
  CEDAR_POLICIES[`deny-transition-${i}`] = `forbid(principal, action, resource == Tool::${JSON.stringify(last)}) when { ${set}.containsAll([${before.join(', ')}]) };`;
});

function cedarEntity(policy: CompiledPolicy, name: string): cedar.EntityJson[] {
  const t = policy.tools.get(name);
  if (!t) return [];
  return [
    {
      uid: { type: 'Tool', id: name },
      attrs: { effect: t.info.effect, tier: t.tier, critical: t.critical, hasBlast: t.blast !== undefined, hasLimit: t.args.some((a) => a.path === 'limit') },
      parents: [],
    },
  ];
}

/** The context Cedar needs, derived from the session state by the caller (not timed). */
function cedarContext(policy: CompiledPolicy, state: SessionState, c: Case, now: number, performed: readonly { tool: string; step: number }[]): cedar.Context {
  const used = budgetUsed(policy, state, now);
  const times = state.rate.tools[c.proposal.tool] ?? [];
  const ctx: Record<string, cedar.CedarValueJson> = {
    known: policy.tools.has(c.proposal.tool),
    closed: state.closed,
    readOnly: state.readOnly,
    actions: used.actions,
    writes: used.writes,
    critical: used.critical,
    tokens: used.tokens,
    tokenCost: c.proposal.tokenCost ?? 0,
    toolRate: times.filter((t) => t > now - 60_000).length,
    sessionRate: state.rate.session.filter((t) => t > now - 60_000).length,
    blastRadius: c.facts.blastRadius ?? -1,
    seen: [...new Set(performed.map((p) => p.tool))],
    recent: performed.filter((p) => p.step > state.step + 1 - 5 - 1).map((p) => p.tool),
  };
  const limit = c.proposal.args.limit;
  if (typeof limit === 'number') ctx.limit = limit;
  return ctx;
}

function cedarVerdict(answer: cedar.AuthorizationAnswer): Verdict {
  if (answer.type !== 'success') throw new Error(`cedar failed: ${JSON.stringify(answer.errors)}`);
  const r = answer.response;
  if (r.decision === 'allow') return 'allow';
  return r.diagnostics.reason.some((id) => !id.startsWith('approve-') && id !== 'permit-known') ? 'deny' : 'approve';
}

// ---- measurement ----

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function stats(ns: number[]): { p50: number; p99: number; mean: number } {
  ns.sort((a, b) => a - b);
  const mean = ns.reduce((a, b) => a + b, 0) / ns.length;
  return { p50: percentile(ns, 50) / 1000, p99: percentile(ns, 99) / 1000, mean: mean / 1000 };
}

const round = (n: number) => Math.round(n * 100) / 100;

function main(): void {
  const parsed = parsePolicy(policyDocument());
  if (!parsed.success) throw new Error(`bench policy invalid: ${JSON.stringify(parsed.issues)}`);
  const tools = catalog();
  const policy = compilePolicy(parsed.data, tools);
  const { state, now: last, performed } = history(policy, Date.UTC(2026, 0, 1));
  const now = last + 30_000;
  const all = cases();
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2500);
  const n = all.length * rounds;

  // Gatehouse: warm up, then time each decision.
  const ours: Decision[] = [];
  for (let i = 0; i < 2000; i++) {
    const c = all[i % all.length] as Case;
    evaluate(policy, state, c.proposal, c.facts, now);
  }
  const gh: number[] = new Array(n);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    const c = all[i % all.length] as Case;
    const s = process.hrtime.bigint();
    const d = evaluate(policy, state, c.proposal, c.facts, now);
    gh[i] = Number(process.hrtime.bigint() - s);
    if (i < all.length) ours.push(d);
  }
  const ghTotalMs = Number(process.hrtime.bigint() - t0) / 1e6;

  // evaluate + advance, the full per-proposal cost inside the workflow.
  const adv: number[] = new Array(Math.min(n, 10_000));
  for (let i = 0; i < adv.length; i++) {
    const c = all[i % all.length] as Case;
    const s = process.hrtime.bigint();
    const d = evaluate(policy, state, c.proposal, c.facts, now);
    advance(policy, state, c.proposal, d.verdict === 'deny' ? 'denied' : 'executed', now);
    adv[i] = Number(process.hrtime.bigint() - s);
  }

  // Cedar: the same decisions, policy set preparsed once, one entity and a precomputed context per call.
  const pre = cedar.preparsePolicySet('gatehouse-bench', { staticPolicies: CEDAR_POLICIES });
  if (pre.type !== 'success') throw new Error(`cedar policies invalid: ${JSON.stringify(pre.errors)}`);
  const calls = all.map((c) => ({
    principal: { type: 'Agent', id: 'bench' },
    action: { type: 'Action', id: 'call' },
    resource: { type: 'Tool', id: c.proposal.tool },
    context: cedarContext(policy, state, c, now, performed),
    preparsedPolicySetId: 'gatehouse-bench',
    entities: cedarEntity(policy, c.proposal.tool),
  }));
  const theirs: Verdict[] = calls.map((call) => cedarVerdict(cedar.statefulIsAuthorized(call)));
  for (let i = 0; i < 500; i++) cedar.statefulIsAuthorized(calls[i % calls.length] as cedar.StatefulAuthorizationCall);
  const cedarRounds = Math.max(1, Math.floor(rounds / 5));
  const cn = all.length * cedarRounds;
  const cd: number[] = new Array(cn);
  for (let i = 0; i < cn; i++) {
    const call = calls[i % calls.length] as cedar.StatefulAuthorizationCall;
    const s = process.hrtime.bigint();
    cedar.statefulIsAuthorized(call);
    cd[i] = Number(process.hrtime.bigint() - s);
  }

  const agree = ours.filter((d, i) => d.verdict === theirs[i]).length;
  const g = stats(gh);
  const a = stats(adv);
  const c = stats(cd);
  const verdicts = ours.reduce<Record<string, number>>((acc, d) => ({ ...acc, [d.verdict]: (acc[d.verdict] ?? 0) + 1 }), {});
  console.log(`policy: ${tools.length} tools, ${policy.transitions.length} transition rules, budgets, rate limits; session with 1,000 prior actions (state ${JSON.stringify(state).length} bytes)`);
  console.log(`decision mix per round of ${all.length}: ${JSON.stringify(verdicts)}`);
  console.log(`gatehouse evaluate: ${n} decisions in ${round(ghTotalMs)} ms = ${Math.round(n / (ghTotalMs / 1000))} decisions/s (timer included); p50 ${round(g.p50)} µs, p99 ${round(g.p99)} µs, mean ${round(g.mean)} µs`);
  console.log(`gatehouse evaluate + advance: p50 ${round(a.p50)} µs, p99 ${round(a.p99)} µs`);
  console.log(`cedar-wasm ${cedar.getCedarVersion()} statefulIsAuthorized (preparsed set, context precomputed): ${cn} decisions; p50 ${round(c.p50)} µs, p99 ${round(c.p99)} µs, mean ${round(c.mean)} µs`);
  console.log(`same verdict as cedar on ${agree}/${ours.length} distinct decisions${agree === ours.length ? '' : `: differs on ${all.filter((_, i) => ours[i]?.verdict !== theirs[i]).map((x) => x.proposal.tool).join(', ')}`}`);
  console.log(JSON.stringify({ decisions: n, p50_us: round(g.p50), p99_us: round(g.p99), cedar_p50_us: round(c.p50), cedar_p99_us: round(c.p99) }));
}

main();
