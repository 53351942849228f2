/**
 * Running an allowed call: ONE tool activity that writes the write-ahead audit events before the
 * handler, runs it under its idempotency key, and records the result. A failure the activity could
 * not recover from is recorded as a failed call and the session goes on; an executed call's intent
 * drift is scored before the result returns.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, TemporalFailure } from '@temporalio/workflow';
import { rootAgentOf } from '../policies/agent-id';
import type { AuditEventInput } from '../audit/types';
import type { ToolIssue } from '../activities/tools/errors';
import type { AuditHold } from './audit-writer';
import type { SessionToolDescriptor } from '../activities/types';
import { SESSION_RULE, withIntentScore } from '../policies';
import type { Decision, Proposal } from '../policies/types';
import { local, runToolFor } from './activities';
import type { IntentAction } from './carried';
import { intentAction, unscoredReason } from './intent-actions';
import { haltedBeforeRun, pausedFor } from './before-run';
import { iso, nowMs } from './clock';
import type { ProposeResult } from './contract';
import type { SessionCore } from './session-core';
import { hasPatch } from './patches';

const INTENT_ACTIONS = 50;
/**
 * Patch id: `runTool` scores the intent of the call it executed, instead of a `scoreIntent` local
 * activity after it. Sessions recorded before the patch replay with the separate activity.
 */
const INTENT_IN_RUN_TOOL = 'intent-scored-in-run-tool';
/**
 * Patch id: a new intent score below the running mean is the running score (`lowest` fold), so a
 * deviating call is not averaged away. Sessions recorded before the patch replay with the mean.
 */
const INTENT_LOWEST_FOLD = 'intent-lowest-fold';

/**
 * The actions a session's score is taken over: the scorer scores each action on its own and the
 * session score is the lowest of the last `SESSION_RULE.window`, so the older ones (the session
 * keeps `INTENT_ACTIONS`) would only be scored again and dropped. Same score, a tenth the payload.
 */
function scoredWindow(actions: readonly IntentAction[]): IntentAction[] {
  return actions.slice(-SESSION_RULE.window);
}

/** An allowed call, with the events its tool activity writes ahead of the handler. */
export interface AllowedCall {
  readonly proposalSeq: number;
  readonly proposal: Proposal;
  readonly descriptor: SessionToolDescriptor;
  readonly decision: Decision;
  readonly before: AuditEventInput[];
  readonly redactedArgs: Readonly<Record<string, unknown>>;
}

/** An allowed call whose arguments `runTool` checks first (no `prepareCall`): the events it writes if they pass. */
export interface UncheckedCall {
  readonly proposalSeq: number;
  readonly proposal: Proposal;
  readonly descriptor: SessionToolDescriptor;
  readonly decision: Decision;
  /** The write-ahead events, numbered from the held seqs (arguments as proposed: `runTool` redacts them). */
  readonly before: (hold: AuditHold) => AuditEventInput[];
}

/** `runUnchecked`'s answer when the session was halted before the call was handed to `runTool`. */
export interface HaltedBeforeRun {
  readonly halted: true;
}

/** `runUnchecked`'s answer when the arguments failed the check: nothing was written or run. */
export interface RefusedArguments {
  readonly invalid: { readonly issues: readonly ToolIssue[]; readonly redactedArgs: Readonly<Record<string, unknown>> };
}

/**
 * Attempts a call gets for its own failures: the descriptor's, except an upstream MCP tool is
 * retried only when this session's policy classifies it as idempotent (a repeat could repeat its effect).
 */
function attemptsOf(core: SessionCore, descriptor: SessionToolDescriptor): number {
  if (!descriptor.upstream) return descriptor.maxAttempts;
  return core.policy.tools.get(descriptor.name)?.upstream?.idempotent === true ? descriptor.maxAttempts : 1;
}

export async function runAllowed(core: SessionCore, call: AllowedCall): Promise<ProposeResult> {
  const afterSeq = core.audit.nextSeq();
  // Earlier audit writes (e.g. from signals) land before this call's write-ahead events.
  await core.audit.settled();
  const ran = await runToolCall(core, call, call.before, afterSeq, call.redactedArgs, false);
  if ('invalid' in ran) throw new Error('runTool refused arguments it was not asked to check first');
  return afterRun(core, call, ran);
}

/**
 * An allowed call whose arguments were not checked yet: `runTool` checks them before it writes
 * anything. Seqs are held meanwhile, so a refused call leaves no gap: the caller records its denial.
 */
export async function runUnchecked(core: SessionCore, call: UncheckedCall): Promise<ProposeResult | RefusedArguments | HaltedBeforeRun> {
  if (core.pauseHoldsUnstartedCalls) {
    // Until nothing is landing, a pause that landed meanwhile waited out; a halt: nothing written or run.
    if (await haltedBeforeRun(core, call.proposalSeq, call.proposal.tool)) return { halted: true };
  } else {
    await core.audit.settled();
    // A halt handled while earlier writes landed: nothing was written or run (halt-stops-unstarted-calls).
    if (core.haltStopsUnstartedCalls && core.halted) return { halted: true };
  }
  const hold = core.audit.hold();
  const before = call.before(hold);
  let ran: Ran | RefusedArguments;
  try {
    ran = await runToolCall(core, call, before, hold.nextSeq(), undefined, true, hold);
  } finally {
    hold.release(false); // gives the seqs back unless runToolCall kept them (a hold ends once)
  }
  return 'invalid' in ran ? ran : afterRun(core, call, ran);
}

/**
 * `runUnchecked` and what follows it, with the fewest workflow promises (the lean proposal path;
 * the SDK captures a stack trace for each): an idle audit writer is not waited on, the held seqs
 * get a gate only if something records meanwhile, and a state change that moves no mode makes no
 * promise. The same commands, in the same order, as `runUnchecked` for this call.
 */
export async function runQuick(
  core: SessionCore,
  call: UncheckedCall,
  refused: (invalid: RefusedArguments['invalid'] | undefined) => Promise<ProposeResult>,
): Promise<ProposeResult> {
  if (core.pauseHoldsUnstartedCalls) {
    // Awaits nothing when the trail is idle and nothing is paused: the lean path's commands stay the same.
    if ((!core.audit.idle || pausedFor(core, call.proposal.tool)) && (await haltedBeforeRun(core, call.proposalSeq, call.proposal.tool))) return refused(undefined);
  } else if (!core.audit.idle) {
    await core.audit.settled();
    // A halt handled meanwhile: `refused` with no issues denies the call unrun (halt-stops-unstarted-calls).
    if (core.haltStopsUnstartedCalls && core.halted) return refused(undefined);
  }
  const hold = core.audit.hold(true);
  const before = call.before(hold);
  let ran: Ran | RefusedArguments;
  try {
    ran = await runToolCall(core, call, before, hold.nextSeq(), undefined, true, hold);
  } finally {
    hold.release(false);
  }
  return 'invalid' in ran ? refused(ran.invalid) : afterRunNow(core, call, ran);
}

/** `afterRun` that returns the result itself unless the mode moved (then the same awaits, in order). */
function afterRunNow(core: SessionCore, call: Pick<AllowedCall, 'proposalSeq' | 'proposal' | 'decision'>, ran: Ran): ProposeResult | Promise<ProposeResult> {
  const { proposalSeq, proposal, decision } = call;
  const { outcome, intentScore, action } = ran;
  core.toolsUsed.add(proposal.tool);
  core.apply(proposal, outcome.status);
  core.note(proposalSeq, proposal.tool, outcome.status, decision.verdict);
  const value: ProposeResult = { ...outcome, decision, sequence: proposalSeq };
  const moved = core.changed();
  if (outcome.status !== 'executed') return moved ? moved.then(() => value) : value;
  // Scored by runTool (always, on a quick tool of a patched session): the score is applied at once.
  const score = (): Promise<void> | undefined => (intentScore === undefined ? scoreIntent(core, action, proposalSeq) : applyScore(core, action, intentScore));
  const scored = moved ? moved.then(score) : score();
  return scored ? scored.then(() => value) : value;
}

interface Ran {
  readonly outcome: ({ readonly status: 'executed'; readonly result: unknown } | { readonly status: 'failed'; readonly error: { readonly type: string; readonly message: string } }) & {
    readonly relayedNotes?: number;
  };
  readonly intentScore: number | undefined;
  readonly action: IntentAction;
}

async function runToolCall(
  core: SessionCore,
  call: Pick<AllowedCall, 'proposalSeq' | 'proposal' | 'descriptor'>,
  before: AuditEventInput[],
  afterSeq: number,
  redactedArgs: Readonly<Record<string, unknown>> | undefined,
  checkFirst: boolean,
  hold?: AuditHold,
): Promise<Ran | RefusedArguments> {
  const { proposalSeq, proposal, descriptor } = call;
  const at = nowMs();
  const idempotencyKey = `${core.sessionId}:${proposal.idempotencyKey ?? `p${proposalSeq}`}`;
  // Unchecked arguments are redacted by `runTool` (in the intent input too) before they go anywhere.
  const action = intentAction(core.policy, proposal.tool, redactedArgs ?? proposal.args, iso(at));
  // The intent a quick call is scored against if it executes (the input `scoreIntent` would get):
  // a local activity's input stays out of the history; a regular activity's would carry it.
  const intent = descriptor.execution === 'local-activity' && hasPatch(core, INTENT_IN_RUN_TOOL)
    ? { intent: core.input.intent, actions: scoredWindow([...core.intentActions, action]), now: iso(at) }
    : undefined;
  try {
    // Temporal keeps the tool's own retry policy (a worker that dies mid-call is retried, and the
    // retry reports an upstream call's unknown outcome); the call's own failures get `attempts`.
    const attempts = attemptsOf(core, descriptor);
    const r = await runToolFor(descriptor)({
      sessionId: core.sessionId,
      proposalSeq,
      tool: proposal.tool,
      args: proposal.args,
      idempotencyKey,
      before,
      afterSeq,
      at: iso(at),
      ...(intent ? { intent } : {}),
      ...(descriptor.upstream ? { maxAttempts: attempts } : {}),
      // An upstream call counts against its root agent's share of the worker's connections.
      ...(descriptor.upstream && (core.principal || core.agentId) ? { agentId: rootAgentOf(core.principal || core.agentId) } : {}),
      ...(checkFirst ? { checkFirst: true } : {}),
    });
    if (r.status === 'invalid') return { invalid: { issues: r.issues, redactedArgs: r.redactedArgs ?? {} } };
    hold?.release(true);
    const ranAction = r.redactedArgs ? { ...action, args: r.redactedArgs } : action;
    const relayed = r.relayedNotes !== undefined ? { relayedNotes: r.relayedNotes } : {};
    const outcome: Ran['outcome'] = r.status === 'executed' ? { status: 'executed', result: r.result, ...relayed } : { status: 'failed', error: { type: r.error.type, message: r.error.message }, ...relayed };
    return { outcome, intentScore: r.intentScore, action: ranAction };
  } catch (err) {
    // Retries exhausted or a non-retryable error: recorded as a failed call; the session goes on.
    // The held seqs are kept: an attempt may have written the write-ahead events.
    hold?.release(true);
    // A local activity's final failure arrives as its own ApplicationFailure (or TimeoutFailure): the
    // call's failure too (pause-holds-unstarted-calls); a cancellation is the session's, not the call's.
    const localFailure = core.pauseHoldsUnstartedCalls && !isCancellation(err) && err instanceof TemporalFailure && !(err instanceof ActivityFailure);
    if (!(err instanceof ActivityFailure) && !localFailure) throw err;
    const cause = err instanceof ActivityFailure ? err.cause : (err as TemporalFailure);
    const error = {
      type: cause instanceof ApplicationFailure && cause.type ? cause.type : (cause?.name ?? 'ActivityFailure'),
      message: cause?.message ?? (err as Error).message,
    };
    // `before` again: if no attempt ever started, the write-ahead events are not there yet.
    // An unchecked call's arguments are redacted again by the audit activity before they are stored.
    await core.audit.record([
      ...before,
      { sessionId: core.sessionId, seq: afterSeq, kind: 'failed', at: iso(nowMs()), proposalSeq, tool: proposal.tool, error: `${error.type}: ${error.message}`, resultStatus: 'failed' },
    ]);
    return { outcome: { status: 'failed', error }, intentScore: undefined, action };
  }
}

/** What every ran call does next: the policy state, the action list, the intent score. */
async function afterRun(core: SessionCore, call: Pick<AllowedCall, 'proposalSeq' | 'proposal' | 'decision'>, ran: Ran): Promise<ProposeResult> {
  const { proposalSeq, proposal, decision } = call;
  const { outcome, intentScore, action } = ran;
  core.toolsUsed.add(proposal.tool);
  core.apply(proposal, outcome.status);
  core.note(proposalSeq, proposal.tool, outcome.status, decision.verdict);
  await core.afterChange();
  const value: ProposeResult = { ...outcome, decision, sequence: proposalSeq };
  // Scored before the result returns (by runTool, or a local activity in the same workflow task):
  // the queue is then idle between two proposals, which is when the session may continue as new.
  if (outcome.status === 'executed') await scoreIntent(core, action, proposalSeq, intentScore);
  return value;
}

/** After an executed call: intent drift → maybe review mode. `scored` when runTool already scored it. */
async function scoreIntent(core: SessionCore, action: IntentAction, proposalSeq: number, scored?: number): Promise<void> {
  core.intentActions.push(action);
  if (core.intentActions.length > INTENT_ACTIONS) core.intentActions.splice(0, core.intentActions.length - INTENT_ACTIONS);
  const { score, unscored } = scored !== undefined ? { score: scored, unscored: undefined } : await scoreOrZero(core);
  foldScore(core, score);
  if (unscored !== undefined) {
    const then = core.state.review ? 'the session is in review' : 'the session is not put in review (intent review is off or in shadow, or the session is closed)';
    await core.audit.alert('intent.unscored', `the intent scorer could not score \`${action.tool}\` (${unscored.slice(0, 300)}): it counts as unaligned; ${then}`, {}, { tool: action.tool, proposalSeq });
  }
  // The score reaches the session row with a mode change or at the end, not on every call.
  await core.afterChange({ intentScore: score });
}

/**
 * The score of the session's actions, with the scorer's retries; once they are spent (or timed
 * out), under `intent-fails-closed`, 0 and why: an action nobody could score counts as unaligned
 * (an agent can write text a scorer chokes on), never as no action at all.
 */
async function scoreOrZero(core: SessionCore): Promise<{ readonly score: number; readonly unscored?: string }> {
  try {
    return { score: (await local.scoreIntent({ intent: core.input.intent, actions: scoredWindow(core.intentActions), now: iso(nowMs()) })).score };
  } catch (err) {
    const why = core.intentFailsClosed ? unscoredReason(err) : undefined;
    if (why === undefined) throw err;
    return { score: 0, unscored: why };
  }
}

/** `scoreIntent` for a call runTool scored: no promise unless the score moved the mode. */
function applyScore(core: SessionCore, action: IntentAction, score: number): Promise<void> | undefined {
  core.intentActions.push(action);
  if (core.intentActions.length > INTENT_ACTIONS) core.intentActions.splice(0, core.intentActions.length - INTENT_ACTIONS);
  foldScore(core, score);
  return core.changed({ intentScore: score });
}

function foldScore(core: SessionCore, score: number): void {
  core.intentScore = score;
  core.state = withIntentScore(core.state, score, hasPatch(core, INTENT_LOWEST_FOLD) ? 'lowest' : 'mean');
}
