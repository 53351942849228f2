/**
 * Approve / deny signed with the approver's passkey. `prepare` builds the decision payload — the
 * same signed vote the CLI sends (session, first run, approval id, call digest, verdict, nonce,
 * expiry), keyed by the passkey's key id — and returns its digest as the WebAuthn challenge, which
 * the page shows. `submit` assembles the passkey envelope with the registrar's grant, checks it
 * exactly as the workflow will (`checkSignedDecision`, then the one vote rule), signals the
 * session workflow, and waits for the workflow's own answer. A refusal decides nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { base64, base64urlnopad } from '@scure/base';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { checkDecision } from '../approvals/check-decision';
import type { ApprovalStore } from '../approvals/store';
import { canonicalJson } from '../policies/hash';
import { checkSignedDecision, webAuthnChallenge, WEBAUTHN_DECISION_PAYLOAD_TYPE, type Keyset } from '../policies/trust';
import { approvalSignal, type ApprovalSignal } from '../workflows/contract';
import { ConsoleError } from './errors';
import { shownItem, type InboxItem, type StateReader } from './inbox';
import type { Person } from './sessions';
import type { ConsoleStore } from './store';

/** How long a prepared payload may wait for the person's touch. */
const VOTE_TTL_MS = 5 * 60 * 1000;

export interface PreparedVote {
  /** base64 of the canonical decision JSON: what the passkey signs (by its digest). */
  readonly payload: string;
  /** sha256(PAE(type, payload)), hex: shown on the page, and the WebAuthn challenge. */
  readonly digest: string;
  readonly decision: Record<string, unknown>;
  readonly options: { readonly challenge: string; readonly rpId: string; readonly allowCredentials: readonly { id: string; type: 'public-key' }[]; readonly userVerification: 'required'; readonly timeout: number };
}

/** The browser's assertion, as `@simplewebauthn/browser` returns it (base64url fields). */
export interface AssertionJSON {
  readonly id: string;
  readonly response: { readonly authenticatorData: string; readonly clientDataJSON: string; readonly signature: string };
}

export interface VoteDeps {
  readonly approvals: ApprovalStore;
  readonly store: ConsoleStore;
  readonly readState: StateReader;
  readonly client: Client;
  readonly keyset: Keyset;
  readonly rpId: string;
}

const b64url = (s: unknown, what: string): Uint8Array => {
  try {
    if (typeof s !== 'string') throw new Error();
    return base64urlnopad.decode(s.replace(/=+$/, ''));
  } catch {
    throw new ConsoleError(400, 'assertion', `the passkey assertion's \`${what}\` is not base64url`);
  }
};

export class ConsoleVotes {
  /** Nonces this console has signalled: a replayed assertion is refused here as in the workflow. */
  readonly #used = new Set<string>();

  constructor(private readonly deps: VoteDeps) {}

  async #item(approvalId: string): Promise<{ item: InboxItem; row: NonNullable<Awaited<ReturnType<ApprovalStore['get']>>> }> {
    const row = await this.deps.approvals.get(approvalId);
    if (!row) throw new ConsoleError(404, 'not-found', `no approval \`${approvalId.slice(0, 200)}\``);
    if (row.status !== 'pending') throw new ConsoleError(409, 'already-decided', `approval \`${approvalId}\` is ${row.status} already`);
    const shown = shownItem(row, await this.deps.readState(row.workflowId), Date.now());
    if (!shown.ok) throw new ConsoleError(409, shown.code, shown.message);
    return { item: shown.item, row };
  }

  #rule(person: Person, row: Parameters<typeof checkDecision>[0], approve: boolean, reason: string | undefined): void {
    const verdict = checkDecision(row, { approvalId: row!.approvalId, approver: person.principal, approve, ...(reason ? { reason } : {}) }, Date.now());
    if (!verdict.ok) throw new ConsoleError(403, verdict.code, verdict.message);
  }

  async prepare(person: Person, approvalId: string, verdict: unknown, reasonIn: unknown): Promise<PreparedVote> {
    if (person.role !== 'approver') throw new ConsoleError(403, 'role', `\`${person.principal}\` signs in as ${person.role}, not as an approver`);
    if (verdict !== 'approve' && verdict !== 'deny') throw new ConsoleError(400, 'verdict', 'expected verdict `approve` or `deny`');
    const reason = typeof reasonIn === 'string' && reasonIn.trim() ? reasonIn.trim().slice(0, 2000) : undefined;
    const { item, row } = await this.#item(approvalId);
    // Refuse before the person touches the key what the workflow would refuse (four eyes, not a member, no reason).
    this.#rule(person, row, verdict === 'approve', reason);
    const now = Date.now();
    const decision = {
      v: 1,
      kind: 'vote',
      workflowId: item.workflowId,
      firstRunId: item.firstRunId,
      keyId: person.keyId,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + VOTE_TTL_MS).toISOString(),
      nonce: randomBytes(16).toString('hex'),
      approvalId: item.approvalId,
      tool: item.tool,
      callDigest: item.callDigest,
      verdict,
      ...(reason ? { reason } : {}),
    };
    const bytes = utf8ToBytes(canonicalJson(decision));
    const challenge = webAuthnChallenge(bytes);
    return {
      payload: base64.encode(bytes),
      digest: bytesToHex(challenge),
      decision,
      options: { challenge: base64urlnopad.encode(challenge), rpId: this.deps.rpId, allowCredentials: [{ id: person.credentialId, type: 'public-key' }], userVerification: 'required', timeout: 120_000 },
    };
  }

  /** Checks and signals a signed vote; resolves once the workflow counted it (or says why not). */
  async submit(person: Person, approvalId: string, payload: unknown, assertion: AssertionJSON): Promise<{ counted: true; approver: string; status: string }> {
    if (typeof payload !== 'string' || payload.length > 64 * 1024) throw new ConsoleError(400, 'payload', 'expected the prepared payload (base64)');
    if (!assertion || typeof assertion !== 'object' || assertion.id !== person.credentialId) throw new ConsoleError(400, 'assertion', 'the vote must be signed with the passkey you signed in with');
    const passkey = await this.deps.store.passkey(person.credentialId);
    if (!passkey) throw new ConsoleError(401, 'unknown-passkey', 'this passkey is not enrolled here');
    const envelope = {
      payloadType: WEBAUTHN_DECISION_PAYLOAD_TYPE,
      payload,
      signatures: [
        {
          keyid: passkey.keyId,
          sig: base64.encode(b64url(assertion.response?.signature, 'signature')),
          authenticatorData: base64.encode(b64url(assertion.response?.authenticatorData, 'authenticatorData')),
          clientDataJSON: base64.encode(b64url(assertion.response?.clientDataJSON, 'clientDataJSON')),
        },
      ],
      grant: passkey.grant,
    };
    const { item, row } = await this.#item(approvalId);
    // What the workflow checks first, here first: signature, grant, challenge, session, expiry, nonce.
    const check = checkSignedDecision(envelope, this.deps.keyset, { kind: 'vote', workflowId: item.workflowId, firstRunId: item.firstRunId, usedNonces: this.#used }, Date.now());
    if (!check.ok) throw new ConsoleError(400, check.rule, check.message);
    const d = check.decision;
    if (d.approvalId !== item.approvalId) throw new ConsoleError(400, 'approval-id', `the vote was signed for approval \`${d.approvalId}\`, not \`${item.approvalId}\``);
    if (d.tool !== item.tool) throw new ConsoleError(400, 'tool', `the vote names tool \`${d.tool ?? 'none'}\`, but approval \`${item.approvalId}\` asks about \`${item.tool}\``);
    if (d.callDigest !== item.callDigest) throw new ConsoleError(400, 'digest', `the vote was signed for another call than approval \`${item.approvalId}\` asks about`);
    this.#rule(person, row, d.verdict === 'approve', d.reason);
    this.#used.add(d.nonce);
    await this.deps.client.workflow.getHandle(item.workflowId).signal(approvalSignal, envelope as unknown as ApprovalSignal);
    return this.#counted(item, person.principal, d.verdict === 'approve');
  }

  /** Polls the workflow's own state until the vote shows (counted or settled), up to 10 s. */
  async #counted(item: InboxItem, approver: string, approve: boolean): Promise<{ counted: true; approver: string; status: string }> {
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const state = await this.deps.readState(item.workflowId);
      const pending = state?.pendingApprovals.find((p) => p.approvalId === item.approvalId);
      if (!pending) return { counted: true, approver, status: approve ? 'approved' : 'denied' };
      if (approve && pending.approvedBy.includes(approver)) return { counted: true, approver, status: 'pending' };
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new ConsoleError(502, 'not-counted', 'the session did not count the vote: see its alerts (`gatehouse trace`)');
  }
}
