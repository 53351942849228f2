/**
 * A session's life: the start (what it may claim, the policy, catalog and keyset snapshot, the
 * start record), the carry to the next run at continue-as-new, and the end (final audit, session
 * row, summary). A refused start fails the workflow with the refusal's own type.
 */
import { ActivityFailure, ApplicationFailure, condition, workflowInfo } from '@temporalio/workflow';
import type { SessionContext, SessionToolDescriptor, SpawnStart, StartRefusal } from '../activities/types';
import { compilePolicy, initialSessionState, sessionMode, type PolicyDocument, type SessionState } from '../policies';
import type { TreeProgress } from '../policies/tree-sequences';
import type { ToolInfo } from '../policies/types';
import { io } from './activities';
import type { CarriedSession } from './carried';
import { carryVotes, restoreVotes } from './carried-votes';
import { iso, nowMs } from './clock';
import { SESSION_ERROR_TYPES, type EndInput, type FinalState, type SessionStartInput, type SessionSummary } from './contract';
import { returnAllLeases } from './leases';
import type { SessionCore } from './session-core';
import { checkStart, type LegacyChild } from './start-gate';
import { hasPatch } from './patches';
import { haltChildrenAtEnd } from './fleet-controls';

/** Error types of a refused start: the workflow fails with them so the client can tell why. */
const START_REFUSAL_TYPES: readonly string[] = [SESSION_ERROR_TYPES.startRefused, SESSION_ERROR_TYPES.sessionIdReused];

/** Re-throws an activity's start refusal as the workflow's own failure (same type, message and details). */
async function startRefusals<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : undefined;
    if (cause instanceof ApplicationFailure && cause.type && START_REFUSAL_TYPES.includes(cause.type)) {
      throw ApplicationFailure.create({ message: cause.message, type: cause.type, nonRetryable: true, details: cause.details ? [...cause.details] : [] });
    }
    throw err;
  }
}

/** Raises the refusal's alert (an activity), then fails the workflow with it. */
function refuseStart(core: SessionCore, refusal: StartRefusal): Promise<never> {
  return startRefusals(io.refuseSessionStart(core.sessionId, refusal));
}

/** What the policy engine knows of the snapshotted catalog (recorded with the session for `audit verify`). */
function toolInfos(descriptors: Iterable<SessionToolDescriptor>): ToolInfo[] {
  return [...descriptors].map((d) => ({
    name: d.name,
    description: d.description,
    effect: d.effect,
    environment: d.environment,
    resource: d.resource,
    estimatesBlastRadius: d.estimatesBlastRadius,
    ...(d.upstream ? { upstream: d.upstream } : {}),
    // Published by catalogs since `argument-bounds-as-run`; a catalog snapshotted before has none.
    ...(d.argumentDefaults ? { argumentDefaults: d.argumentDefaults } : {}),
  }));
}

/** Compiles the snapshotted policy over the snapshotted catalog; a policy that does not compile fails the session. */
function compile(core: SessionCore, doc: unknown, descriptors: readonly SessionToolDescriptor[]): void {
  core.policyDocument = doc;
  core.descriptors = new Map(descriptors.map((d) => [d.name, d]));
  try {
    core.compiled = compilePolicy(doc as PolicyDocument, toolInfos(descriptors), { argumentsAsRun: core.argumentBoundsAsRun });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw ApplicationFailure.nonRetryable(`policy does not compile: ${message}`, SESSION_ERROR_TYPES.invalidPolicy);
  }
}

/** Patch id: a sub-agent takes identity, policy and budget from its parent's spawn record, not its start input. */
export const CHILD_FROM_RECORD = 'child-from-parent-record';

/**
 * The start's context: a top-level session's from its credential; a sub-agent's from its parent's
 * spawn record (histories recorded before the record replay with the fields of their start input).
 */
async function loadContext(core: SessionCore, child: { readonly legacy?: LegacyChild } | undefined): Promise<SessionContext> {
  const input = core.input;
  const base = { sessionId: core.sessionId, policyDocumentGiven: input.policy !== undefined };
  if (child && hasPatch(core, CHILD_FROM_RECORD)) {
    const ctx = await startRefusals(io.loadSessionContext({ ...base, fromParent: true }));
    if (!ctx.spawn) return refuseStart(core, { rule: 'start.parent', message: 'the worker answered a sub-agent\'s start without its parent\'s record' });
    return ctx;
  }
  if (child && !child.legacy) return refuseStart(core, { rule: 'start.parent', message: 'a sub-agent start needs the agent, owner and policy its parent gives it' });
  return startRefusals(
    io.loadSessionContext({
      ...base,
      ...(input.credential !== undefined ? { credential: input.credential } : {}),
      ...(input.credentialTicket !== undefined ? { credentialTicket: input.credentialTicket } : {}),
      ...(child?.legacy ? { child: child.legacy } : { ...(input.agentId !== undefined ? { agentId: input.agentId } : {}), ...(input.owner !== undefined ? { owner: input.owner } : {}) }),
      ...(input.policyRef !== undefined ? { policyRef: input.policyRef } : {}),
    }),
  );
}

/** A sub-agent's effective start input: its own id and history limit, the rest from the parent's record. */
function childInput(core: SessionCore, spawn: SpawnStart): SessionStartInput {
  return {
    sessionId: core.sessionId,
    intent: spawn.intent,
    parentSessionId: spawn.parentSessionId,
    budget: spawn.budget,
    ...(spawn.mandate ? { mandate: spawn.mandate } : {}),
    ...(spawn.inheritedTransitions !== undefined ? { inheritedTransitions: spawn.inheritedTransitions } : {}),
    ...(core.input.historyLimit !== undefined ? { historyLimit: core.input.historyLimit } : {}),
  };
}

/**
 * Checks what the start may claim, snapshots the policy, catalog and keyset (or restores a
 * carried run), records the session start. Queued first, so every update waits behind it.
 */
export function startSession(core: SessionCore, carried?: CarriedSession): Promise<void> {
  core.ready = core.queue.run(async () => {
    const info = workflowInfo();
    const gate = checkStart(core.input, carried, {
      attempt: info.attempt,
      workflowId: info.workflowId,
      ...(info.continuedFromExecutionRunId ? { continuedFromExecutionRunId: info.continuedFromExecutionRunId } : {}),
      ...(info.parent ? { parentWorkflowId: info.parent.workflowId } : {}),
      ...(info.cronSchedule ? { cronSchedule: info.cronSchedule } : {}),
    });
    if (!gate.ok) return refuseStart(core, gate.refusal);
    if (carried) {
      restore(core, carried);
      compile(core, carried.policyDocument, carried.descriptors);
      core.state = carried.state as SessionState;
      core.mode = sessionMode(core.state);
      core.upsertAttributes();
      return { value: undefined };
    }
    const ctx = await loadContext(core, gate.child);
    // A sub-agent starts with the tools its parent had paused (its start input's: a pause only stops).
    const paused = gate.child && core.subAgentsWithinParent ? pausedToolsOf(core.input) : [];
    for (const tool of paused) core.pausedTools.add(tool);
    if (ctx.spawn) core.input = childInput(core, ctx.spawn);
    const input = core.input;
    core.agentId = ctx.identity.agentId;
    core.owner = ctx.identity.owner;
    core.principal = ctx.identity.principal;
    core.credentialId = ctx.identity.credentialId;
    core.credentialIssuedAt = ctx.identity.credentialIssuedAt;
    core.policyName = ctx.policyName;
    core.keyset = ctx.keyset;
    if (ctx.historyLimit !== undefined) core.historyLimit = ctx.historyLimit;
    compile(core, ctx.policyDocument, ctx.descriptors);
    const now = nowMs();
    core.startedAt = iso(now);
    core.state = initialSessionState(core.policy, {
      startedAt: now,
      // Read only by a policy with `intent.writesNeedWriteIntent` (older snapshots have none: their state is as recorded).
      intent: input.intent,
      ...(input.budget ? { budget: input.budget } : {}),
      ...(input.mandate ? { mandate: input.mandate } : {}),
      ...(gate.child && input.inheritedTransitions !== undefined ? { inheritedTransitions: input.inheritedTransitions as never } : {}),
      // From the parent's own record only (rates-shared-in-tree): no start input carries rates.
      ...(ctx.spawn?.inheritedRates !== undefined ? { inheritedRates: ctx.spawn.inheritedRates as never } : {}),
    });
    core.mode = sessionMode(core.state);
    const parent = gate.child ? input.parentSessionId : undefined;
    await startRefusals(
      io.startSessionRecord(
        {
          sessionId: core.sessionId,
          workflowId: core.workflowId,
          firstRunId: core.firstRunId,
          agentId: core.agentId,
          owner: core.owner,
          intent: input.intent,
          ...(parent ? { parentSessionId: parent } : {}),
          policyHash: core.policy.hash,
          policy: core.policyDocument,
          tools: toolInfos(core.descriptors.values()),
          startedAt: core.startedAt,
        },
        [
          core.audit.event('session-started', {
            detail: {
              agentId: core.agentId,
              owner: core.owner,
              intent: input.intent,
              policy: core.policyName,
              policyHash: core.policy.hash,
              firstRunId: core.firstRunId,
              ...(ctx.identity.credentialId ? { credentialId: ctx.identity.credentialId } : {}),
              ...(core.principal !== core.agentId ? { principal: core.principal } : {}),
              ...(parent ? { parentSessionId: parent } : {}),
              ...(input.budget ? { budget: input.budget } : {}),
              ...(paused.length > 0 ? { pausedTools: paused } : {}),
            },
          }),
        ],
      ),
    );
    core.upsertAttributes();
    return { value: undefined };
  });
  return core.ready;
}

/** The tools a sub-agent's start input says its parent had paused (at most 1000 names; anything else is ignored). */
function pausedToolsOf(input: SessionStartInput): string[] {
  const given: unknown = input.pausedTools;
  if (!Array.isArray(given)) return [];
  return [...new Set(given.filter((t): t is string => typeof t === 'string' && t !== '').slice(0, 1000))];
}

/** `patched` id: a pause signalled in a continued run's first task survives the carried state's restore. */
export const PAUSE_SURVIVES_RESTORE_PATCH = 'pause-survives-restore';

function restore(core: SessionCore, c: CarriedSession): void {
  core.agentId = c.identity.agentId;
  core.owner = c.identity.owner;
  core.principal = c.identity.principal ?? c.identity.agentId;
  core.credentialId = c.identity.credentialId;
  core.credentialIssuedAt = c.identity.credentialIssuedAt;
  core.policyName = c.policyName;
  core.keyset = c.keyset;
  const votes = restoreVotes(c, core.sessionId, nowMs());
  core.usedNonces = votes.usedNonces;
  core.nonceExpiries = votes.nonceExpiries;
  core.decided = votes.decided;
  if (c.historyLimit !== undefined) core.historyLimit = c.historyLimit;
  if (c.idleFrom !== undefined) core.idleFrom = c.idleFrom;
  core.counters = { ...c.counters };
  core.audit.seq = c.seq;
  core.proposalSeq = c.proposalSeq;
  // A pause can reach a new run in its first task, before this restore (its handler runs as soon
  // as it is set): carrying the old run's state must not lift it. Runs before the patch replay as they ran.
  if (hasPatch(core, PAUSE_SURVIVES_RESTORE_PATCH)) {
    core.paused = core.paused || c.paused;
    core.pausedTools = new Set([...core.pausedTools, ...c.pausedTools]);
  } else {
    core.paused = c.paused;
    core.pausedTools = new Set(c.pausedTools);
  }
  core.lastActions = [...c.lastActions];
  core.intentActions = [...c.intentActions];
  for (const l of c.leases ?? []) core.leases.set(l.slot, { leaseId: l.leaseId, until: l.until, left: l.left, used: [...l.used] });
  if (c.intentScore !== undefined) core.intentScore = c.intentScore;
  core.toolsUsed = new Set(c.toolsUsed);
  core.children = [...c.children];
  if (c.tree !== undefined) core.tree = c.tree as TreeProgress;
  core.spawnCount = c.spawnCount ?? c.children.length;
  core.flagged = c.flaggedForReview;
  core.startedAt = c.startedAt;
  core.runs = c.runs + 1;
}

/** The whole state, for continue-as-new (taken only between proposals). */
export function carrySession(core: SessionCore): CarriedSession {
  return {
    identity: {
      agentId: core.agentId,
      owner: core.owner,
      principal: core.principal,
      ...(core.credentialId ? { credentialId: core.credentialId } : {}),
      ...(core.credentialIssuedAt ? { credentialIssuedAt: core.credentialIssuedAt } : {}),
    },
    policyName: core.policyName,
    keyset: core.keyset,
    // Used nonces until their envelopes expire, approvals decided within the late-vote window.
    ...carryVotes(core, nowMs()),
    ...(core.historyLimit !== undefined ? { historyLimit: core.historyLimit } : {}),
    idleFrom: Math.max(core.idleFrom ?? 0, core.touchedAt),
    policyDocument: core.policyDocument,
    descriptors: [...core.descriptors.values()],
    state: core.policyState,
    counters: { ...core.counters },
    seq: core.audit.seq,
    proposalSeq: core.proposalSeq,
    paused: core.paused,
    pausedTools: [...core.pausedTools],
    lastActions: [...core.lastActions],
    intentActions: [...core.intentActions],
    // Carried, not handed back here: a return would wait, and calls arriving meanwhile could keep the session from continuing.
    ...(core.leases.size > 0 ? { leases: [...core.leases].map(([slot, l]) => ({ slot, leaseId: l.leaseId, until: l.until, left: l.left, used: [...l.used] })) } : {}),
    ...(core.intentScore !== undefined ? { intentScore: core.intentScore } : {}),
    toolsUsed: [...core.toolsUsed],
    children: [...core.children],
    ...(core.tree ? { tree: core.tree } : {}),
    spawnCount: core.spawnCount,
    flaggedForReview: core.flagged,
    startedAt: core.startedAt,
    runs: core.runs,
  };
}

/** `end` update: queued behind every earlier proposal, then the final audit and summary. */
export function endSession(core: SessionCore, e: EndInput): Promise<SessionSummary> {
  core.endRequested = true;
  return core.queue.run(async () => {
    if (core.summary) return { value: core.summary };
    const finalState: FinalState = core.halted ? 'halted' : core.mode === 'closed' ? 'blocked' : 'completed';
    return { value: await finish(core, finalState, e.reason) };
  });
}

/** After a halt: wait for the queue to drain (pending work sees the halt and stops), then close. */
export async function finishHalted(core: SessionCore): Promise<void> {
  await condition(() => core.queue.idle);
  if (core.summary) return;
  await finish(core, 'halted', core.haltedBy ? `halted by ${core.haltedBy.by}: ${core.haltedBy.reason}` : 'halted');
}

/**
 * After an audit write failed for good: wait for the queue to drain (every queued call is refused
 * unrecorded), raise the `audit.unwritable` alert outside the chain, mark the session row, and end
 * with final state `error`. Best effort past the alert: the database may be what failed.
 */
export async function finishAuditFailed(core: SessionCore): Promise<void> {
  await condition(() => core.queue.idle);
  if (core.summary) return;
  const now = nowMs();
  const reason = `the audit trail could not be written (${core.audit.failure ?? 'unknown'}): the session ended`;
  // Its sub-agents stop with it (they need no trail of this session's to be halted).
  if (core.subAgentsWithinParent) await haltChildrenAtEnd(core, 'error (its audit trail could not be written)');
  await io.raiseSessionAlert(core.sessionId, 'audit.unwritable', reason, iso(now)).catch(() => undefined);
  await io.patchSession(core.sessionId, { mode: core.mode, finalState: 'error', endedAt: iso(now), counters: { ...core.counters }, flaggedForReview: true }).catch(() => undefined);
  core.flagged = true;
  core.summary = { sessionId: core.sessionId, finalState: 'error', mode: core.mode, counters: { ...core.counters }, reason };
}

async function finish(core: SessionCore, finalState: FinalState, reason: string | undefined): Promise<SessionSummary> {
  // A sub-agent never outlives its parent: those its halt did not already reach are halted now.
  if (core.subAgentsWithinParent) await haltChildrenAtEnd(core, `${finalState}${reason ? ` (${reason})` : ''}`);
  // What this run leased and did not spend goes back to the ledgers (nothing to do without leases).
  await returnAllLeases(core);
  const now = nowMs();
  const flagged = core.flagged || core.mode === 'closed' || core.mode === 'review' || finalState === 'halted';
  await core.audit.record([
    core.audit.event('session-ended', {
      detail: { finalState, mode: core.mode, counters: { ...core.counters }, ...(reason ? { reason } : {}) },
    }),
  ]);
  await io.patchSession(core.sessionId, {
    mode: core.mode,
    finalState,
    endedAt: iso(now),
    counters: { ...core.counters },
    ...(core.intentScore !== undefined ? { intentScore: core.intentScore } : {}),
    flaggedForReview: flagged,
  });
  const summary: SessionSummary = {
    sessionId: core.sessionId,
    finalState,
    mode: core.mode,
    counters: { ...core.counters },
    ...(reason ? { reason } : {}),
  };
  core.summary = summary;
  return summary;
}
