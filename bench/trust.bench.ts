/**
 * Trust benchmark: what checking a signed decision costs — the envelope's Ed25519 verification,
 * the whole `checkSignedDecision` the session workflow runs on every vote, resume and budget raise
 * (schema, bindings, times, nonce), the vote rule, and an agent credential's verification (jose,
 * once per session start, in an activity). All of it is the same JavaScript the workflow sandbox
 * runs; measured here in plain Node.
 *
 * `npm run bench:trust` runs both parts; `BENCH_TRUST_PART=node` the plain-Node one above,
 * `BENCH_TRUST_PART=sandbox` the same vote checks inside Temporal's workflow sandbox (a dev server,
 * a tiny workflow; see fixtures/sandbox-verify.ts). The last line is one JSON object.
 */
import { generateSigningKey, keyEntryOf } from '../client/trust/key-files';
import { issueAgentCredential, verifyAgentCredential } from '../client/trust/credentials';
import { signDecision } from '../client/trust/sign';
import { checkSignedDecision, checkVote, verifyEnvelope, type Keyset, type VoteContext } from '../policies/trust';
import { softPasskey } from '../test/support/passkey';
import { sandboxPart } from './fixtures/sandbox-verify';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const PART = process.env.BENCH_TRUST_PART ?? 'both';

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(name: string, fn: () => unknown | Promise<unknown>): Promise<{ p50: number; p99: number }> {
  for (let i = 0; i < 200; i++) await fn(); // warm-up: JIT and noble's precomputed tables
  const us: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    await fn();
    us.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  us.sort((a, b) => a - b);
  const r = { p50: percentile(us, 50), p99: percentile(us, 99) };
  process.stdout.write(`${name.padEnd(28)} p50 ${r.p50.toFixed(1)} µs   p99 ${r.p99.toFixed(1)} µs\n`);
  return r;
}

async function nodePart(): Promise<Record<string, number>> {
  const operator = generateSigningKey('ops', 'operator');
  const approvers = Array.from({ length: 50 }, (_, i) => generateSigningKey(`person-${i}`, 'approver'));
  const registrar = generateSigningKey('console', 'registrar');
  const keyset: Keyset = { development: false, keys: [operator, registrar, ...approvers].map((k) => keyEntryOf(k)), slackUsers: [] };
  const alice = approvers[25]!;
  const envelope = signDecision(alice, { kind: 'vote', workflowId: 'session-b', firstRunId: 'run-1', approvalId: 'b:1', callDigest: 'a'.repeat(64), verdict: 'approve' });
  const binding = { kind: 'vote' as const, workflowId: 'session-b', firstRunId: 'run-1', usedNonces: new Set(Array.from({ length: 100 }, (_, i) => `nonce-${i}-padding-xx`)) };
  const now = Date.now();
  const ctx: VoteContext = {
    agentId: 'bot',
    owner: 'eng-007',
    requirement: { groups: ['on-call', 'sre'], approversRequired: 2, escalateAfterMs: [300_000], timeoutMs: 900_000, channel: '#c', fourEyes: true, unlocksTransition: false },
    groupMembers: { 'on-call': approvers.slice(0, 30).map((k) => k.principal), sre: approvers.slice(30).map((k) => k.principal) },
    requestedAt: now,
    votes: [],
  };
  const { token } = await issueAgentCredential(operator, { agentId: 'billing-bot', owner: 'eng-007' });

  const env = await time('verifyEnvelope (ed25519)', () => verifyEnvelope(envelope, keyset, now));
  const full = await time('checkSignedDecision', () => {
    const r = checkSignedDecision(envelope, keyset, binding, now);
    if (!r.ok) throw new Error(r.message);
  });
  // A passkey vote (the console's): the registrar's Ed25519 grant, then WebAuthn's P-256 assertion.
  const passkey = softPasskey(alice.principal, registrar);
  const passkeyEnvelope = passkey.sign({ v: 1, kind: 'vote', workflowId: 'session-b', firstRunId: 'run-1', approvalId: 'b:1', tool: 'billing.deleteRecords', callDigest: 'a'.repeat(64), verdict: 'approve', issuedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString(), nonce: 'p'.repeat(32) });
  const webauthn = await time('checkSignedDecision (passkey)', () => {
    const r = checkSignedDecision(passkeyEnvelope, keyset, binding, now);
    if (!r.ok) throw new Error(r.message);
  });
  const vote = await time('checkVote', () => checkVote(ctx, { approver: alice.principal, approve: true }, now));
  const cred = await time('verifyAgentCredential (jose)', async () => {
    const r = await verifyAgentCredential(token, keyset, now);
    if (!r.ok) throw new Error(r.message);
  });
  return {
    verify_envelope_p50_us: Math.round(env.p50),
    check_signed_decision_p50_us: Math.round(full.p50),
    check_signed_decision_p99_us: Math.round(full.p99),
    check_passkey_decision_p50_us: Math.round(webauthn.p50),
    check_passkey_decision_p99_us: Math.round(webauthn.p99),
    check_vote_p50_us: Number(vote.p50.toFixed(1)),
    verify_credential_p50_us: Math.round(cred.p50),
    keys: keyset.keys.length,
    rounds: ROUNDS,
  };
}

async function main(): Promise<void> {
  if (!['both', 'node', 'sandbox'].includes(PART)) throw new Error(`expected BENCH_TRUST_PART \`node\`, \`sandbox\` or unset, not \`${PART}\``);
  const node = PART === 'sandbox' ? {} : await nodePart();
  const sandbox = PART === 'node' ? {} : await sandboxPart();
  process.stdout.write(`${JSON.stringify({ ...node, ...sandbox })}\n`);
  // The test servers (a Temporal dev server) stop when the process exits.
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
