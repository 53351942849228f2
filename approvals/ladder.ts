/**
 * Who may decide an approval at a given moment: the escalation ladder and open approvals.
 * Pure functions of the approval record and the time, shared by the checks (`decide.ts`) and
 * the Slack messages (`messages.ts`).
 */
import type { ApprovalRecord } from './types';

/**
 * The escalation level in force at `now`: the higher of what the workflow has reported and what
 * the requirement's escalation steps imply, so a click just after an escalation point is judged
 * by the ladder even if the escalation activity has not run yet.
 */
export function currentLevel(record: ApprovalRecord, now: number): number {
  const requestedAt = Date.parse(record.requestedAt);
  let byTime = 0;
  record.requirement.escalateAfterMs.forEach((ms, i) => {
    if (now >= requestedAt + ms) byTime = Math.max(byTime, i + 1);
  });
  const last = Math.max(0, record.requirement.groups.length - 1);
  return Math.min(last, Math.max(record.escalationLevel, byTime));
}

/**
 * Groups allowed to decide at `level`: the ladder widens, it does not move away. The first group
 * keeps its say after the request has been escalated to the next one.
 */
export function allowedGroups(record: ApprovalRecord, level: number): readonly string[] {
  return record.requirement.groups.slice(0, level + 1);
}

/**
 * True when the policy lists no member in any group of the request: an open approval. The
 * session workflow accepts any named approver then (but the agent, and the owner under four
 * eyes); policies meant for production list their approvers.
 */
export function isOpen(record: ApprovalRecord): boolean {
  return record.requirement.groups.every((g) => (record.groupMembers[g] ?? []).length === 0);
}
