/**
 * Asking the cross-session ledgers, for a call the session's own gate lets run: only a tool that
 * takes part in an `agent:` or `owner:` rule asks (the compiled tool carries its rules); any other
 * tool makes no call here and the same commands as before. The agent ledger is asked first, the
 * owner's only if the agent's allows; a call the agent ledger allowed and the owner's refused still
 * counts in the agent's (conservative: a ledger never releases). The verdict is `policies/gate.ts`'s.
 * A reservation also asks for a lease of further calls; a call a lease covers asks nothing (`leases.ts`).
 */
import { ActivityFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../activities/types';
import { crossSessionDenial, deniedFor } from '../policies';
import { asksTree, stepInTree } from './tree-steps';
import { effectOfRequest, withoutUnlocked, type LedgerResult } from '../policies/ledger';
import { completedTransitions } from '../policies/evaluate';
import type { Decision, Proposal } from '../policies/types';
import { keepLease, leaseCovers, leaseWanted, spendLease, takeSpent } from './leases';
import type { SessionCore } from './session-core';
import { hasPatch } from './patches';
import { nowMs } from './clock';

/**
 * A regular activity, not a local one: a local activity keeps the session's workflow task (and its
 * slot) while it waits, and the ledger's own workflow task needs a slot on the same worker, so more
 * sessions reserving at once than the worker has slots waited for each other forever (seen with 8
 * sessions on 2 slots). Retried with the same update id, so a retry is the same reservation; after
 * the attempts, the call is denied closed.
 */
const retry = { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 8 } as const;
const ledger = proxyActivities<SessionActivities>({ startToCloseTimeout: '30 seconds', retry });
/** Sessions recorded before `RESERVE_AS_ACTIVITY` replay with the local activity they used. */
const ledgerLocal = proxyLocalActivities<SessionActivities>({ startToCloseTimeout: '30 seconds', retry });
const RESERVE_AS_ACTIVITY = 'ledger-reserve-as-activity';

/** What the ledgers said: the deny that stops the call, if any; their answers (shadow findings). */
export interface CrossAnswer {
  readonly denied?: Decision;
  readonly answers: readonly LedgerResult[];
}

/**
 * No `denied`: no ledger objects (or none is asked). A sequence step is decided by the session's
 * tree first (tree-steps.ts; `unlocked`: a person unlocked this call's forbidden transition).
 */
export async function reserveAcrossSessions(core: SessionCore, proposalSeq: number, proposal: Proposal, unlocked = false): Promise<CrossAnswer> {
  // No await unless the call is a tree step: runs before `sequences-across-tree` make the same commands.
  const tree = asksTree(core, proposal.tool) ? await stepInTree(core, proposalSeq, proposal.tool, unlocked) : undefined;
  if (tree?.verdict === 'deny') return { denied: deniedFor(core.policy, proposal.tool, tree.reasons), answers: [] };
  const compiled = core.policy.tools.get(proposal.tool);
  const cross = compiled?.crossSession;
  if (!compiled || !cross) return { answers: [] };
  const answers: LedgerResult[] = [];
  // A person unlocked this call's forbidden transitions: the cross-session copies of those pairs pass too.
  // (Enforced ones only: a shadow pair that matches an agent rule unlocks nothing.)
  const unlockedRules = unlocked ? completedTransitions(core.policy, core.state, compiled.transitions, nowMs()).filter((t) => !t.shadow) : [];
  for (const scope of ['agent', 'owner'] as const) {
    if (!cross[scope]) continue;
    // Asked even when the unlock leaves no rule (an empty list allows): the same commands as before.
    const rules = withoutUnlocked(cross[scope], unlockedRules);
    const reservationId = `${core.sessionId}:p${proposalSeq}`;
    // A lease this session holds pays for the call: the ledger counted it when it leased it.
    if (leaseCovers(core, scope, proposal.tool)) {
      spendLease(core, scope, proposal.tool);
      answers.push({ verdict: 'allow', reasons: [], reservationId, requestDigest: '' });
      continue;
    }
    // The agent is the credential's (a sub-agent counts against its root agent's ledger).
    const key = scope === 'agent' ? core.principal : core.owner;
    // No lease for a call whose unlock dropped a rule: it would pay for later calls the dropped rule still judges.
    const lease = rules.length === cross[scope].length ? leaseWanted(core) : undefined;
    const returns = lease ? takeSpent(core, scope, proposal.tool) : [];
    // `at` binds the request to this call's time: one sent ahead under the same id is another request.
    // Only where the reservation is an activity: its scheduled input is fixed, while a local activity
    // re-run by a retried task would send a later `at` and conflict with its own first request.
    const asActivity = hasPatch(core, RESERVE_AS_ACTIVITY);
    // The effect goes only with rules that select by it (`effects`): other requests are the same as before.
    const effect = effectOfRequest(rules, compiled.info.effect);
    const request = { reservationId, sessionId: core.sessionId, tool: proposal.tool, ...effect, rules, ...(asActivity ? { at: nowMs() } : {}), ...(lease ? { lease } : {}), ...(returns.length > 0 ? { returns } : {}) };
    try {
      const reserve = asActivity ? ledger.reserveAcrossSessions : ledgerLocal.reserveAcrossSessions;
      const answer = await reserve({ scope, key, request });
      keepLease(core, scope, proposal.tool, answer);
      answers.push(answer);
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      return { denied: crossSessionDenial(core.policy, proposal.tool, answers, `${scope} ledger: ${err.cause?.message ?? err.message}`), answers };
    }
    if (answers[answers.length - 1]?.verdict === 'deny') break;
  }
  const denied = crossSessionDenial(core.policy, proposal.tool, answers);
  return denied ? { denied, answers } : { answers };
}
