/**
 * `agentSession`: one agent run. Every proposed tool call is gated by the session's policy
 * snapshot, evaluated in-workflow (so a replay re-derives each decision); allowed calls run as
 * one tool activity that writes the write-ahead audit events itself; calls needing a human wait
 * on the `approval` signal with a durable timer (escalation, then automatic denial, never
 * automatic approval). Proposals are handled one at a time, in order.
 *
 * Deterministic workflow code: no I/O, activities imported as types only, time from the
 * workflow clock (inside the sandbox `Date.now()` is the workflow task's time).
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import {
  approvalSignal,
  voteUpdate,
  endUpdate,
  haltSignal,
  pauseSignal,
  proposeUpdate,
  raiseBudgetSignal,
  resumeSignal,
  spawnChildUpdate,
  spawnRecordQuery,
  treeStepUpdate,
  startedUpdate,
  stateQuery,
  type EndInput,
  type SessionStartInput,
  type SessionSummary,
} from './contract';
import type { CarriedSession } from './carried';
import { hasPatch } from './patches';
import { SessionRuntime } from './runtime';
import { assertProposal, assertSpawnChild } from './validate';

/** `patched` id of the idle end (sessions started before it have no idle timer). */
export const IDLE_END_PATCH = 'idle-sessions-end';

/** History events after which a session continues as new between two proposals (runs before `SHORT_RUNS_PATCH`). */
export const DEFAULT_HISTORY_LIMIT = 10_000;

/**
 * `patched` id of short runs: the bound is the worker's (`sessionHistoryLimit`, recorded by the
 * start's context and carried), never the start input's, and defaults to `SHORT_HISTORY_LIMIT`.
 * Runs before it keep the start input's `historyLimit` or 10,000. A new id: `short-session-runs`
 * meant 120 events in some recorded runs and 10,000 in others (session 10), so it is not reused.
 */
export const SHORT_RUNS_PATCH = 'worker-session-bound';

/**
 * The default bound, in history events. A session evicted from the worker's cache is rebuilt by
 * replaying its run; one proposal (≈ 6 events) replays in about what a new run's start costs
 * (BENCHMARKS, "An open session costs little"): at 120 events a miss replays at most ≈ 20
 * proposals, and a cached session pays one run start per ≈ 20 proposals. Short runs are safe since
 * the carried state holds what a late or replayed signed decision is checked against (`carried-votes.ts`).
 */
export const SHORT_HISTORY_LIMIT = 120;

export async function agentSession(input: SessionStartInput, carried?: CarriedSession): Promise<SessionSummary> {
  const rt = new SessionRuntime(input, workflowInfo().workflowId);

  // The start task (snapshot and compile the policy, record the start) is queued first and
  // synchronously: updates buffered before the handlers exist run as soon as they are set, and
  // must queue behind it. Handlers are set before the first await, so nothing sent is lost.
  const started = rt.start(carried);
  setHandler(proposeUpdate, (p) => rt.propose(p), {
    validator: (p) => {
      assertProposal(p);
      rt.assertOpen();
    },
  });
  setHandler(spawnChildUpdate, (c) => rt.spawnChild(c), {
    validator: (c) => {
      assertSpawnChild(c);
      rt.assertOpen();
    },
  });
  setHandler(endUpdate, (e) => rt.end(e), { validator: (_e: EndInput) => rt.assertOpen() });
  // The client's one round trip to a started session (instead of polling): never throws, so a refused
  // start fails the run, not this update's workflow task.
  setHandler(startedUpdate, () => started.then(() => true, () => false));
  setHandler(approvalSignal, async (s) => {
    await rt.onApproval(s);
  });
  setHandler(voteUpdate, (s) => rt.onApproval(s));
  setHandler(haltSignal, (h) => rt.onHalt(h));
  setHandler(pauseSignal, (s) => rt.onPause(s));
  setHandler(resumeSignal, (s) => rt.onResume(s));
  setHandler(raiseBudgetSignal, (s) => rt.onRaiseBudget(s));
  setHandler(stateQuery, () => rt.view());
  setHandler(spawnRecordQuery, (childWorkflowId) => rt.spawnRecord(childWorkflowId));
  setHandler(treeStepUpdate, (s) => rt.treeStep(s), { validator: (s) => rt.assertTreeStep(s) });

  await started;

  const limit = hasPatch(rt, SHORT_RUNS_PATCH) ? rt.historyLimit ?? SHORT_HISTORY_LIMIT : input.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const tooLong = (): boolean => {
    const info = workflowInfo();
    return info.continueAsNewSuggested || info.historyLength > limit;
  };
  // Abandoned sessions end: nothing in flight and no call for the policy's `idleMinutes`. A held
  // call is in flight, so it keeps its session open until its own deadline. (A timer: new runs only.)
  // One timer per idle period, not per proposal: when it fires, a call since then sets the next one.
  const endsWhenIdle = hasPatch(rt, IDLE_END_PATCH);
  // A continued run's idle clock goes on from the last run's: continuing as new is not a call.
  const startedAt = rt.idleFrom ?? Date.now();
  rt.idleFrom = startedAt;
  for (;;) {
    const wakes = (): boolean => rt.summary !== undefined || rt.halted || rt.auditFailed || (rt.queue.idle && tooLong());
    const idleFor = Date.now() - Math.max(startedAt, rt.touchedAt);
    // `condition` without a timeout resolves to nothing: a run without the idle clock always woke.
    const woke = endsWhenIdle ? await condition(wakes, Math.max(1, rt.idleMs - idleFor)) : (await condition(wakes), true);
    if (!woke) {
      if (!rt.queue.idle) {
        // A call in flight (held for a person, or running): the idle clock starts once it settles.
        await condition(() => wakes() || rt.queue.idle);
        rt.touch();
      } else if (Date.now() - Math.max(startedAt, rt.touchedAt) >= rt.idleMs) {
        await rt.end({ reason: `idle: no call for ${rt.idleMs >= 60_000 ? `${Math.round(rt.idleMs / 60_000)} minutes` : `${Math.round(rt.idleMs / 1000)} s`}` });
      }
      continue;
    }
    // An audit write that failed for good ends the session (its halt's own records would fail too).
    if (rt.halted && rt.summary === undefined && !rt.auditFailed) {
      await rt.finishHalted().catch((err: unknown) => {
        if (!rt.auditFailed) throw err;
      });
    }
    if (rt.auditFailed && rt.summary === undefined) await rt.finishAuditFailed();
    if (rt.summary !== undefined) {
      await condition(allHandlersFinished);
      return rt.summary;
    }
    // Continue-as-new only between proposals: nothing queued, nothing running, no approval open.
    await condition(() => rt.halted || rt.summary !== undefined || (rt.queue.idle && allHandlersFinished()));
    if (rt.halted || rt.summary !== undefined) continue;
    await continueAsNew<typeof agentSession>(rt.input, rt.carry());
  }
}
