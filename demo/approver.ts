/**
 * The demo's human approver. It takes the path a person takes at a terminal with their own key
 * (`gatehouse approvals approve|deny --as <name>`): `decide()` of `client/decide.ts` checks the
 * vote rule with the approval row locked, signs a vote for the exact call with the approver's key
 * (the development keys `gatehouse start` made for the example policy's placeholder people),
 * records it and signals the session, which verifies the signature and counts the vote. It plays
 * members of the policy's approver groups, never the agent or (with four eyes) its owner.
 */
import type { Gatehouse } from '../client';
import { decide, temporalStateReader } from '../client/decide';
import { temporalVoteSender } from '../client/vote-sender';
import { ApprovalStore } from '../approvals/store';
import type { ApprovalRecord } from '../approvals/types';
import type { ApprovalRequirement } from '../policies/types';
import { findKeyFile, type SigningKey } from '../client/trust/key-files';
import { approvalParts, groupsAtLevel, ladderLevel, type Keyset } from '../policies/trust';
import type { Story } from './story';
import { waitFor } from './wait';

/** Thrown when the demo's decision would not count (which would be a bug) or no key signs it. */
export class DemoApprovalRefusedError extends Error {
  readonly type = 'DemoApprovalRefusedError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

/** What the demo's approver works with. */
export interface ApproverOptions {
  /** The audit database, where the approvals table is. */
  readonly pool: ConstructorParameters<typeof ApprovalStore>[0];
  /** Its client signals the session workflows. */
  readonly gh: Gatehouse;
  /** The keyset the stack's worker trusts: `decide()` refuses what the workflow would. */
  readonly keyset: Keyset;
  /** Folders searched for the approvers' private keys. */
  readonly keyDirs: readonly string[];
  readonly story: Story;
}

export class Approver {
  private readonly store: ApprovalStore;

  constructor(private readonly options: ApproverOptions) {
    this.store = new ApprovalStore(options.pool);
  }

  /** Waits until a session has a pending approval in the table approvers read, and returns it. */
  async waitForPending(sessionId: string, timeoutMs = 60_000): Promise<ApprovalRecord> {
    return waitFor(`an approval request of session \`${sessionId}\``, () => this.pendingOf(sessionId), timeoutMs, 150);
  }

  /** The session's pending approval in the table approvers read, if it has one now. */
  async pendingOf(sessionId: string): Promise<ApprovalRecord | undefined> {
    const pending = await this.store.list({});
    return pending.find((r) => r.sessionId === sessionId);
  }

  /** The approval as it is now (status, votes). */
  get(approvalId: string): Promise<ApprovalRecord | undefined> {
    return this.store.get(approvalId);
  }

  /**
   * Decides like people would: a deny needs one approver with a reason; an approval gets as
   * many distinct approvers as the requirement asks for, from the groups in escalation order.
   */
  async decide(record: ApprovalRecord, approve: boolean, reason: string): Promise<string[]> {
    const deciders = pickDeciders(record, approve);
    const { gh, keyset, story } = this.options;
    for (const name of deciders) {
      const key = this.keyOf(name);
      const result = await decide({ store: this.store, sendVote: temporalVoteSender(gh.client), state: temporalStateReader(gh.client), keyset }, { approvalId: record.approvalId, approve, voter: { key }, reason, via: 'cli' });
      if (!result.ok) throw new DemoApprovalRefusedError(`\`${name}\` may not decide \`${record.approvalId}\`: ${result.message}`, result.code);
      story.human(`gatehouse approvals ${approve ? 'approve' : 'deny'} ${record.approvalId} --as ${name}${approve ? '' : ` --reason "${reason}"`}  (${result.group}, signed ${key.keyId})`, {
        approver: name,
        group: result.group,
        approve,
        reason,
        keyId: key.keyId,
      });
    }
    return deciders;
  }

  private keyOf(name: string): SigningKey {
    try {
      return findKeyFile(name, 'approver', this.options.keyDirs);
    } catch (err) {
      throw new DemoApprovalRefusedError(err instanceof Error ? err.message : String(err), 'no-key');
    }
  }
}

/**
 * Members of the groups allowed to decide now (the escalation ladder so far, of every part of the
 * approval), first group first, never the agent or (with four eyes) the owner.
 */
export function eligibleApprovers(record: ApprovalRecord, now = Date.now()): string[] {
  const out: string[] = [];
  for (const part of approvalParts(record.requirement)) {
    for (const member of eligibleFor(record, part, now)) if (!out.includes(member)) out.push(member);
  }
  return out;
}

/**
 * Who decides: for a deny the first eligible person; for an approval enough distinct people for
 * every part (an unlock's group and the call's own approvers), reusing one where it qualifies twice.
 */
export function pickDeciders(record: ApprovalRecord, approve: boolean, now = Date.now()): string[] {
  const people = eligibleApprovers(record, now);
  if (!approve) {
    if (people.length === 0) throw new DemoApprovalRefusedError(`the policy names nobody who may decide \`${record.approvalId}\` now`, 'not-enough-approvers');
    return [people[0]!];
  }
  const chosen: string[] = [];
  for (const part of approvalParts(record.requirement)) {
    const qualified = eligibleFor(record, part, now);
    let have = chosen.filter((c) => qualified.includes(c)).length;
    for (const m of qualified) {
      if (have >= part.approversRequired) break;
      if (!chosen.includes(m)) {
        chosen.push(m);
        have += 1;
      }
    }
    if (have < part.approversRequired) {
      throw new DemoApprovalRefusedError(`the policy names ${qualified.length} eligible approver(s) of ${part.groups.join(', ')} for \`${record.approvalId}\`: ${part.approversRequired} needed`, 'not-enough-approvers');
    }
  }
  return chosen;
}

function eligibleFor(record: ApprovalRecord, part: ApprovalRequirement, now: number): string[] {
  const fourEyes = approvalParts(record.requirement).some((p) => p.fourEyes);
  const out: string[] = [];
  for (const group of groupsAtLevel(part, ladderLevel(part, Date.parse(record.requestedAt), now))) {
    for (const member of record.groupMembers[group] ?? []) {
      if (member === record.agentId) continue;
      if (fourEyes && member === record.owner) continue;
      if (!out.includes(member)) out.push(member);
    }
  }
  return out;
}
