/**
 * Operators' controls over a running session: halt (stops everything, children too), pause
 * (needs no signature: stopping never loosens the gate; children too), and the two that loosen it —
 * resume and budget raise — which count only as operator-signed decisions verified by the approval
 * desk, session by session (a resume is never forwarded to children). A session that ends halts the
 * children its halt has not reached (`haltChildrenAtEnd`).
 */
import { getExternalWorkflowHandle, type SignalDefinition } from '@temporalio/workflow';
import { withBudgetRaised } from '../policies';
import type { ApprovalDesk } from './approval-desk';
import { haltSignal, pauseSignal, type BudgetRaiseSignal, type HaltSignal, type PauseSignal, type ResumeSignal } from './contract';
import type { SessionCore } from './session-core';

export async function onHalt(core: SessionCore, h: HaltSignal): Promise<void> {
  if (core.halted || core.summary) return;
  core.halted = true;
  // The halt goes on to the children below (those listed then; one starting meanwhile is halted by its spawn).
  core.childrenHalted = true;
  const haltedBy = { by: typeof h?.by === 'string' ? h.by : 'unknown', reason: typeof h?.reason === 'string' ? h.reason : '' };
  core.haltedBy = haltedBy;
  await core.afterStart();
  // Sub-agents stop with their parent: after the `halted` event, and (sub-agents-within-parent)
  // even when that write fails for good — an unwritable trail is when an operator halts.
  const haltChildren = () => Promise.all(core.children.map((childWorkflowId) => haltChild(childWorkflowId, haltedBy)));
  if (!core.subAgentsWithinParent) {
    await core.audit.record([core.audit.event('halted', { detail: { by: haltedBy.by, reason: haltedBy.reason } })]);
    await haltChildren();
    return;
  }
  try {
    await core.audit.record([core.audit.event('halted', { detail: { by: haltedBy.by, reason: haltedBy.reason } })]);
  } finally {
    await haltChildren();
  }
}

/** Halts a sub-agent because its parent halted. */
export async function haltChild(childWorkflowId: string, haltedBy: { readonly by: string; readonly reason: string } | undefined): Promise<void> {
  await signalChild(childWorkflowId, haltSignal, { by: haltedBy?.by ?? 'unknown', reason: `parent session halted: ${haltedBy?.reason ?? ''}` });
}

/** Signals a sub-agent; one that already finished cannot be signalled, and needs nothing. */
async function signalChild<T>(childWorkflowId: string, signal: SignalDefinition<[T]>, payload: T): Promise<void> {
  try {
    await getExternalWorkflowHandle(childWorkflowId).signal(signal, payload);
  } catch {
    // Finished (or never started): nothing to stop.
  }
}

/**
 * A session ending (`end`, idle, blocked, an unwritable trail) halts every child it started, unless
 * its halt already went to them: a sub-agent never outlives its parent, and each child halts its
 * own in turn. Children that already ended answer nothing. (Runs that take `sub-agents-within-parent`.)
 */
export async function haltChildrenAtEnd(core: SessionCore, reason: string): Promise<void> {
  if (core.childrenHalted) return;
  core.childrenHalted = true;
  const halt: HaltSignal = { by: `session:${core.sessionId}`, reason: `parent session ended: ${reason}` };
  await Promise.all(core.children.map((childWorkflowId) => signalChild(childWorkflowId, haltSignal, halt)));
}

/** `pause` signal: the whole session, or one tool; forwarded to the session's children (patches.ts). */
export async function onPause(core: SessionCore, s: PauseSignal): Promise<void> {
  const tool = typeof s?.tool === 'string' && s.tool !== '' ? s.tool : undefined;
  if (tool) core.pausedTools.add(tool);
  else core.paused = true;
  // Numbered with its flag: a sub-agent whose start is checked after this carries it already.
  const n = ++core.pausesHandled;
  await core.afterStart();
  const by = typeof s?.by === 'string' ? s.by : 'unknown';
  const reason = typeof s?.reason === 'string' ? s.reason : undefined;
  // Sub-agents pause with their parent (even when the `paused` write fails for good); each is resumed
  // on its own, signed (a resume loosens).
  const forward = async (): Promise<void> => {
    if (!core.subAgentsWithinParent || core.summary || core.childrenHalted) return;
    const pause: PauseSignal = { by, reason: `parent session paused${reason ? `: ${reason}` : ''}`, ...(tool ? { tool } : {}) };
    core.pausesForwarded.push({ n, pause });
    // A child whose start came after this pause carried it (its tools, or no start at all).
    const to = core.children.filter((childWorkflowId) => (core.pausesKnown.get(childWorkflowId) ?? 0) < n);
    await Promise.all(to.map((childWorkflowId) => signalChild(childWorkflowId, pauseSignal, pause)));
  };
  try {
    await core.audit.record([core.audit.event('paused', { detail: { by, ...(reason !== undefined ? { reason } : {}), ...(tool ? { tool } : {}) } })]);
  } finally {
    await forward();
  }
}

/**
 * A sub-agent just started (after its start was checked with `known` pauses handled): noted, and
 * sent the pauses forwarded to the other children while it started, which did not reach it. Those
 * forwarded later reach it with the others. Called in the same task as the child is listed.
 */
export function pausesMissedBy(core: SessionCore, childWorkflowId: string, known: number): readonly PauseSignal[] {
  core.pausesKnown.set(childWorkflowId, known);
  return core.pausesForwarded.filter((p) => p.n > known).map((p) => p.pause);
}

/** Sends a sub-agent the pauses it missed while it started. */
export async function pauseChild(childWorkflowId: string, pauses: readonly PauseSignal[]): Promise<void> {
  for (const pause of pauses) await signalChild(childWorkflowId, pauseSignal, pause);
}

/** `resume` signal: going on loosens the gate, so it must be an operator-signed `resume`. */
export async function onResume(core: SessionCore, desk: ApprovalDesk, envelope: ResumeSignal): Promise<void> {
  const resume = await desk.verified('resume', envelope);
  if (!resume) return;
  if (resume.tool) core.pausedTools.delete(resume.tool);
  else {
    core.paused = false;
    core.pausedTools.clear();
  }
  await core.audit.record([
    core.audit.event('resumed', { detail: { by: resume.signer, keyId: resume.keyId, ...(resume.reason ? { reason: resume.reason } : {}), ...(resume.tool ? { tool: resume.tool } : {}), envelope } }),
  ]);
}

/** `raiseBudget` signal: an operator-signed `budget-raise` lifts the session's caps (never lowers them). */
export async function onRaiseBudget(core: SessionCore, desk: ApprovalDesk, envelope: BudgetRaiseSignal): Promise<void> {
  const raise = await desk.verified('budget-raise', envelope);
  if (!raise) return;
  await core.queue.run(async () => {
    core.state = withBudgetRaised(core.state, raise.budget);
    await core.audit.record([
      core.audit.event('budget-raised', { detail: { by: raise.signer, keyId: raise.keyId, budget: raise.budget, limits: core.state.limits, ...(raise.reason ? { reason: raise.reason } : {}), envelope } }),
    ]);
    return { value: undefined };
  });
}
