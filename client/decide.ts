/**
 * The path every human decision takes, whether it comes from a Slack button or the CLI. The
 * pure check (`approvals/check-decision.ts`: who the voter is, whether the row can still be
 * decided, whether the vote counts under the one vote rule) runs with the approval row locked;
 * before anything is signed, the row is checked against the session workflow's own pending
 * approval and the digest recomputed from the tool and arguments shown (`approvals/shown-call.ts`;
 * a mismatch is refused with an alert, nothing recorded); an accepted vote is then signed over the
 * workflow id, first run id, approval id, tool and call digest, recorded, and sent to the workflow
 * (`client/vote-sender.ts`) in the same transaction, so two racing clicks are decided one after the
 * other and a click is never sent twice. The workflow verifies the envelope and applies the same
 * rule again: it is the source of truth, and its answer decides what is kept. A vote it refuses is
 * rolled back and reported as refused, so no surface shows a vote the session did not count.
 */
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import { checkDecision, identify, refuse, type Accepted, type Refusal, type SlackIdentityRef } from '../approvals/check-decision';
import { checkShownCall, sessionOfApprovalId } from '../approvals/shown-call';
import type { ApprovalStore } from '../approvals/store';
import type { ApprovalRecord, ApprovalVote } from '../approvals/types';
import { checkSignedDecision, type Keyset } from '../policies/trust';
import { stateQuery, type SessionStateView, type VoteAnswer } from '../workflows/contract';
import type { SigningKey } from './trust/key-files';
import { signDecision } from './trust/sign';
import { SessionGoneError, type VoteSender } from './vote-sender';

/**
 * Who votes, and with which key: a person's own approver key (CLI), or the approvals service's
 * key voting for a Slack person (`onBehalfOf`) whom the keyset's `slackUsers` maps to an approver.
 */
export interface Voter {
  readonly key: SigningKey;
  readonly onBehalfOf?: SlackIdentityRef;
}

/** A human decision to check and, by `decide`, to sign and signal. */
export interface DecisionRequest {
  readonly approvalId: string;
  readonly approve: boolean;
  readonly voter: Voter;
  readonly reason?: string;
  readonly via: 'slack' | 'cli';
  /** Identifies one click (Slack `action_ts` / view id) so a redelivery is not counted again. */
  readonly clickId?: string;
  /**
   * Whether the surface the person decided on showed the whole call (a Slack message cuts long
   * arguments). An approval of a call it did not show whole is refused; a deny never is.
   */
  readonly showedWholeCall?: (record: ApprovalRecord) => boolean;
  /**
   * The call digest of the call the person was shown and confirmed (`approvals approve` prints the
   * call first): a row that names another is refused, nothing signed.
   */
  readonly shownDigest?: string;
}

/**
 * What `decide` reports. `duplicate` means this very click had already been accepted; `answered`
 * false means the session has the vote and did not answer in time (its worker is down, or older):
 * the row does not keep it, and the session counts or refuses it when it runs.
 */
export type DecideResult =
  | (Accepted & { readonly record: ApprovalRecord; readonly duplicate: boolean; readonly answered: boolean })
  | Refusal;

/** Reads a session workflow's `state` view; undefined when the workflow no longer runs. */
export type SessionStateReader = (workflowId: string) => Promise<SessionStateView | undefined>;

/** Rolls the recorded vote back when the session has not answered yet, and reports it sent. */
class NotAnswered extends Error {
  constructor(readonly result: Extract<DecideResult, { ok: true }>) {
    super('the session has not answered the vote yet');
  }
}

/** Rolls the recorded vote back when the session refused it. */
class RefusedBySession extends Error {
  constructor(readonly answer: Extract<VoteAnswer, { counted: false }>) {
    super(answer.message);
  }
}

/** Options of `decide`. */
export interface DecideDeps {
  readonly store: ApprovalStore;
  readonly sendVote: VoteSender;
  /** The session's own view of what it waits for: a row is signed only if it shows that call. */
  readonly state: SessionStateReader;
  /** The keyset the worker trusts: who holds which key, and the Slack people the service may vote for. */
  readonly keyset: Keyset;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * Checks a decision with the approval row locked; when accepted, signs the vote, records it and
 * sends it to the session workflow before committing. Only a vote the session counted is kept: one
 * it refused, has not answered yet, or that could not be sent is rolled back.
 */
export async function decide(deps: DecideDeps, req: DecisionRequest): Promise<DecideResult> {
  const now = deps.now ?? Date.now;
  const reason = req.reason?.trim() || undefined;
  try {
    return await deps.store.withLock(req.approvalId, async ({ record, addVote }) => {
      // Slack redelivers an interaction it thinks was lost: the same click is answered, not re-counted.
      if (record && req.clickId) {
        const same = record.votes.find((v) => v.clickId === req.clickId);
        if (same) {
          const group = record.requirement.groups.find((g) => record.groupMembers[g]?.includes(same.approver)) ?? '';
          // (Nothing is asked again: a vote in the row is one the session counted.)
          return { ok: true, approver: same.approver, group, final: false, record, duplicate: true, answered: true };
        }
      }
      const at = now();
      const who = identify(deps.keyset, req.voter, at);
      if (!who.ok) return who;
      const verdict = checkDecision(record, { approvalId: req.approvalId, approver: who.approver, approve: req.approve, ...(reason ? { reason } : {}) }, at, deps.keyset);
      if (!verdict.ok) return verdict;
      if (!record) return refuse('not-found', `no approval \`${req.approvalId}\``);
      // What the row shows must be the call the session waits for, digest recomputed, before any signature.
      const shown = await checkShownRow(deps, record, at);
      if (!shown.ok) return shown;
      if (req.shownDigest !== undefined && record.callDigest !== req.shownDigest) {
        return refuse('digest-mismatch', `approval \`${record.approvalId}\` now names another call than the one shown (call digest \`${req.shownDigest.slice(0, 12)}…\`): nothing signed; read it again`);
      }
      if (req.approve && req.showedWholeCall && !req.showedWholeCall(record)) {
        return refuse('not-shown-whole', `approval \`${record.approvalId}\` was not shown whole where it was clicked: read it with \`gatehouse approvals show ${record.approvalId}\` or in the console, and approve there`);
      }
      if (!record.firstRunId) return refuse('session-gone', `approval \`${record.approvalId}\` names no session run to sign for: it was requested before signed votes`);

      const envelope = signDecision(
        req.voter.key,
        {
          kind: 'vote',
          workflowId: record.workflowId,
          firstRunId: record.firstRunId,
          approvalId: record.approvalId,
          callDigest: record.callDigest,
          tool: record.tool,
          verdict: req.approve ? 'approve' : 'deny',
          ...(reason ? { reason } : {}),
          ...(req.voter.onBehalfOf ? { onBehalfOf: req.voter.onBehalfOf } : {}),
        },
        { now: at },
      );
      // What the workflow will check first: refuse here what it would refuse there.
      const signed = checkSignedDecision(envelope, deps.keyset, { kind: 'vote', workflowId: record.workflowId, firstRunId: record.firstRunId, usedNonces: new Set() }, at);
      if (!signed.ok) return refuse('key-refused', signed.message);

      const vote: ApprovalVote = {
        approver: verdict.approver,
        approve: req.approve,
        ...(reason ? { reason } : {}),
        via: req.via,
        ...(req.clickId ? { clickId: req.clickId } : {}),
        at: new Date(at).toISOString(),
      };
      await addVote(vote);
      const answer = await deps.sendVote(record.workflowId, envelope);
      if (answer && !answer.counted) throw new RefusedBySession(answer);
      // Sent, not answered: the session has it and decides it later, so the row keeps only what it confirmed (the person may vote again).
      if (!answer) throw new NotAnswered({ ...verdict, final: false, record, duplicate: false, answered: false });
      return { ...verdict, approver: answer.approver, group: answer.group, final: answer.status !== 'pending', record: { ...record, votes: [...record.votes, vote] }, duplicate: false, answered: true };
    });
  } catch (err) {
    if (err instanceof NotAnswered) return err.result;
    if (err instanceof SessionGoneError) {
      return refuse('session-gone', `${err.message}: the approval can no longer be decided`);
    }
    if (err instanceof RefusedBySession) {
      return refuse('session-refused', `the session refused the vote (${err.answer.rule}): ${err.answer.message}; nothing was counted`);
    }
    throw err;
  }
}

/**
 * The row checked against its session's pending approval (`checkShownCall`). A row that does not
 * show the call the session waits for raises an alert naming the refusal; the row is left as it is.
 */
export async function checkShownRow(deps: Pick<DecideDeps, 'store' | 'state'>, record: ApprovalRecord, at: number): Promise<{ readonly ok: true } | Refusal> {
  const shown = checkShownCall(record, await deps.state(record.workflowId));
  if (!shown.ok && shown.code === 'call-mismatch') {
    await deps.store.raiseAlert(sessionOfApprovalId(record.approvalId), 'approval.call-mismatch', shown.message, new Date(at).toISOString());
  }
  return shown;
}

/** A state reader over a Temporal client: the `state` query of the workflow a row names. */
export function temporalStateReader(client: Client): SessionStateReader {
  return async (workflowId) => {
    const handle = client.workflow.getHandle(workflowId);
    try {
      return await handle.query(stateQuery);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      // A closed workflow may not answer queries: it waits for nothing either way.
      const status = await handle.describe().then((d) => d.status.name, (e: unknown) => (e instanceof WorkflowNotFoundError ? 'GONE' : undefined));
      if (status !== undefined && status !== 'RUNNING') return undefined;
      throw err;
    }
  };
}
