/**
 * Leases from the cross-session ledgers, on the session's side: a reservation may take a block of
 * further calls of its tool with it (`policies/ledger.ts`, `LedgerLease`), which this session then
 * spends without asking the ledger again — the same gate decides each call, only the ledger's round
 * trip is saved. A lease is spent before its call runs (a call refused for its arguments gives the
 * call back), is spent only before `until` less a margin, and is handed back with the times of the
 * calls spent: with the next reservation of its tool, or when the session ends (a lease is carried
 * across continue-as-new). A lease this session never hands back (it was terminated) stays counted
 * in full until it expires from its windows: never under-counted.
 *
 * Workflow-safe: plain data in the session's state (replayed from the recorded answers), one
 * activity to hand leases back. Sessions recorded before `LEDGER_LEASES` ask for none.
 */
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { SessionActivities } from '../activities/types';
import { LEASE_MARGIN_MS, LEASE_MAX, type LeaseReturn, type LedgerResult, type LedgerScope } from '../policies/ledger';
import { nowMs } from './clock';
import type { SessionCore } from './session-core';
import { hasPatch } from './patches';

/** Patch id: reservations ask for a lease, and covered calls spend it. */
export const LEDGER_LEASES = 'ledger-leases';

/** A lease this session holds for one tool in one scope's ledger. */
export interface HeldLease {
  /** The reservation that took it. */
  readonly leaseId: string;
  readonly until: number;
  left: number;
  /** Workflow times of the calls spent from it. */
  readonly used: number[];
}

const { returnLeases } = proxyActivities<SessionActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 8 },
});

const SCOPES = ['agent', 'owner'] as const;

function slot(scope: LedgerScope, tool: string): string {
  return `${scope}|${tool}`;
}

function usable(lease: HeldLease | undefined): boolean {
  return lease !== undefined && lease.left > 0 && nowMs() <= lease.until - LEASE_MARGIN_MS;
}

/** How many calls a reservation asks to lease (none in sessions recorded before leases). */
export function leaseWanted(core: SessionCore): number | undefined {
  return hasPatch(core, LEDGER_LEASES) ? LEASE_MAX : undefined;
}

/** True when `scope`'s lease for `tool` can pay for one more call now. */
export function leaseCovers(core: SessionCore, scope: LedgerScope, tool: string): boolean {
  return usable(core.leases.get(slot(scope, tool)));
}

/** True when every ledger `tool` must ask is covered by a lease: the call needs no ledger round trip. */
export function leasesCoverCall(core: SessionCore, tool: string): boolean {
  const cross = core.policy.tools.get(tool)?.crossSession;
  if (!cross || core.leases.size === 0) return false;
  return SCOPES.every((scope) => !cross[scope] || leaseCovers(core, scope, tool));
}

/** Spends one call of `scope`'s lease for `tool` (the caller checked `leaseCovers`); returns how to give it back. */
export function spendLease(core: SessionCore, scope: LedgerScope, tool: string): () => void {
  const lease = core.leases.get(slot(scope, tool))!;
  lease.left -= 1;
  lease.used.push(nowMs());
  return () => {
    lease.left += 1;
    lease.used.pop();
  };
}

/** Spends one call of every lease the call needs (`leasesCoverCall` was true); returns how to give them back. */
export function spendLeases(core: SessionCore, tool: string): () => void {
  const cross = core.policy.tools.get(tool)?.crossSession;
  const undo = SCOPES.filter((scope) => cross?.[scope]).map((scope) => spendLease(core, scope, tool));
  return () => undo.forEach((u) => u());
}

/** A spent or expired lease of `scope` for `tool`, taken out to be handed back with the next reservation. */
export function takeSpent(core: SessionCore, scope: LedgerScope, tool: string): LeaseReturn[] {
  const lease = core.leases.get(slot(scope, tool));
  if (!lease || usable(lease)) return [];
  core.leases.delete(slot(scope, tool));
  return [{ leaseId: lease.leaseId, used: [...lease.used] }];
}

/** Keeps the lease a reservation's answer granted. */
export function keepLease(core: SessionCore, scope: LedgerScope, tool: string, answer: LedgerResult): void {
  if (answer.verdict !== 'allow' || !answer.lease) return;
  core.leases.set(slot(scope, tool), { leaseId: answer.reservationId, until: answer.lease.until, left: answer.lease.units, used: [] });
}

/**
 * Hands every lease back (at the end). Best effort: a ledger that cannot
 * be reached keeps the unspent calls counted until the lease expires from its windows.
 */
export async function returnAllLeases(core: SessionCore): Promise<void> {
  if (core.leases.size === 0) return;
  for (const scope of SCOPES) {
    const returns: LeaseReturn[] = [];
    for (const [key, lease] of core.leases) {
      if (!key.startsWith(`${scope}|`)) continue;
      returns.push({ leaseId: lease.leaseId, used: [...lease.used] });
      core.leases.delete(key);
    }
    if (returns.length === 0) continue;
    const key = scope === 'agent' ? core.principal : core.owner;
    try {
      await returnLeases({ scope, key, request: { returnId: `${core.sessionId}:r${core.proposalSeq}-${scope}`, sessionId: core.sessionId, returns } });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
    }
  }
}
