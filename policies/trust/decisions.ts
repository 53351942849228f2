/**
 * Signed decisions: the only messages that may loosen a session's gate — an approval vote
 * (approve or deny, which also unlocks a forbidden transition when the approval asks for one), a
 * resume after a pause, a budget raise. Each is a `SignedEnvelope` whose payload binds the kind,
 * the session (workflow id and first run id), issued-at / expiry, a nonce and the signer's key id;
 * a vote also binds the approval id, the tool and the digest of the exact call.
 *
 * `checkSignedDecision` is everything in, one response out: the workflow calls it in workflow code
 * against the keyset it snapshotted, and `audit verify` calls it again over the stored envelopes.
 */
import { z } from 'zod';
import type { KeyEntry, KeyRole, Keyset } from './keyset';
import { verifyEnvelope, type EnvelopeRefusal } from './envelope';
import { isWebAuthnEnvelope, verifyWebAuthnEnvelope, type WebAuthnRefusal } from './webauthn';

/** Longest accepted lifetime of a signed decision. */
export const MAX_DECISION_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** How far in the future `issuedAt` may be (clock skew between signer and worker). */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

export type DecisionKind = 'vote' | 'resume' | 'budget-raise';

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'expected an ISO time' });
const common = {
  v: z.literal(1),
  workflowId: z.string().min(1).max(300),
  firstRunId: z.string().min(1).max(100),
  keyId: z.string().min(1).max(200),
  issuedAt: isoTime,
  expiresAt: isoTime,
  nonce: z.string().min(16).max(128),
  reason: z.string().max(2000).optional(),
};

const voteSchema = z
  .object({
    ...common,
    kind: z.literal('vote'),
    approvalId: z.string().min(1).max(300),
    callDigest: z.string().regex(/^[0-9a-f]{64}$/, 'expected a sha256 hex digest'),
    /** The tool the approver was shown (bound with the digest; absent from votes signed before it was). */
    tool: z.string().min(1).max(200).optional(),
    verdict: z.enum(['approve', 'deny']),
    /** Set by the approvals service only: the Slack person it votes for (Bolt verified the request). */
    onBehalfOf: z.object({ slackUserId: z.string().min(1).max(100), slackTeamId: z.string().min(1).max(100) }).strict().optional(),
  })
  .strict();

const resumeSchema = z
  .object({ ...common, kind: z.literal('resume'), tool: z.string().min(1).max(200).optional() })
  .strict();

const budgetRaiseSchema = z
  .object({
    ...common,
    kind: z.literal('budget-raise'),
    budget: z
      .object({
        actions: z.number().int().nonnegative().optional(),
        writes: z.number().int().nonnegative().optional(),
        critical: z.number().int().nonnegative().optional(),
        tokens: z.number().int().nonnegative().optional(),
      })
      .strict(),
  })
  .strict();

// Not exported: a schema the workflow sandbox parses must stay unfrozen (worker/bundle.ts).
const signedDecisionSchema = z.discriminatedUnion('kind', [voteSchema, resumeSchema, budgetRaiseSchema]);

export type SignedDecision = z.infer<typeof signedDecisionSchema>;
export type VoteDecision = z.infer<typeof voteSchema>;
export type ResumeDecision = z.infer<typeof resumeSchema>;
export type BudgetRaiseDecision = z.infer<typeof budgetRaiseSchema>;

/** Which roles may sign which kind. */
const ROLES: Readonly<Record<DecisionKind, readonly KeyRole[]>> = {
  vote: ['approver', 'approvals-service'],
  resume: ['operator'],
  'budget-raise': ['operator'],
};

/** Why a signed decision was refused: the envelope's checks, then the payload's. */
export type DecisionRefusal =
  | EnvelopeRefusal
  | WebAuthnRefusal
  | 'decision.kind'
  | 'decision.key-id'
  | 'decision.role'
  | 'decision.session'
  | 'decision.not-yet-valid'
  | 'decision.expired'
  | 'decision.lifetime'
  | 'decision.replayed';

/** What the signed decision must bind to be counted here. */
export interface DecisionBinding {
  readonly kind: DecisionKind;
  readonly workflowId: string;
  readonly firstRunId: string;
  /** Nonces already used in this session: a replayed envelope is refused. */
  readonly usedNonces: ReadonlySet<string>;
}

export type DecisionCheck<K extends DecisionKind = DecisionKind> =
  | { readonly ok: true; readonly key: KeyEntry; readonly decision: Extract<SignedDecision, { kind: K }> }
  | { readonly ok: false; readonly rule: DecisionRefusal; readonly message: string; readonly keyId?: string };

/**
 * Verifies a signed decision for one session at time `now` (ms). Order, fixed: the envelope
 * (see `verifyEnvelope`, or `verifyWebAuthnEnvelope` for a passkey's) → payload schema → kind → key id in payload = signing key → role may sign
 * this kind → workflow id and first run id → issued-at not in the future → not expired → lifetime
 * within 24 h → nonce unused.
 */
export function checkSignedDecision<K extends DecisionKind>(envelope: unknown, keyset: Keyset, binding: DecisionBinding & { kind: K }, now: number): DecisionCheck<K> {
  // A passkey-signed envelope (webauthn.ts) verifies by its own scheme; then the same checks follow.
  const env = isWebAuthnEnvelope(envelope) ? verifyWebAuthnEnvelope(envelope, keyset, now) : verifyEnvelope(envelope, keyset, now);
  if (!env.ok) return env;
  const keyId = env.key.keyId;
  const refuse = (rule: DecisionRefusal, message: string): DecisionCheck<K> => ({ ok: false, rule, message, keyId });
  const parsed = signedDecisionSchema.safeParse(env.payload);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    return refuse('envelope.payload', `the signed payload is not a decision${first ? `: ${first.path.join('.') || '(root)'}: ${first.message}` : ''}`);
  }
  const d = parsed.data;
  if (d.kind !== binding.kind) return refuse('decision.kind', `expected a signed \`${binding.kind}\`, got \`${d.kind}\``);
  if (d.keyId !== keyId) return refuse('decision.key-id', `the payload names key \`${d.keyId}\` but was signed by \`${keyId}\``);
  if (!ROLES[d.kind].includes(env.key.role)) {
    return refuse('decision.role', `\`${env.key.principal}\` holds a key of role \`${env.key.role}\`, which may not sign a \`${d.kind}\``);
  }
  if (d.workflowId !== binding.workflowId || d.firstRunId !== binding.firstRunId) {
    return refuse('decision.session', `signed for session \`${d.workflowId}\` run \`${d.firstRunId}\`, not this one`);
  }
  const issued = Date.parse(d.issuedAt);
  const expires = Date.parse(d.expiresAt);
  if (issued > now + MAX_CLOCK_SKEW_MS) return refuse('decision.not-yet-valid', `issued at ${d.issuedAt}, in the future`);
  if (now >= expires) return refuse('decision.expired', `expired at ${d.expiresAt}`);
  if (expires - issued > MAX_DECISION_LIFETIME_MS) return refuse('decision.lifetime', 'valid for more than 24 hours');
  if (binding.usedNonces.has(d.nonce)) return refuse('decision.replayed', `nonce \`${d.nonce}\` was already used in this session`);
  return { ok: true, key: env.key, decision: d as Extract<SignedDecision, { kind: K }> };
}
