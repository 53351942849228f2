/**
 * The console's rows: one-time enrolment invites (only the sha256 of the secret is stored) and the
 * passkeys enrolled from them, each with the registrar's key grant. An invite is used at most once:
 * `consumeInvite` sets `used_at` in one conditional UPDATE, so two racing enrolments cannot both win.
 */
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { SignedEnvelope } from '../policies/trust';

export type ConsoleRole = 'approver' | 'operator';

export interface Invite {
  readonly inviteId: string;
  readonly principal: string;
  readonly role: ConsoleRole;
  readonly expiresAt: string;
  readonly usedAt?: string;
}

export interface Passkey {
  readonly credentialId: string;
  readonly keyId: string;
  readonly principal: string;
  readonly role: ConsoleRole;
  readonly publicKey: Uint8Array;
  readonly counter: number;
  readonly grant: SignedEnvelope;
}

/** sha256 of an invite secret, hex: what the table keeps. */
export function secretHash(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export class ConsoleStore {
  constructor(private readonly pool: pg.Pool) {}

  /** A new invite; returns the secret (shown once, in the link) and the stored invite. */
  async createInvite(principal: string, role: ConsoleRole, ttlMs: number, createdBy: string, now = Date.now()): Promise<{ secret: string; invite: Invite }> {
    const secret = randomBytes(32).toString('base64url');
    const inviteId = randomBytes(9).toString('base64url');
    const expiresAt = new Date(now + ttlMs).toISOString();
    await this.pool.query('INSERT INTO console_invites (invite_id, secret_hash, principal, role, created_by, expires_at) VALUES ($1, $2, $3, $4, $5, $6)', [inviteId, secretHash(secret), principal, role, createdBy, expiresAt]);
    return { secret, invite: { inviteId, principal, role, expiresAt } };
  }

  async inviteBySecret(secret: string): Promise<Invite | undefined> {
    const r = await this.pool.query('SELECT invite_id, principal, role, expires_at, used_at FROM console_invites WHERE secret_hash = $1', [secretHash(secret)]);
    const row = r.rows[0];
    if (!row) return undefined;
    return { inviteId: row.invite_id, principal: row.principal, role: row.role, expiresAt: new Date(row.expires_at).toISOString(), ...(row.used_at ? { usedAt: new Date(row.used_at).toISOString() } : {}) };
  }

  /** Marks the invite used; false when it was used or expired meanwhile (nothing changes then). */
  async consumeInvite(inviteId: string, client: pg.PoolClient | pg.Pool = this.pool): Promise<boolean> {
    const r = await client.query('UPDATE console_invites SET used_at = now() WHERE invite_id = $1 AND used_at IS NULL AND expires_at > now()', [inviteId]);
    return r.rowCount === 1;
  }

  /** Uses the invite and saves the passkey in one transaction: both or neither. */
  async enrol(inviteId: string, key: Omit<Passkey, 'counter'>): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      if (!(await this.consumeInvite(inviteId, client))) {
        await client.query('ROLLBACK');
        return false;
      }
      await client.query(
        'INSERT INTO console_credentials (credential_id, key_id, principal, role, invite_id, public_key, grant_envelope) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [key.credentialId, key.keyId, key.principal, key.role, inviteId, Buffer.from(key.publicKey), JSON.stringify(key.grant)],
      );
      await client.query('COMMIT');
      return true;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  async passkey(credentialId: string): Promise<Passkey | undefined> {
    const r = await this.pool.query('SELECT * FROM console_credentials WHERE credential_id = $1', [credentialId]);
    const row = r.rows[0];
    if (!row) return undefined;
    return { credentialId: row.credential_id, keyId: row.key_id, principal: row.principal, role: row.role, publicKey: new Uint8Array(row.public_key), counter: Number(row.counter), grant: row.grant_envelope };
  }

  async setCounter(credentialId: string, counter: number): Promise<void> {
    await this.pool.query('UPDATE console_credentials SET counter = $2 WHERE credential_id = $1', [credentialId, counter]);
  }
}
