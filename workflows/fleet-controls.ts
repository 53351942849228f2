/**
 * Operators' controls over a running session: halt (stops everything, children too), pause
 * (needs no signature: stopping never loosens the gate), and the two that loosen it — resume and
 * budget raise — which count only as operator-signed decisions verified by the approval desk.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { withBudgetRaised } from '../policies';
import type { ApprovalDesk } from './approval-desk';
import { haltSignal, type BudgetRaiseSignal, type HaltSignal, type PauseSignal, type ResumeSignal } from './contract';
import type { SessionCore } from './session-core';

export async function onHalt(core: SessionCore, h: HaltSignal): Promise<void> {
  if (core.halted || core.summary) return;
  core.halted = true;
  const haltedBy = { by: typeof h?.by === 'string' ? h.by : 'unknown', reason: typeof h?.reason === 'string' ? h.reason : '' };
  core.haltedBy = haltedBy;
  await core.afterStart();
  await core.audit.record([core.audit.event('halted', { detail: { by: haltedBy.by, reason: haltedBy.reason } })]);
  // Sub-agents stop with their parent.
  await Promise.all(core.children.map((childWorkflowId) => haltChild(childWorkflowId, haltedBy)));
}

/** Halts a sub-agent because its parent halted. */
export async function haltChild(childWorkflowId: string, haltedBy: { readonly by: string; readonly reason: string } | undefined): Promise<void> {
  try {
    await getExternalWorkflowHandle(childWorkflowId).signal(haltSignal, { by: haltedBy?.by ?? 'unknown', reason: `parent session halted: ${haltedBy?.reason ?? ''}` });
  } catch {
    // A child that already finished cannot be halted; nothing to do.
  }
}

/** `pause` signal: the whole session, or one tool. */
export async function onPause(core: SessionCore, s: PauseSignal): Promise<void> {
  const tool = typeof s?.tool === 'string' && s.tool !== '' ? s.tool : undefined;
  if (tool) core.pausedTools.add(tool);
  else core.paused = true;
  await core.afterStart();
  const by = typeof s?.by === 'string' ? s.by : 'unknown';
  await core.audit.record([core.audit.event('paused', { detail: { by, ...(typeof s?.reason === 'string' ? { reason: s.reason } : {}), ...(tool ? { tool } : {}) } })]);
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
