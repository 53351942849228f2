/**
 * The last checks of an allowed call before it is handed to `runTool`: earlier audit writes have
 * landed (a write recorded while one lands is waited for too), the session was not halted
 * meanwhile (patch `halt-stops-unstarted-calls`), and — patch `pause-holds-unstarted-calls` — a
 * pause of the session or of the tool that landed meanwhile (during an estimate, a ledger
 * reservation, an audit write) holds the call until it is lifted, as a pause holds every proposal
 * before it is gated; a halt ends the wait. The state view lists a held call in `heldByPause`.
 */
import { condition } from '@temporalio/workflow';
import type { SessionCore } from './session-core';

/** Until nothing is landing, then whether the session is halted. Only runs with `halt-stops-unstarted-calls` call it. */
async function haltedMeanwhile(core: SessionCore): Promise<boolean> {
  while (!core.audit.idle) await core.audit.settled();
  return core.halted;
}

/** True when the session or `tool` is paused (and the session not halted). */
export function pausedFor(core: SessionCore, tool: string): boolean {
  return !core.halted && (core.paused || core.pausedTools.has(tool));
}

/**
 * `haltedMeanwhile`, and under `pause-holds-unstarted-calls` a pause that landed meanwhile waited
 * out first (then the trail and the halt looked at again): true when the call must not run.
 */
export async function haltedBeforeRun(core: SessionCore, proposalSeq: number, tool: string): Promise<boolean> {
  for (;;) {
    const halted = await haltedMeanwhile(core);
    if (halted || !core.pauseHoldsUnstartedCalls || !pausedFor(core, tool)) return halted;
    await holdWhilePaused(core, proposalSeq, tool);
  }
}

/** Until neither the session nor `tool` is paused (or the session is halted), listed in `heldByPause` meanwhile. */
export async function holdWhilePaused(core: SessionCore, proposalSeq: number, tool: string): Promise<void> {
  if (!pausedFor(core, tool)) return;
  core.heldByPause.add(proposalSeq);
  await condition(() => !pausedFor(core, tool));
  core.heldByPause.delete(proposalSeq);
}
