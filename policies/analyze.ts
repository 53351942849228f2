/**
 * Path analysis: every way an agent could walk from a read tool to a dangerous one, and what the
 * policy does on the way. "14 paths, only 3 blocked" is a question to ask before an incident.
 *
 * A path starts at a read tool, goes through non-read tools (no tool twice) and ends at a target:
 * a destructive tool, a blocked tool, or a tool that completes a forbidden transition. Each path
 * is run through the real evaluator on a fresh session with budgets out of the way (one call per
 * second, no blast-radius estimate), so what it reports is what the engine would do. The policy's
 * cross-session transitions (`agent:` / `owner:`) apply too, their ledgers fresh like the session:
 * a path is one session's calls, which those ledgers count as well.
 */
import type { CompiledPolicy, CompiledTool } from './compile';
import { evaluate } from './evaluate';
import { compileGlob } from './glob';
import { reserveAcross, type Ledgers } from './replay-across';
import { advance, initialSessionState, type SessionState } from './state';
import type { Proposal, Verdict } from './types';

export type PathStatus = 'blocked' | 'approval' | 'autonomous';

export interface PathStep {
  readonly tool: string;
  readonly verdict: Verdict;
  /** Rule ids of the step's deny or approval reasons (empty when it runs on its own). */
  readonly rules: readonly string[];
}

export interface AnalyzedPath {
  readonly tools: readonly string[];
  /** `blocked` when any step is denied; else `approval` when any waits for a human; else `autonomous`. */
  readonly status: PathStatus;
  readonly steps: readonly PathStep[];
  /** True when every denial on the path is a forbidden transition (an out-of-band approval could lift it). */
  readonly unlockable: boolean;
}

export interface PathAnalysis {
  readonly maxLength: number;
  readonly paths: readonly AnalyzedPath[];
  readonly summary: { readonly paths: number; readonly blocked: number; readonly approval: number; readonly autonomous: number };
  /** True when enumeration stopped at `maxPaths`. */
  readonly truncated: boolean;
}

const UNLIMITED = Number.MAX_SAFE_INTEGER;

/** Enumerates and classifies paths of at most `maxLength` tools (at least 2). */
export function analyzePaths(policy: CompiledPolicy, maxLength = 3, maxPaths = 100_000): PathAnalysis {
  const length = Math.max(2, Math.floor(Number.isFinite(maxLength) ? maxLength : 3));
  const tools = [...policy.tools.values()];
  const isTarget = (t: CompiledTool) =>
    t.info.effect === 'destructive' || t.tier === 'blocked' || t.transitions.some((r) => r.completes && !policy.transitions[r.rule]?.shadow) || endsCrossTransition(t);
  const starts = tools.filter((t) => t.info.effect === 'read');
  const onward = tools.filter((t) => t.info.effect !== 'read');
  const paths: AnalyzedPath[] = [];
  let truncated = false;

  const base = initialSessionState(policy, { startedAt: 0 });
  const fresh: SessionState = { ...base, limits: { actions: UNLIMITED, writes: UNLIMITED, critical: UNLIMITED, tokens: UNLIMITED } };

  const walk = (path: CompiledTool[]) => {
    if (truncated) return;
    for (const next of onward) {
      if (path.includes(next)) continue;
      const extended = [...path, next];
      if (isTarget(next)) {
        if (paths.length >= maxPaths) {
          truncated = true;
          return;
        }
        paths.push(classify(policy, fresh, extended));
      }
      if (extended.length < length) walk(extended);
    }
  };
  for (const start of starts) walk([start]);

  const count = (s: PathStatus) => paths.filter((p) => p.status === s).length;
  return { maxLength: length, paths, summary: { paths: paths.length, blocked: count('blocked'), approval: count('approval'), autonomous: count('autonomous') }, truncated };
}

/** True when `tool` is the `to` of an enforced cross-session transition. */
function endsCrossTransition(tool: CompiledTool): boolean {
  const rules = [...(tool.crossSession?.agent ?? []), ...(tool.crossSession?.owner ?? [])];
  return rules.some((r) => r.kind === 'transition' && r.mode !== 'shadow' && compileGlob(r.to).test(tool.info.name));
}

/** Whose ledgers a path's calls count in: one agent, one owner, nothing counted yet. */
const PATH_SESSION = { sessionId: 'path', principal: 'the agent', owner: 'its owner' };

function classify(policy: CompiledPolicy, fresh: SessionState, tools: readonly CompiledTool[]): AnalyzedPath {
  let state = fresh;
  const ledgers: Ledgers = new Map();
  const steps: PathStep[] = [];
  let status = 'autonomous' as PathStatus;
  let unlockable = true;
  tools.forEach((tool, i) => {
    const now = (i + 1) * 1000;
    const proposal: Proposal = { tool: tool.info.name, args: {}, reasoning: 'path analysis' };
    const evaluated = evaluate(policy, state, proposal, {}, now);
    // Every step reserves (the walk treats each as run, as the session state below does); only the
    // transitions are asked, budgets stay out of the way as in the session.
    const crossed = reserveAcross(policy, ledgers, PATH_SESSION, `path:p${i + 1}`, tool.info.name, now, ['transition']);
    const d = evaluated.verdict === 'deny' ? evaluated : (crossed.denied ?? evaluated);
    const rules = d.verdict === 'allow' ? [] : d.reasons.filter((r) => r.rule !== 'transition.unlocked').map((r) => r.rule);
    steps.push({ tool: tool.info.name, verdict: d.verdict, rules });
    if (d.verdict === 'deny') {
      status = 'blocked';
      if (!d.unlock) unlockable = false;
    } else if (d.verdict === 'approve' && status !== 'blocked') status = 'approval';
    // The walk goes on past a denial (as if unlocked) so later steps are classified too.
    state = advance(policy, state, proposal, 'executed', now);
  });
  return { tools: tools.map((t) => t.info.name), status, steps, unlockable: status === 'blocked' && unlockable };
}
