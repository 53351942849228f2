/**
 * The evaluate → advance fold over many sessions at once, with the cross-session rules (`agent:`,
 * `owner:`) counted as the ledgers count them: every session's proposals in time order, each
 * session with its own state, and one ledger state per agent and per owner. A call the session's
 * own policy lets run reserves in its agent's ledger, then its owner's (as the workflow asks them,
 * `workflows/cross-session.ts`), and a ledger's refusal is the call's decision. Without
 * cross-session rules it decides exactly what `replaySession` decides, session by session.
 */
import type { CompiledPolicy } from './compile';
import { completedTransitions, evaluate } from './evaluate';
import { crossSessionDenial, withLedgerShadow } from './gate';
import { effectOfRequest, emptyLedger, reserve, withoutUnlocked, type UnlockedTransition, type LedgerResult, type LedgerRule, type LedgerScope, type LedgerState } from './ledger';
import type { ReplayStep, ReplayVisit } from './replay';
import { advance, initialSessionState, withIntentScore, type SessionInit, type SessionState } from './state';
import type { Decision, OutcomeStatus } from './types';

/** One session to replay: its steps in order, and whose ledgers its calls count in. */
export interface SessionToReplay<S extends ReplayStep> {
  readonly sessionId: string;
  /** The agent whose ledger counts the calls (a sub-agent's root agent, as the workflow keys it). */
  readonly principal: string;
  readonly owner: string;
  readonly init: SessionInit;
  readonly steps: readonly S[];
  /** The policy this session is replayed through, when not the shared one (e.g. compiled against the catalog it recorded). */
  readonly policy?: CompiledPolicy;
}

/** A visit, with the session it belongs to. */
export interface AcrossVisit<S extends ReplayStep> extends ReplayVisit<S> {
  readonly sessionId: string;
}

/**
 * Replays `sessions` together, each through its own `policy` if it has one, else `policy`. Steps are taken in time order (ties: the sessions' order, then the
 * steps'); `outcomeOf` says whether a call ran, so only a call that runs reserves (as live, where a
 * reservation is a call that runs).
 */
export function replayAcrossSessions<S extends ReplayStep>(
  policy: CompiledPolicy,
  sessions: readonly SessionToReplay<S>[],
  outcomeOf: (decision: Decision, step: S) => OutcomeStatus,
  visit?: (seen: AcrossVisit<S>) => void,
): { readonly states: readonly SessionState[]; readonly ledgers: Ledgers } {
  const policies = sessions.map((s) => s.policy ?? policy);
  const states: SessionState[] = sessions.map((s, i) => initialSessionState(policies[i]!, s.init));
  const ledgers: Ledgers = new Map();
  const order = sessions
    .flatMap((s, i) => s.steps.map((step, j) => ({ i, j, step })))
    .sort((a, b) => a.step.at - b.step.at || a.i - b.i || a.j - b.j);
  for (const { i, j, step } of order) {
    const session = sessions[i]!;
    const own = policies[i]!;
    const before = states[i]!;
    let decision = evaluate(own, before, step.proposal, step.facts ?? {}, step.at);
    if (runs(outcomeOf(decision, step))) {
      // A call a person unlocked out of band passes the cross-session copies of the pairs it completes, as live.
      const tool = own.tools.get(step.proposal.tool);
      const unlocked = step.facts?.transitionUnlocked === true && tool ? completedTransitions(own, before, tool.transitions, step.at) : [];
      const crossed = reserveAcross(own, ledgers, session, `${session.sessionId}:p${j + 1}`, step.proposal.tool, step.at, undefined, unlocked);
      decision = crossed.denied ?? withLedgerShadow(decision, crossed.answers);
    }
    visit?.({ sessionId: session.sessionId, step, decision, before });
    let state = advance(own, before, step.proposal, outcomeOf(decision, step), step.at);
    if (step.intentScore !== undefined) state = withIntentScore(state, step.intentScore);
    states[i] = state;
  }
  return { states, ledgers };
}

/** The ledgers' states, by `<scope>:<agent or owner>`. */
export type Ledgers = Map<string, LedgerState>;

function runs(outcome: OutcomeStatus): boolean {
  return outcome === 'executed' || outcome === 'failed';
}

/**
 * A call of `tool` at `at` that its session lets run, reserved in the agent's ledger first, the
 * owner's only if the agent's allows (counted in `ledgers`): the deny that stops it, if any, and
 * the ledgers' answers (their shadow findings, for `withLedgerShadow`). `kinds` limits the rules asked;
 * `unlocked`: the session transitions a person unlocked for this call (`withoutUnlocked`).
 */
export function reserveAcross(
  policy: CompiledPolicy,
  ledgers: Ledgers,
  session: Pick<SessionToReplay<ReplayStep>, 'sessionId' | 'principal' | 'owner'>,
  reservationId: string,
  tool: string,
  at: number,
  kinds: readonly LedgerRule['kind'][] = ['budget', 'transition'],
  unlocked: readonly UnlockedTransition[] = [],
): { readonly denied?: Decision; readonly answers: readonly LedgerResult[] } {
  const cross = policy.tools.get(tool)?.crossSession;
  if (!cross) return { answers: [] };
  const answers: LedgerResult[] = [];
  for (const scope of ['agent', 'owner'] as const satisfies readonly LedgerScope[]) {
    const rules = withoutUnlocked(cross[scope]?.filter((r) => kinds.includes(r.kind)) ?? [], unlocked);
    if (rules.length === 0) continue;
    const key = `${scope}:${scope === 'agent' ? session.principal : session.owner}`;
    const effect = effectOfRequest(rules, policy.tools.get(tool)?.info.effect);
    const { state, result } = reserve(ledgers.get(key) ?? emptyLedger(), { reservationId, sessionId: session.sessionId, tool, ...effect, rules }, scope, at);
    ledgers.set(key, state);
    answers.push(result);
    if (result.verdict === 'deny') break;
  }
  const denied = crossSessionDenial(policy, tool, answers);
  return denied ? { denied, answers } : { answers };
}
