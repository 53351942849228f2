/**
 * The demo's human approver. It takes the path a person takes at a terminal: the command logic
 * of `gatehouse approvals approve|deny <id> --as <name>` (`decideFromCli`), which runs the
 * checks of `approvals/decide.ts` (group membership, four eyes, deadline, locked row, recorded
 * vote) and then signals the session workflow. It plays members of the policy's approver groups,
 * never the agent or its owner.
 */
import type { Client } from '@temporalio/client';
import { allowedGroups, currentLevel, temporalSignaler } from '../approvals/decide';
import { decideFromCli } from '../cli/commands/approvals';
import { ApprovalStore } from '../approvals/store';
import type { ApprovalRecord } from '../approvals/types';
import type { Story } from './story';
import { waitFor } from './wait';

/** Thrown when the approvals path refuses the demo's decision (which would be a bug). */
export class DemoApprovalRefusedError extends Error {
  readonly type = 'DemoApprovalRefusedError';
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export class Approver {
  private readonly store: ApprovalStore;

  constructor(
    store: ApprovalStore,
    private readonly temporal: Client,
    private readonly story: Story,
  ) {
    this.store = store;
  }

  static create(pool: ConstructorParameters<typeof ApprovalStore>[0], temporal: Client, story: Story): Approver {
    return new Approver(new ApprovalStore(pool), temporal, story);
  }

  /** Waits until a session has a pending approval in the table approvers read, and returns it. */
  async waitForPending(sessionId: string, timeoutMs = 60_000): Promise<ApprovalRecord> {
    return waitFor(`an approval request of session \`${sessionId}\``, async () => {
      const pending = await this.store.list({});
      return pending.find((r) => r.sessionId === sessionId);
    }, timeoutMs, 150);
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
    const people = eligibleApprovers(record);
    const needed = approve ? record.requirement.approversRequired : 1;
    if (people.length < needed) {
      throw new DemoApprovalRefusedError(`the policy names ${people.length} eligible approver(s) for \`${record.approvalId}\`: ${needed} needed`, 'not-enough-approvers');
    }
    const deciders = people.slice(0, needed);
    for (const name of deciders) {
      const out: string[] = [];
      const errors: string[] = [];
      const code = await decideFromCli(
        { store: this.store, signal: temporalSignaler(this.temporal) },
        { approvalId: record.approvalId, approve, as: name, reason, json: true },
        { out: (t) => out.push(t), err: (t) => errors.push(t) },
      );
      const verdict = parseVerdict(out.join('\n'));
      if (code !== 0 || !verdict.ok) {
        throw new DemoApprovalRefusedError(`\`gatehouse approvals ${approve ? 'approve' : 'deny'} ${record.approvalId} --as ${name}\` refused: ${verdict.code ?? code}: ${verdict.message ?? errors.join(' ')}`, verdict.code ?? 'refused');
      }
      this.story.human(`gatehouse approvals ${approve ? 'approve' : 'deny'} ${record.approvalId} --as ${name}${approve ? '' : ` --reason "${reason}"`}  (${verdict.group})`, {
        approver: name,
        group: verdict.group,
        approve,
        reason,
      });
    }
    return deciders;
  }
}

/**
 * Members of the groups allowed to decide now (the escalation ladder so far), first group first,
 * never the agent or (with four eyes) the owner.
 */
export function eligibleApprovers(record: ApprovalRecord, now = Date.now()): string[] {
  const out: string[] = [];
  for (const group of allowedGroups(record, currentLevel(record, now))) {
    for (const member of record.groupMembers[group] ?? []) {
      if (member === record.agentId) continue;
      if (record.requirement.fourEyes && member === record.owner) continue;
      if (!out.includes(member)) out.push(member);
    }
  }
  return out;
}

interface CliVerdict {
  readonly ok: boolean;
  readonly group?: string;
  readonly code?: string;
  readonly message?: string;
}

/** The `--json` answer of `decideFromCli`. */
function parseVerdict(text: string): CliVerdict {
  try {
    return JSON.parse(text) as CliVerdict;
  } catch {
    return { ok: false, message: text };
  }
}
