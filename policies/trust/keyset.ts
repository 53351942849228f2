/**
 * The keyset: who holds which Ed25519 public key, in which role, until when (TUF's habit: keys are
 * named, roles hold them). The worker loads it from a file (`GATEHOUSE_KEYS`) and every session
 * snapshots it at start, so a replay verifies signatures against the same keys.
 *
 * Pure: a zod schema with path errors and the key id rule. Workflow-safe.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { base64 } from '@scure/base';
import { z } from 'zod';
import { formatPath, type PolicyIssue } from '../parse';

/**
 * What a key may sign. A `registrar` (the console's own key) signs only key grants: the passkeys
 * people enrol there (`webauthn.ts`), never a decision.
 */
export type KeyRole = 'approver' | 'operator' | 'approvals-service' | 'registrar';

/** One registered public key. */
export interface KeyEntry {
  /** `ed25519:` + the first 16 bytes of sha256(public key), hex: derived, never chosen. */
  readonly keyId: string;
  /** The approver's name as the policy's groups write it, or the operator's / service's name. */
  readonly principal: string;
  readonly role: KeyRole;
  /** The raw 32-byte public key, base64. */
  readonly publicKey: string;
  /** ISO time after which signatures by this key are refused. */
  readonly notAfter?: string;
  readonly revoked: boolean;
}

/** A Slack identity the approvals service may vote for: user id and team id, never a handle. */
export interface SlackIdentity {
  readonly userId: string;
  readonly teamId: string;
  /** The approver name the policy's groups use for this person. */
  readonly approver: string;
}

export interface Keyset {
  /** True for the keys `gatehouse start` makes for the example policy: refused in production. */
  readonly development: boolean;
  readonly keys: readonly KeyEntry[];
  readonly slackUsers: readonly SlackIdentity[];
}

/** The key id of a raw Ed25519 public key. */
export function keyIdOf(publicKey: Uint8Array): string {
  return `ed25519:${bytesToHex(sha256(publicKey).slice(0, 16))}`;
}

function decodeBase64(text: string): Uint8Array | undefined {
  try {
    return base64.decode(text);
  } catch {
    return undefined;
  }
}

/** `p256:` + the first 16 bytes of sha256(the uncompressed P-256 public key), hex: a passkey's key id. */
export function p256KeyIdOf(publicKey: Uint8Array): string {
  return `p256:${bytesToHex(sha256(publicKey).slice(0, 16))}`;
}

/** Decodes a base64 public key; undefined unless it is exactly 32 bytes. */
export function decodePublicKey(text: string): Uint8Array | undefined {
  try {
    const bytes = base64.decode(text);
    return bytes.length === 32 ? bytes : undefined;
  } catch {
    return undefined;
  }
}

const isoTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'expected an ISO time' });
const name = z.string().min(1, 'expected a non-empty name').max(200);

const keyEntrySchema = z
  .object({
    keyId: z.string().min(1),
    principal: name,
    role: z.enum(['approver', 'operator', 'approvals-service', 'registrar']),
    publicKey: z.string(),
    notAfter: isoTime.optional(),
    revoked: z.boolean().default(false),
  })
  .strict()
  .superRefine((k, ctx) => {
    // A passkey (P-256) is listed only to revoke it before its grant ends (webauthn.ts).
    if (k.keyId.startsWith('p256:')) {
      const point = decodeBase64(k.publicKey);
      if (!point || point.length !== 65) ctx.addIssue({ code: 'custom', path: ['publicKey'], message: 'expected a base64 uncompressed P-256 public key of 65 bytes' });
      else if (p256KeyIdOf(point) !== k.keyId) ctx.addIssue({ code: 'custom', path: ['keyId'], message: `expected \`${p256KeyIdOf(point)}\`, the id derived from the public key` });
      return;
    }
    const bytes = decodePublicKey(k.publicKey);
    if (!bytes) {
      ctx.addIssue({ code: 'custom', path: ['publicKey'], message: 'expected a base64 Ed25519 public key of 32 bytes' });
      return;
    }
    const derived = keyIdOf(bytes);
    if (derived !== k.keyId) ctx.addIssue({ code: 'custom', path: ['keyId'], message: `expected \`${derived}\`, the id derived from the public key` });
  });

// Not exported: a schema the workflow sandbox may parse must stay unfrozen (worker/bundle.ts).
const keysetSchema = z
  .object({
    development: z.boolean().default(false),
    keys: z.array(keyEntrySchema),
    slackUsers: z.array(z.object({ userId: name, teamId: name, approver: name }).strict()).default([]),
  })
  .strict()
  .superRefine((ks, ctx) => {
    const seen = new Map<string, number>();
    ks.keys.forEach((k, i) => {
      const first = seen.get(k.keyId);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['keys', i, 'keyId'], message: `duplicate key id \`${k.keyId}\` (also keys.${first})` });
      else seen.set(k.keyId, i);
    });
    const slack = new Set<string>();
    ks.slackUsers.forEach((u, i) => {
      const id = `${u.teamId}/${u.userId}`;
      if (slack.has(id)) ctx.addIssue({ code: 'custom', path: ['slackUsers', i], message: `duplicate Slack identity \`${id}\`` });
      slack.add(id);
    });
  });

export type KeysetParseResult = { readonly success: true; readonly data: Keyset } | { readonly success: false; readonly issues: readonly PolicyIssue[] };

/** Validates keyset data (already parsed from JSON or YAML); never throws. */
export function parseKeyset(data: unknown): KeysetParseResult {
  const r = keysetSchema.safeParse(data);
  if (r.success) return { success: true, data: r.data };
  return { success: false, issues: r.error.issues.map((i) => ({ code: i.code, path: formatPath(i.path), message: i.message })) };
}

/** The key with this id, if registered. */
export function findKey(keyset: Keyset, keyId: string): KeyEntry | undefined {
  return keyset.keys.find((k) => k.keyId === keyId);
}
