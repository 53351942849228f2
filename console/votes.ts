/**
 * Approve / deny signed with the approver's passkey. `prepare` builds the decision payload — the
 * same signed vote the CLI sends (session, first run, approval id, call digest, verdict, nonce,
 * expiry), keyed by the passkey's key id — and returns its digest as the WebAuthn challenge, which
 * the page shows. `submit` assembles the passkey envelope with the registrar's grant, checks it
 * exactly as the workflow will (`checkSignedDecision`, then the one vote rule), sends it to the
 * session workflow and reports the workflow's own answer (`client/vote-sender.ts`). A refusal
 * decides nothing.
 *
 * The workflow's pending approval `prepare` read (a Temporal query) is kept with the payload it
 * built, so `submit` of that payload, by that person, for that approval, checks against it without
 * asking the workflow again (the click's critical path: bench:console). The approval row is read
 * again, and the workflow re-checks everything when it gets the vote.
 */
import type { Client } from '@temporalio/client';
import { checkDecision } from '../approvals/check-decision';
import type { ApprovalStore } from '../approvals/store';
import { SessionGoneError, temporalVoteSender, type VoteSender } from '../client/vote-sender';
import { checkSignedDecision, type Keyset } from '../policies/trust';
import type { ApprovalSignal } from '../workflows/contract';
import { ConsoleError } from './errors';
import { shownItem, type InboxItem, type StateReader } from './inbox';
import type { Person } from './sessions';
import { decisionHead, passkeyEnvelope, prepareSignature, SIGN_TTL_MS, type AssertionJSON, type PreparedSignature } from './signed-payload';
import type { ConsoleStore } from './store';

export type { AssertionJSON } from './signed-payload';
export type PreparedVote = PreparedSignature;

export interface VoteDeps {
  readonly approvals: ApprovalStore;
  readonly store: ConsoleStore;
  readonly readState: StateReader;
  readonly client: Client;
  readonly keyset: Keyset;
  readonly rpId: string;
}

type ApprovalRow = NonNullable<Awaited<ReturnType<ApprovalStore['get']>>>;

/** Most prepared payloads kept at once (each until its expiry); past it the oldest go. */
const MAX_PREPARED = 10_000;

export class ConsoleVotes {
  /** Nonces this console has signalled: a replayed assertion is refused here as in the workflow. */
  readonly #used = new Set<string>();
  /** Payloads `prepare` issued (base64, as signed) → who for, which approval, the item read then. */
  readonly #prepared = new Map<string, { readonly principal: string; readonly approvalId: string; readonly item: InboxItem; readonly until: number }>();

  readonly #send: VoteSender;

  constructor(private readonly deps: VoteDeps) {
    this.#send = temporalVoteSender(deps.client);
  }

  async #row(approvalId: string): Promise<ApprovalRow> {
    const row = await this.deps.approvals.get(approvalId);
    if (!row) throw new ConsoleError(404, 'not-found', `no approval \`${approvalId.slice(0, 200)}\``);
    if (row.status !== 'pending') throw new ConsoleError(409, 'already-decided', `approval \`${approvalId}\` is ${row.status} already`);
    return row;
  }

  async #item(approvalId: string): Promise<{ item: InboxItem; row: ApprovalRow }> {
    const row = await this.#row(approvalId);
    // Open only: a terminated session still answers its query, and would be refused only after the person signed.
    const shown = shownItem(row, await this.deps.readState(row.workflowId, { openOnly: true }), Date.now());
    if (!shown.ok) throw new ConsoleError(409, shown.code, shown.message);
    return { item: shown.item, row };
  }

  #rule(person: Person, row: Parameters<typeof checkDecision>[0], approve: boolean, reason: string | undefined): void {
    const verdict = checkDecision(row, { approvalId: row!.approvalId, approver: person.principal, approve, ...(reason ? { reason } : {}) }, Date.now(), this.deps.keyset);
    if (!verdict.ok) throw new ConsoleError(403, verdict.code, verdict.message);
  }

  /**
   * The vote rule's duplicate check, against the approvers the session's own state lists: the
   * approvals row never records votes, so `#rule` cannot see them, and the session refuses a
   * second approve by the same person (`approval.duplicate`) only after it was signed.
   */
  #notApprovedYet(person: Person, item: InboxItem, approve: boolean): void {
    if (approve && item.approvedBy.includes(person.principal)) {
      throw new ConsoleError(409, 'already-approved-by-you', `\`${person.principal}\` already approved this call: distinct approvers are needed`);
    }
  }

  async prepare(person: Person, approvalId: string, verdict: unknown, reasonIn: unknown): Promise<PreparedVote> {
    if (person.role !== 'approver') throw new ConsoleError(403, 'role', `\`${person.principal}\` signs in as ${person.role}, not as an approver`);
    if (verdict !== 'approve' && verdict !== 'deny') throw new ConsoleError(400, 'verdict', 'expected verdict `approve` or `deny`');
    const reason = typeof reasonIn === 'string' && reasonIn.trim() ? reasonIn.trim().slice(0, 2000) : undefined;
    const { item, row } = await this.#item(approvalId);
    // Refuse before the person touches the key what the workflow would refuse (four eyes, not a member, no reason, approved already).
    this.#rule(person, row, verdict === 'approve', reason);
    this.#notApprovedYet(person, item, verdict === 'approve');
    const decision = {
      ...decisionHead(person, 'vote', item.workflowId, item.firstRunId),
      approvalId: item.approvalId,
      tool: item.tool,
      callDigest: item.callDigest,
      verdict,
      ...(reason ? { reason } : {}),
    };
    const prepared = prepareSignature(person, decision, this.deps.rpId);
    const now = Date.now();
    // Oldest first (one lifetime for all): drop the expired, and the oldest past the cap.
    for (const [payload, kept] of this.#prepared) {
      if (kept.until > now && this.#prepared.size < MAX_PREPARED) break;
      this.#prepared.delete(payload);
    }
    this.#prepared.set(prepared.payload, { principal: person.principal, approvalId, item, until: now + SIGN_TTL_MS });
    return prepared;
  }

  /** The item `prepare` read for this payload, person and approval (once), with the row read again; else both read afresh. */
  async #itemFor(person: Person, approvalId: string, payload: unknown): Promise<{ item: InboxItem; row: ApprovalRow }> {
    const kept = typeof payload === 'string' ? this.#prepared.get(payload) : undefined;
    if (!kept || kept.principal !== person.principal || kept.approvalId !== approvalId || kept.until <= Date.now()) return this.#item(approvalId);
    this.#prepared.delete(payload as string);
    return { item: kept.item, row: await this.#row(approvalId) };
  }

  /** Checks a signed vote and sends it; resolves with the workflow's answer once it counted it (or says why not). */
  async submit(person: Person, approvalId: string, payload: unknown, assertion: AssertionJSON): Promise<{ counted: true; approver: string; status: string }> {
    // Both reads at once; the envelope's refusal, if any, first.
    const [env, got] = await Promise.allSettled([passkeyEnvelope(this.deps.store, person, payload, assertion), this.#itemFor(person, approvalId, payload)]);
    if (env.status === 'rejected') throw env.reason;
    if (got.status === 'rejected') throw got.reason;
    const envelope = env.value;
    const { item, row } = got.value;
    // What the workflow checks first, here first: signature, grant, challenge, session, expiry, nonce.
    const check = checkSignedDecision(envelope, this.deps.keyset, { kind: 'vote', workflowId: item.workflowId, firstRunId: item.firstRunId, usedNonces: this.#used }, Date.now());
    if (!check.ok) throw new ConsoleError(400, check.rule, check.message);
    const d = check.decision;
    if (d.approvalId !== item.approvalId) throw new ConsoleError(400, 'approval-id', `the vote was signed for approval \`${d.approvalId}\`, not \`${item.approvalId}\``);
    if (d.tool !== item.tool) throw new ConsoleError(400, 'tool', `the vote names tool \`${d.tool ?? 'none'}\`, but approval \`${item.approvalId}\` asks about \`${item.tool}\``);
    if (d.callDigest !== item.callDigest) throw new ConsoleError(400, 'digest', `the vote was signed for another call than approval \`${item.approvalId}\` asks about`);
    this.#rule(person, row, d.verdict === 'approve', d.reason);
    this.#notApprovedYet(person, item, d.verdict === 'approve');
    this.#used.add(d.nonce);
    const answer = await this.#send(item.workflowId, envelope as unknown as ApprovalSignal).catch((err: unknown) => {
      if (err instanceof SessionGoneError) throw new ConsoleError(409, 'session-gone', `${err.message}: the approval can no longer be decided`);
      throw err;
    });
    if (answer === undefined) {
      throw new ConsoleError(504, 'not-answered', 'the vote was sent and the session has not answered yet (is its worker running?): it counts or refuses the vote when it runs; see its trail (`gatehouse trace`)');
    }
    if (!answer.counted) throw new ConsoleError(409, 'session-refused', `the session refused the vote (${answer.rule}): ${answer.message}; nothing was counted`);
    return { counted: true, approver: answer.approver, status: answer.status };
  }
}
