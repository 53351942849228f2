/**
 * The revocation list of agent credentials, in PostgreSQL: `gatehouse agents revoke` writes it,
 * the worker reads it at every session start. Revoking an agent refuses every credential of it
 * issued up to that moment. Node-only.
 */
import type { Pool } from 'pg';

export interface AgentRevocation {
  readonly agentId: string;
  readonly revokedAt: string;
  readonly revokedBy: string;
  readonly reason?: string;
}

export class RevocationStore {
  constructor(private readonly pool: Pool) {}

  /** Revokes every credential of `agentId` issued until now (a later revoke moves the cut-off). */
  async revoke(agentId: string, by: string, reason?: string, at: Date = new Date()): Promise<AgentRevocation> {
    await this.pool.query(
      `INSERT INTO agent_revocations (agent_id, revoked_at, revoked_by, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (agent_id) DO UPDATE SET revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by, reason = EXCLUDED.reason`,
      [agentId, at, by, reason ?? null],
    );
    return { agentId, revokedAt: at.toISOString(), revokedBy: by, ...(reason ? { reason } : {}) };
  }

  /** The agent's revocation, if any. */
  async find(agentId: string): Promise<AgentRevocation | undefined> {
    const r = await this.pool.query<{ revoked_at: Date; revoked_by: string; reason: string | null }>('SELECT revoked_at, revoked_by, reason FROM agent_revocations WHERE agent_id = $1', [agentId]);
    const row = r.rows[0];
    if (!row) return undefined;
    return { agentId, revokedAt: row.revoked_at.toISOString(), revokedBy: row.revoked_by, ...(row.reason ? { reason: row.reason } : {}) };
  }

  /** True when a credential of `agentId` issued at `issuedAt` is revoked. */
  async isRevoked(agentId: string, issuedAt: string): Promise<boolean> {
    const rev = await this.find(agentId);
    return rev !== undefined && Date.parse(issuedAt) <= Date.parse(rev.revokedAt);
  }
}
