/**
 * The revocation list held in memory, kept current by PostgreSQL: the gateway answers "is this
 * credential revoked?" on every request, and a table read each time was its largest cost. The
 * cache LISTENs on `gatehouse_revocations` (migration 021 notifies on every change, whoever makes
 * it), loads the whole list once it listens, and re-reads one agent's row per notification.
 *
 * It fails closed to the database, never open: while it is not listening (starting, connection
 * lost, reconnecting) and while an agent's notified change is being read, `isRevoked` asks the
 * table as `RevocationStore` does. Node-only.
 */
import type { Pool, PoolClient } from 'pg';
import { RevocationStore } from './credentials';

export const REVOCATION_CHANNEL = 'gatehouse_revocations';

export interface RevocationCacheOptions {
  /** Delay before listening again after the connection was lost. @default 1 000 */
  readonly reconnectMs?: number;
  /** Told when the listening connection fails (it reconnects on its own). */
  readonly onError?: (err: unknown) => void;
}

export class RevocationCache {
  readonly #pool: Pool;
  readonly #store: RevocationStore;
  readonly #options: RevocationCacheOptions;
  /** Agent id → revoked-at (epoch ms); complete while `#live`. */
  #revoked = new Map<string, number>();
  /** Agents whose notified change is still being read: asked of the table meanwhile. */
  readonly #changing = new Map<string, number>();
  #client: PoolClient | undefined;
  #live = false;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  private constructor(pool: Pool, options: RevocationCacheOptions) {
    this.#pool = pool;
    this.#store = new RevocationStore(pool);
    this.#options = options;
  }

  /** A cache that is listening and loaded (or, if PostgreSQL cannot be reached now, asks the table until it can). */
  static async open(pool: Pool, options: RevocationCacheOptions = {}): Promise<RevocationCache> {
    const cache = new RevocationCache(pool, options);
    await cache.#listen().catch((err: unknown) => cache.#lost(err));
    return cache;
  }

  /** True while answers come from memory (for tests and health output). */
  get live(): boolean {
    return this.#live;
  }

  /** True when a credential of `agentId` issued at `issuedAt` is revoked. */
  async isRevoked(agentId: string, issuedAt: string): Promise<boolean> {
    if (!this.#live || this.#changing.has(agentId)) return this.#store.isRevoked(agentId, issuedAt);
    const revokedAt = this.#revoked.get(agentId);
    return revokedAt !== undefined && Date.parse(issuedAt) <= revokedAt;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#live = false;
    clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      await client.query(`UNLISTEN ${REVOCATION_CHANNEL}`).catch(() => undefined);
      client.release();
    }
  }

  async #listen(): Promise<void> {
    const client = await this.#pool.connect();
    if (this.#closed) {
      client.release();
      return;
    }
    this.#client = client;
    client.on('notification', (msg) => {
      if (msg.channel === REVOCATION_CHANNEL && msg.payload) void this.#reread(msg.payload);
    });
    client.on('error', (err) => this.#lost(err));
    client.on('end', () => this.#lost(new Error('the revocation listener connection ended')));
    // Listen before loading: a change made while the list loads is then announced, not missed.
    await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    const { rows } = await client.query<{ agent_id: string; revoked_at: Date }>('SELECT agent_id, revoked_at FROM agent_revocations');
    this.#revoked = new Map(rows.map((r) => [r.agent_id, r.revoked_at.getTime()]));
    this.#live = !this.#closed;
  }

  async #reread(agentId: string): Promise<void> {
    this.#changing.set(agentId, (this.#changing.get(agentId) ?? 0) + 1);
    try {
      const row = await this.#store.find(agentId);
      if (row) this.#revoked.set(agentId, Date.parse(row.revokedAt));
      else this.#revoked.delete(agentId);
    } catch (err) {
      // The row could not be read: stop trusting memory until a fresh listen reloads everything.
      this.#lost(err);
    } finally {
      const left = (this.#changing.get(agentId) ?? 1) - 1;
      if (left > 0) this.#changing.set(agentId, left);
      else this.#changing.delete(agentId);
    }
  }

  #lost(err: unknown): void {
    if (this.#closed) return;
    this.#live = false;
    const client = this.#client;
    this.#client = undefined;
    if (client) {
      client.removeAllListeners('notification');
      client.release(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.#retry) return;
    this.#options.onError?.(err);
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      void this.#listen().catch((e: unknown) => this.#lost(e));
    }, this.#options.reconnectMs ?? 1_000);
    this.#retry.unref();
  }
}
