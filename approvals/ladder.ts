/**
 * Who may decide an approval, read from its row: the one ladder of `policies/trust/votes.ts`
 * (`ladderLevel`, `groupsAtLevel`), the rule the session workflow applies. Pure.
 */
import { approvalParts, groupsAtLevel, ladderLevel } from '../policies/trust/votes';
import type { ApprovalRecord } from './types';

/**
 * True when the policy lists no member in any group of the request. Nobody can decide such a
 * request (fail closed): it waits for its deadline and is then denied automatically.
 */
export function hasNoApprovers(record: Pick<ApprovalRecord, 'requirement' | 'groupMembers'>): boolean {
  return approvalParts(record.requirement).every((p) => p.groups.every((g) => (record.groupMembers[g] ?? []).length === 0));
}

/**
 * Groups that may decide at `now`, per part of the approval (the call's own; for an unlock, the
 * call's approval as well): the ladder of `policies/trust/votes.ts`, the one the workflow applies.
 */
export function groupsAllowedNow(record: Pick<ApprovalRecord, 'requirement' | 'requestedAt'>, now: number): readonly (readonly string[])[] {
  const requestedAt = Date.parse(record.requestedAt);
  return approvalParts(record.requirement).map((p) => groupsAtLevel(p, ladderLevel(p, requestedAt, now)));
}

