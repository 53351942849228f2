/**
 * The verification order of signed decisions (policies/trust: envelope.ts, decisions.ts), every
 * refusal on its own with its exact rule, and the keyset's validation and lookups (keyset.ts)
 * and the voter's identity (votes.ts; the vote rule itself: votes.test.ts). Pure: keys are made here, times are given.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64 } from '@scure/base';
import { generateSigningKey, keyEntryOf, secretKeyBytes, type SigningKey } from '../../client/trust/key-files';
import {
  checkSignedDecision,
  decodePublicKey,
  DECISION_PAYLOAD_TYPE,
  findKey,
  keyIdOf,
  p256KeyIdOf,
  pae,
  parseKeyset,
  resolveVoter,
  signEnvelope,
  verifyEnvelope,
  type Keyset,
  type VoteDecision,
} from '../../policies/trust';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const operator = generateSigningKey('ops', 'operator');
const alice = generateSigningKey('alice', 'approver');
const service = generateSigningKey('slack', 'approvals-service');
const revoked = generateSigningKey('gone', 'approver');
const expired = generateSigningKey('old', 'approver');
const registrar = generateSigningKey('console', 'registrar');
const keyset: Keyset = {
  development: false,
  keys: [
    keyEntryOf(operator),
    keyEntryOf(alice, '2026-12-31T00:00:00Z'),
    keyEntryOf(service),
    { ...keyEntryOf(revoked), revoked: true },
    keyEntryOf(expired, '2026-06-01T11:59:59Z'),
    keyEntryOf(registrar),
  ],
  slackUsers: [{ userId: 'U1', teamId: 'T1', approver: 'bob' }],
};
/** The documented bounds, spelled out (not imported: a changed constant must fail here). */
const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const MAX_DECISION_LIFETIME_MS = 24 * 3_600_000;
const binding = { kind: 'resume' as const, workflowId: 'session-s1', firstRunId: 'run-1', usedNonces: new Set(['n'.repeat(16)]) };

function payload(key: SigningKey, over: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, kind: 'resume', workflowId: 'session-s1', firstRunId: 'run-1', keyId: key.keyId, issuedAt: new Date(NOW).toISOString(), expiresAt: new Date(NOW + 600_000).toISOString(), nonce: 'a'.repeat(32), ...over };
}
function signed(key: SigningKey, over: Record<string, unknown> = {}, type = DECISION_PAYLOAD_TYPE) {
  return signEnvelope(payload(key, over), secretKeyBytes(key), key.keyId, type);
}
function rule(envelope: unknown, b: Parameters<typeof checkSignedDecision>[2] = binding, now = NOW): string {
  const r = checkSignedDecision(envelope, keyset, b, now);
  return r.ok ? 'ok' : r.rule;
}

describe('the verification order of a signed decision', () => {
  it('accepts a well-formed decision of the right kind, key, role, session, time and nonce', () => {
    const r = checkSignedDecision(signed(operator), keyset, binding, NOW);
    assert.ok(r.ok);
    assert.equal(r.key.keyId, operator.keyId);
    assert.equal(r.decision.kind, 'resume');
  });

  it('envelope.malformed: not an envelope, not exactly one signature, a bad signature entry, over 64 KiB, not base64', () => {
    const good = signed(operator);
    assert.equal(rule(null), 'envelope.malformed');
    assert.equal(rule([good]), 'envelope.malformed');
    assert.equal(rule({ ...good, payload: 1 }), 'envelope.malformed');
    assert.equal(rule({ ...good, payloadType: 1 }), 'envelope.malformed');
    assert.equal(rule({ ...good, signatures: 'x' }), 'envelope.malformed');
    assert.equal(rule({ ...good, signatures: [] }), 'envelope.malformed');
    assert.equal(rule({ ...good, signatures: [good.signatures[0], good.signatures[0]] }), 'envelope.malformed');
    assert.equal(rule({ ...good, signatures: [null] }), 'envelope.malformed');
    assert.equal(rule({ ...good, signatures: [{ keyid: operator.keyId }] }), 'envelope.malformed');
    assert.equal(rule({ ...good, signatures: [{ sig: good.signatures[0]!.sig }] }), 'envelope.malformed');
    assert.equal(rule({ ...good, payload: 'A'.repeat(64 * 1024 + 4) }), 'envelope.malformed', 'valid base64, over 64 KiB: refused before decoding');
    assert.equal(rule({ ...good, payload: '!!!' }), 'envelope.malformed');
    const r = verifyEnvelope({ ...good, signatures: [] }, keyset, NOW);
    assert.deepEqual(r, { ok: false, rule: 'envelope.malformed', message: 'expected exactly one signature, got 0' });
  });

  it('envelope.payload-type: another payload type, even correctly signed', () => {
    const r = checkSignedDecision(signed(operator, {}, 'application/json'), keyset, binding, NOW);
    assert.deepEqual(r, { ok: false, rule: 'envelope.payload-type', message: `expected payload type \`${DECISION_PAYLOAD_TYPE}\`, got \`application/json\`` });
  });

  it('envelope.unknown-key, envelope.key-revoked, envelope.key-expired: the key before the signature', () => {
    const stranger = generateSigningKey('eve', 'operator');
    assert.deepEqual(checkSignedDecision(signed(stranger), keyset, binding, NOW), { ok: false, rule: 'envelope.unknown-key', message: `unknown key id \`${stranger.keyId}\``, keyId: stranger.keyId });
    const rv = checkSignedDecision(signed(revoked), keyset, binding, NOW);
    assert.deepEqual(rv, { ok: false, rule: 'envelope.key-revoked', message: `key \`${revoked.keyId}\` of \`gone\` is revoked`, keyId: revoked.keyId });
    const ex = checkSignedDecision(signed(expired), keyset, binding, NOW);
    assert.deepEqual(ex, { ok: false, rule: 'envelope.key-expired', message: `key \`${expired.keyId}\` of \`old\` expired at 2026-06-01T11:59:59Z`, keyId: expired.keyId });
    // At its notAfter instant a key still signs; a millisecond later it does not.
    const atEdge = Date.parse('2026-06-01T11:59:59Z');
    assert.equal(verifyEnvelope(signed(expired), keyset, atEdge).ok, true);
    assert.equal(verifyEnvelope(signed(expired), keyset, atEdge + 1).ok, false);
  });

  it('envelope.bad-signature: a signature by another key, a tampered payload, a short signature', () => {
    const good = signed(operator);
    const byAlice = signEnvelope(payload(operator), secretKeyBytes(alice), operator.keyId);
    assert.equal(rule(byAlice), 'envelope.bad-signature');
    assert.equal(rule({ ...good, payload: base64.encode(new TextEncoder().encode(JSON.stringify(payload(operator, { nonce: 'b'.repeat(32) })))) }), 'envelope.bad-signature');
    assert.equal(rule({ ...good, signatures: [{ keyid: operator.keyId, sig: base64.encode(new Uint8Array(63)) }] }), 'envelope.bad-signature');
    const badKey: Keyset = { ...keyset, keys: [{ ...keyEntryOf(operator), publicKey: base64.encode(new Uint8Array(31)) }] };
    assert.equal(checkSignedDecision(good, badKey, binding, NOW).ok, false);
  });

  it('envelope.payload: signed bytes that are not JSON, or JSON that is not a decision', () => {
    const notJson = new TextEncoder().encode('{not json');
    const sig = ed25519.sign(pae(DECISION_PAYLOAD_TYPE, notJson), secretKeyBytes(operator));
    const env = { payloadType: DECISION_PAYLOAD_TYPE, payload: base64.encode(notJson), signatures: [{ keyid: operator.keyId, sig: base64.encode(sig) }] };
    assert.deepEqual(checkSignedDecision(env, keyset, binding, NOW), { ok: false, rule: 'envelope.payload', message: 'the signed payload is not JSON', keyId: operator.keyId });
    const r = checkSignedDecision(signed(operator, { v: 2 }), keyset, binding, NOW);
    assert.equal(r.ok ? 'ok' : r.rule, 'envelope.payload');
    assert.match(r.ok ? '' : r.message, /^the signed payload is not a decision: v: /);
    const root = checkSignedDecision(signEnvelope([], secretKeyBytes(operator), operator.keyId), keyset, binding, NOW);
    assert.match(root.ok ? '' : root.message, /^the signed payload is not a decision: \(root\): /);
  });

  it('decision.kind: a signed resume is not a budget raise', () => {
    const r = checkSignedDecision(signed(operator), keyset, { ...binding, kind: 'budget-raise' }, NOW);
    assert.deepEqual(r, { ok: false, rule: 'decision.kind', message: 'expected a signed `budget-raise`, got `resume`', keyId: operator.keyId });
  });

  it('decision.key-id: the payload must name the key that signed it', () => {
    const r = checkSignedDecision(signed(operator, { keyId: alice.keyId }), keyset, binding, NOW);
    assert.deepEqual(r, { ok: false, rule: 'decision.key-id', message: `the payload names key \`${alice.keyId}\` but was signed by \`${operator.keyId}\``, keyId: operator.keyId });
  });

  it('decision.role: an approver cannot resume, an operator cannot vote, a registrar signs nothing', () => {
    assert.equal(rule(signed(alice)), 'decision.role');
    assert.equal(rule(signed(registrar)), 'decision.role');
    const vote = { kind: 'vote', approvalId: 'session-s1:a1', callDigest: 'f'.repeat(64), verdict: 'approve' };
    const voteBinding = { ...binding, kind: 'vote' as const };
    assert.equal(rule(signed(operator, vote), voteBinding), 'decision.role');
    assert.equal(rule(signed(alice, vote), voteBinding), 'ok');
    assert.equal(rule(signed(service, { ...vote, onBehalfOf: { slackUserId: 'U1', slackTeamId: 'T1' } }), voteBinding), 'ok');
    assert.equal(rule(signed(operator, { kind: 'budget-raise', budget: { actions: 5 } }), { ...binding, kind: 'budget-raise' }), 'ok');
  });

  it('decision.session: another session id or another run', () => {
    assert.equal(rule(signed(operator, { workflowId: 'session-s2' })), 'decision.session');
    assert.equal(rule(signed(operator, { firstRunId: 'run-2' })), 'decision.session');
  });

  it('decision.not-yet-valid, decision.expired, decision.lifetime: the times, each at its edge', () => {
    const at = (t: number) => new Date(t).toISOString();
    // Issued up to the clock skew ahead is accepted; a millisecond more is in the future.
    assert.equal(rule(signed(operator, { issuedAt: at(NOW + MAX_CLOCK_SKEW_MS), expiresAt: at(NOW + MAX_CLOCK_SKEW_MS + 1000) })), 'ok');
    const future = checkSignedDecision(signed(operator, { issuedAt: at(NOW + MAX_CLOCK_SKEW_MS + 1), expiresAt: at(NOW + MAX_CLOCK_SKEW_MS + 1000) }), keyset, binding, NOW);
    assert.deepEqual(future, { ok: false, rule: 'decision.not-yet-valid', message: `issued at ${at(NOW + MAX_CLOCK_SKEW_MS + 1)}, in the future`, keyId: operator.keyId });
    // Valid until just before expiresAt.
    assert.equal(rule(signed(operator, { expiresAt: at(NOW + 1) })), 'ok');
    assert.equal(rule(signed(operator, { expiresAt: at(NOW) })), 'decision.expired');
    // A lifetime of exactly 24 hours is allowed; a millisecond more is not.
    assert.equal(rule(signed(operator, { issuedAt: at(NOW - 1000), expiresAt: at(NOW - 1000 + MAX_DECISION_LIFETIME_MS) })), 'ok');
    const long = checkSignedDecision(signed(operator, { issuedAt: at(NOW - 1000), expiresAt: at(NOW - 999 + MAX_DECISION_LIFETIME_MS) }), keyset, binding, NOW);
    assert.deepEqual(long, { ok: false, rule: 'decision.lifetime', message: 'valid for more than 24 hours', keyId: operator.keyId });
  });

  it('decision.replayed: a nonce already used in the session', () => {
    const r = checkSignedDecision(signed(operator, { nonce: 'n'.repeat(16) }), keyset, binding, NOW);
    assert.deepEqual(r, { ok: false, rule: 'decision.replayed', message: `nonce \`${'n'.repeat(16)}\` was already used in this session`, keyId: operator.keyId });
  });

  it('says what failed, word for word, in the messages no other test reads', () => {
    const message = (envelope: unknown, b: Parameters<typeof checkSignedDecision>[2] = binding) => { const r = checkSignedDecision(envelope, keyset, b, NOW); return r.ok ? 'ok' : r.message; };
    const good = signed(operator);
    // The payload type is the contract with every client that signs: spelled out, not imported.
    assert.equal(DECISION_PAYLOAD_TYPE, 'application/vnd.gatehouse.decision+json');
    assert.equal(message(null), 'expected a signed envelope `{ payloadType, payload, signatures }`');
    assert.equal(message({ ...good, signatures: [{ keyid: operator.keyId }] }), 'a signature needs `keyid` and `sig` strings');
    assert.equal(message({ ...good, payload: 'A'.repeat(64 * 1024 + 4) }), 'the payload is over 64 KiB');
    assert.equal(message({ ...good, payload: '!!!' }), 'payload and signature must be base64');
    assert.equal(message({ ...good, signatures: [{ keyid: operator.keyId, sig: base64.encode(new Uint8Array(64)) }] }), `the signature does not verify with key \`${operator.keyId}\` of \`ops\``);
    assert.equal(message(signed(alice)), `\`alice\` holds a key of role \`approver\`, which may not sign a \`resume\``);
    assert.equal(message(signed(operator, { firstRunId: 'run-2' })), 'signed for session `session-s1` run `run-2`, not this one');
    assert.equal(message(signed(operator, { expiresAt: new Date(NOW).toISOString() })), `expired at ${new Date(NOW).toISOString()}`);
    // A nested field is named by its dotted path.
    const vote = { kind: 'vote', approvalId: 'session-s1:a1', callDigest: 'f'.repeat(64), verdict: 'approve', onBehalfOf: { slackUserId: '', slackTeamId: 'T1' } };
    assert.match(message(signed(service, vote), { ...binding, kind: 'vote' }), /^the signed payload is not a decision: onBehalfOf\.slackUserId: /);
  });

  it('the order: a revoked key is refused before its bad signature, a wrong kind before an expired time', () => {
    const forged = { ...signed(revoked), signatures: [{ keyid: revoked.keyId, sig: base64.encode(new Uint8Array(64)) }] };
    assert.equal(rule(forged), 'envelope.key-revoked');
    assert.equal(rule(signed(operator, { expiresAt: new Date(NOW - 1).toISOString(), issuedAt: new Date(NOW - 2).toISOString() }), { ...binding, kind: 'budget-raise' }), 'decision.kind');
  });
});

describe('pae', () => {
  it('is DSSE v1: the type and payload lengths in bytes, then the payload', () => {
    assert.equal(new TextDecoder().decode(pae('t/é', new TextEncoder().encode('ab'))), 'DSSEv1 4 t/é 2 ab');
  });
});

describe('the keyset', () => {
  it('accepts a valid keyset with defaults, and finds keys by id', () => {
    const r = parseKeyset({ keys: [keyEntryOf(operator)] });
    assert.ok(r.success);
    assert.deepEqual(r.data, { development: false, keys: [{ ...keyEntryOf(operator), revoked: false }], slackUsers: [] });
    assert.equal(findKey(keyset, alice.keyId)?.principal, 'alice');
    assert.equal(findKey(keyset, 'ed25519:none'), undefined);
  });

  it('refuses a key whose id is not derived from its public key, a short key, a duplicate id or Slack identity, an unknown field', () => {
    const issues = (data: unknown) => { const r = parseKeyset(data); return r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`); };
    assert.deepEqual(issues({ keys: [{ ...keyEntryOf(operator), keyId: alice.keyId }] }), [`keys[0].keyId: expected \`${operator.keyId}\`, the id derived from the public key`]);
    assert.deepEqual(issues({ keys: [{ ...keyEntryOf(operator), publicKey: base64.encode(new Uint8Array(31)) }] }), ['keys[0].publicKey: expected a base64 Ed25519 public key of 32 bytes']);
    assert.deepEqual(issues({ keys: [keyEntryOf(operator), keyEntryOf(operator)] }), [`keys[1].keyId: duplicate key id \`${operator.keyId}\` (also keys.0)`]);
    assert.deepEqual(issues({ keys: [], slackUsers: [{ userId: 'U1', teamId: 'T1', approver: 'a' }, { userId: 'U1', teamId: 'T1', approver: 'b' }] }), ['slackUsers[1]: duplicate Slack identity `T1/U1`']);
    assert.deepEqual(issues({ keys: [], slackUsers: [{ userId: 'U1', teamId: 'T1', approver: 'a' }, { userId: 'U1', teamId: 'T2', approver: 'b' }] }), []);
    assert.equal(issues({ keys: [], extra: 1 }).length, 1);
    assert.deepEqual(issues({ keys: [{ ...keyEntryOf(operator), notAfter: 'soon' }] }), ['keys[0].notAfter: expected an ISO time']);
  });

  it('a passkey entry must carry the 65-byte point its id derives from', () => {
    const issues = (data: unknown) => { const r = parseKeyset(data); return r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`); };
    const point = new Uint8Array(65).fill(4);
    const id = p256KeyIdOf(point);
    assert.deepEqual(issues({ keys: [{ keyId: id, principal: 'alice', role: 'approver', publicKey: base64.encode(point) }] }), []);
    assert.deepEqual(issues({ keys: [{ keyId: 'p256:00', principal: 'alice', role: 'approver', publicKey: base64.encode(point) }] }), [`keys[0].keyId: expected \`${id}\`, the id derived from the public key`]);
    assert.deepEqual(issues({ keys: [{ keyId: id, principal: 'alice', role: 'approver', publicKey: base64.encode(point.slice(1)) }] }), ['keys[0].publicKey: expected a base64 uncompressed P-256 public key of 65 bytes']);
    assert.deepEqual(issues({ keys: [{ keyId: id, principal: 'alice', role: 'approver', publicKey: '!!' }] }), ['keys[0].publicKey: expected a base64 uncompressed P-256 public key of 65 bytes']);
  });

  it('key ids and public keys: ed25519 ids are sha256 prefixes, only 32-byte keys decode', () => {
    assert.match(keyIdOf(new Uint8Array(32)), /^ed25519:[0-9a-f]{32}$/);
    assert.equal(decodePublicKey(base64.encode(new Uint8Array(32)))?.length, 32);
    assert.equal(decodePublicKey(base64.encode(new Uint8Array(33))), undefined);
    assert.equal(decodePublicKey('!!'), undefined);
  });
});

describe('resolveVoter', () => {
  const vote = (over: Partial<VoteDecision> = {}) => ({ kind: 'vote', verdict: 'approve', ...over }) as VoteDecision;
  it('an approver key speaks for its principal only; the approvals service for a registered Slack person only', () => {
    assert.deepEqual(resolveVoter(keyset, keyEntryOf(alice), vote()), { ok: true, approver: 'alice' });
    assert.deepEqual(resolveVoter(keyset, keyEntryOf(alice), vote({ onBehalfOf: { slackUserId: 'U1', slackTeamId: 'T1' } })), { ok: false, rule: 'approval.identity', message: 'an approver key may not vote on behalf of someone else' });
    assert.deepEqual(resolveVoter(keyset, keyEntryOf(service), vote({ onBehalfOf: { slackUserId: 'U1', slackTeamId: 'T1' } })), { ok: true, approver: 'bob' });
    assert.deepEqual(resolveVoter(keyset, keyEntryOf(service), vote()), { ok: false, rule: 'approval.identity', message: 'the approvals service must name the Slack user it votes for' });
    assert.deepEqual(resolveVoter(keyset, keyEntryOf(service), vote({ onBehalfOf: { slackUserId: 'U1', slackTeamId: 'T2' } })), { ok: false, rule: 'approval.identity', message: 'Slack user `U1` of team `T2` is not a registered approver' });
    assert.equal(resolveVoter(keyset, keyEntryOf(service), vote({ onBehalfOf: { slackUserId: 'U2', slackTeamId: 'T1' } })).ok, false);
    assert.deepEqual(resolveVoter(keyset, keyEntryOf(operator), vote()), { ok: false, rule: 'approval.identity', message: 'a key of role `operator` may not vote' });
  });
});

describe('the signed payload\'s shape: each field at its bounds', () => {
  const vote = { kind: 'vote', approvalId: 'session-s1:a1', callDigest: 'f'.repeat(64), verdict: 'approve' };
  const voteBinding = { ...binding, kind: 'vote' as const };
  const budgetBinding = { ...binding, kind: 'budget-raise' as const };
  it('accepts every field at its largest and smallest allowed value', () => {
    assert.equal(rule(signed(alice, { ...vote, tool: 't'.repeat(200), reason: 'r'.repeat(2000), nonce: 'n'.repeat(128), approvalId: 'a'.repeat(300) }), voteBinding), 'ok');
    assert.equal(rule(signed(alice, { ...vote, tool: 't', nonce: 'x'.repeat(16), approvalId: 'a' }), voteBinding), 'ok');
    assert.equal(rule(signed(alice, { ...vote, verdict: 'deny', reason: '' }), voteBinding), 'ok');
    assert.equal(rule(signed(service, { ...vote, onBehalfOf: { slackUserId: 'U'.repeat(100), slackTeamId: 'T' } }), voteBinding), 'ok');
    assert.equal(rule(signed(operator, { tool: 't'.repeat(200) })), 'ok');
    assert.equal(rule(signed(operator, { kind: 'budget-raise', budget: { actions: 0, writes: 1, critical: 2, tokens: 3 } }), budgetBinding), 'ok');
    assert.equal(rule(signed(operator, { kind: 'budget-raise', budget: {} }), budgetBinding), 'ok');
  });
  it('refuses, as envelope.payload, each field one step past its bound, a wrong type or an unknown field', () => {
    const bad: [Record<string, unknown>, typeof binding | typeof voteBinding | typeof budgetBinding][] = [
      [{ workflowId: '' }, binding], [{ workflowId: 'w'.repeat(301) }, binding],
      [{ firstRunId: '' }, binding], [{ firstRunId: 'r'.repeat(101) }, binding],
      [{ keyId: '' }, binding], [{ keyId: 'k'.repeat(201) }, binding],
      [{ issuedAt: 'yesterday' }, binding], [{ expiresAt: 'soon' }, binding],
      [{ nonce: 'n'.repeat(15) }, binding], [{ nonce: 'n'.repeat(129) }, binding],
      [{ reason: 'r'.repeat(2001) }, binding], [{ extra: 1 }, binding], [{ kind: 'other' }, binding],
      [{ tool: '' }, binding], [{ tool: 't'.repeat(201) }, binding],
      [{ ...vote, approvalId: '' }, voteBinding], [{ ...vote, approvalId: 'a'.repeat(301) }, voteBinding],
      [{ ...vote, callDigest: 'F'.repeat(64) }, voteBinding], [{ ...vote, callDigest: 'f'.repeat(63) }, voteBinding], [{ ...vote, callDigest: `${'f'.repeat(64)}0` }, voteBinding],
      [{ ...vote, tool: '' }, voteBinding], [{ ...vote, tool: 't'.repeat(201) }, voteBinding],
      [{ ...vote, verdict: 'maybe' }, voteBinding], [{ ...vote, extra: 1 }, voteBinding],
      [{ ...vote, onBehalfOf: { slackUserId: '', slackTeamId: 'T' } }, voteBinding],
      [{ ...vote, onBehalfOf: { slackUserId: 'U', slackTeamId: 'T'.repeat(101) } }, voteBinding],
      [{ ...vote, onBehalfOf: { slackUserId: 'U', slackTeamId: 'T', name: 'Alice' } }, voteBinding],
      [{ kind: 'budget-raise', budget: { actions: -1 } }, budgetBinding], [{ kind: 'budget-raise', budget: { writes: 1.5 } }, budgetBinding],
      [{ kind: 'budget-raise', budget: { critical: -1 } }, budgetBinding], [{ kind: 'budget-raise', budget: { tokens: -1 } }, budgetBinding],
      [{ kind: 'budget-raise', budget: { money: 5 } }, budgetBinding], [{ kind: 'budget-raise' }, budgetBinding],
    ];
    const key = (b: { kind: string }) => (b.kind === 'vote' ? alice : operator);
    for (const [over, b] of bad) assert.equal(rule(signed(key(b), over), b), 'envelope.payload', JSON.stringify(over).slice(0, 80));
    const r = checkSignedDecision(signed(alice, { ...vote, callDigest: 'x' }), keyset, voteBinding, NOW);
    assert.equal(r.ok ? '' : r.message, 'the signed payload is not a decision: callDigest: expected a sha256 hex digest');
    const t = checkSignedDecision(signed(operator, { issuedAt: 'x' }), keyset, binding, NOW);
    assert.equal(t.ok ? '' : t.message, 'the signed payload is not a decision: issuedAt: expected an ISO time');
  });
  it('quotes at most 100 characters of a payload type or key id the sender chose; 64 KiB of payload is not yet too large', () => {
    const longType = signed(operator, {}, `x/${'y'.repeat(200)}`);
    const r = verifyEnvelope(longType, keyset, NOW);
    assert.equal(r.ok ? '' : r.message, `expected payload type \`${DECISION_PAYLOAD_TYPE}\`, got \`x/${'y'.repeat(98)}\``);
    const longKey = { ...signed(operator), signatures: [{ keyid: 'k'.repeat(150), sig: signed(operator).signatures[0]!.sig }] };
    const u = verifyEnvelope(longKey, keyset, NOW);
    assert.equal(u.ok ? '' : u.message, `unknown key id \`${'k'.repeat(100)}\``);
    assert.equal(rule({ ...signed(operator), payload: 'A'.repeat(64 * 1024) }), 'envelope.bad-signature');
  });
});

describe('the keyset\'s fields', () => {
  const issues = (data: unknown) => { const r = parseKeyset(data); return r.success ? [] : r.issues.map((i) => `${i.path}: ${i.message}`); };
  it('refuses an empty or over-long principal, an unknown role or field, an empty key id, a Slack entry with an unknown field', () => {
    assert.deepEqual(issues({ keys: [{ ...keyEntryOf(operator), principal: '' }] }), ['keys[0].principal: expected a non-empty name']);
    assert.equal(issues({ keys: [{ ...keyEntryOf(operator), principal: 'p'.repeat(201) }] }).length, 1);
    assert.deepEqual(issues({ keys: [{ ...keyEntryOf(operator), principal: 'p'.repeat(200) }] }), []);
    assert.equal(issues({ keys: [{ ...keyEntryOf(operator), role: 'admin' }] }).length, 1);
    assert.equal(issues({ keys: [{ ...keyEntryOf(operator), extra: true }] }).length, 1);
    assert.notDeepEqual(issues({ keys: [{ ...keyEntryOf(operator), keyId: '' }] }), []);
    assert.equal(issues({ keys: [], slackUsers: [{ userId: 'U1', teamId: 'T1', approver: 'a', name: 'x' }] }).length, 1);
    assert.deepEqual(issues({ keys: [], slackUsers: [{ userId: '', teamId: 'T1', approver: 'a' }] }), ['slackUsers[0].userId: expected a non-empty name']);
    assert.equal(issues({ keys: [{ ...keyEntryOf(operator), revoked: 'yes' }] }).length, 1);
    assert.equal(issues({ development: 'yes', keys: [] }).length, 1);
    assert.deepEqual(parseKeyset({ development: true, keys: [] }), { success: true, data: { development: true, keys: [], slackUsers: [] } });
  });

  it('a key not marked revoked is not revoked; a key with an ISO not-after parses', () => {
    const { revoked: _, ...unmarked } = keyEntryOf(operator);
    assert.deepEqual(parseKeyset({ keys: [unmarked] }), { success: true, data: { development: false, keys: [{ ...unmarked, revoked: false }], slackUsers: [] } });
    assert.deepEqual(issues({ keys: [keyEntryOf(operator, '2026-12-31T00:00:00Z')] }), []);
  });
});
