/**
 * The audit store: writes sessions, hash-chained events and alerts to PostgreSQL. Node-only; the
 * session workflow reaches it through activities, so every method is safe to retry: a session
 * starts once, an event (sessionId, seq) lands once, an alert (session, kind, time, message) once.
 *
 * Appends take one of two paths. The common one — a single session's batch continuing the chain
 * head this store last wrote — joins a group commit with other sessions' appends (one round trip,
 * one commit for many). Anything else (a retry, a stale head, several sessions, a gap) takes the
 * general path: one locked transaction that reads what is stored and explains what it finds.
 */
import type { Pool, PoolClient } from 'pg';
import { checkout, type CheckedOutClient } from './checkout';
import { GroupWriter, LOCK_CLASS } from './group-commit';
import { EVENT_COLUMNS, eventRecord, eventRecordset, rowToChained, type EventRecord, type EventRow } from './rows';
import type { AuditEventInput, SessionPatch, SessionRecord } from './types';
import { GENESIS_HASH, eventHash, normalizeEvent, scrubString, storableJson } from './chain';
import { AuditConflictError, AuditInputError, AuditOrderError, UnknownSessionError, classifyPgError } from './errors';
import { sha256Hex } from './hashing';

/** What one `append` did: new rows, and events that were already recorded (retries). */
export interface AppendResult {
  readonly inserted: number;
  readonly duplicates: number;
}

/** Rows per INSERT statement (keeps one JSON parameter in the low megabytes). */
const ROWS_PER_INSERT = 1000;

/** The per-session lock key: 32 bits of the session id's sha256, as a signed int4 literal. */
function lockKey(sessionId: string): number {
  return Number.parseInt(sha256Hex(sessionId).slice(0, 8), 16) | 0;
}

function jsonParam(value: unknown): string | null {
  return value === undefined ? null : storableJson(value);
}

export interface AuditStoreOptions {
  /**
   * Group commits in flight at once (each holds one pool connection while it commits).
   * @default 2
   */
  readonly maxFlushes?: number;
}

/** Sessions whose chain head this store remembers (bounded; the oldest is forgotten first). */
const HEAD_CACHE_SIZE = 10_000;

export class AuditStore {
  /** The last (seq, hash) this store wrote or read per session: lets an in-order append skip a read. */
  private readonly heads = new Map<string, { readonly seq: number; readonly hash: string }>();

  private readonly group: GroupWriter;

  constructor(private readonly pool: Pool, opts: AuditStoreOptions = {}) {
    this.group = new GroupWriter(pool, opts.maxFlushes);
  }

  /** Records a session's summary row; a second call for the same session changes nothing. */
  /** Records a session row once; resolves with the first run id that owns the session id. */
  async startSession(rec: SessionRecord): Promise<{ readonly firstRunId: string | null }> {
    const startedAt = new Date(rec.startedAt);
    if (Number.isNaN(startedAt.getTime())) {
      throw new AuditInputError(`session \`${rec.sessionId}\` has an unreadable start time \`${rec.startedAt}\``);
    }
    const policy = storableJson(rec.policy);
    await this.query(
      // `policy_json` keeps the document's key order, which jsonb's `policy` loses: the first matching glob wins.
      `INSERT INTO sessions (session_id, workflow_id, first_run_id, agent_id, owner, intent, parent_session_id, policy_hash, policy, policy_json, started_at, tools)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::json, $11, $12::jsonb)
       ON CONFLICT (session_id) DO NOTHING`,
      // As PostgreSQL stores text: an upstream server's tool description with a NUL must not stop every session's start.
      [rec.sessionId, rec.workflowId, rec.firstRunId ?? null, scrubString(rec.agentId), scrubString(rec.owner), scrubString(rec.intent), rec.parentSessionId ?? null,
        rec.policyHash, policy, policy, startedAt, rec.tools ? storableJson(rec.tools) : null],
    );
    // A retried start finds its own row; another run finds the first one's (ids are never reused).
    const owner = await this.pool.query<{ first_run_id: string | null }>('SELECT first_run_id FROM sessions WHERE session_id = $1', [rec.sessionId]);
    return { firstRunId: owner.rows[0]?.first_run_id ?? null };
  }

  /**
   * Appends events in one transaction, chained per session. An event already recorded with the
   * same content (a retried activity) is skipped and the chain continues from the stored hash.
   * One recorded with different content raises the non-retryable `AuditConflictError` and an
   * alert (`audit.conflict`): the trail is never spliced. An event whose predecessor is not
   * recorded (in the table or earlier in this batch) raises the retryable `AuditOrderError`.
   * Either way nothing of the batch is written.
   */
  async append(events: readonly AuditEventInput[]): Promise<AppendResult> {
    try {
      return await this.appendAll(events);
    } catch (err) {
      if (err instanceof AuditConflictError) {
        // At the event's own time: a retried append raises the same alert once.
        const at = events.find((e) => e.sessionId === err.sessionId && e.seq === err.seq)?.at ?? new Date().toISOString();
        await this.raiseAlert(err.sessionId, 'audit.conflict', err.message, at).catch(() => undefined);
      }
      throw err;
    }
  }

  private async appendAll(events: readonly AuditEventInput[]): Promise<AppendResult> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    const bySession = new Map<string, AuditEventInput[]>();
    for (const raw of events) {
      const event = normalizeEvent(raw);
      const list = bySession.get(event.sessionId) ?? [];
      list.push(event);
      bySession.set(event.sessionId, list);
    }
    for (const list of bySession.values()) list.sort((a, b) => a.seq - b.seq);
    if (bySession.size === 1) {
      const [sessionId, batch] = [...bySession.entries()][0]!;
      const fast = await this.appendGrouped(sessionId, batch);
      if (fast !== undefined) return fast;
    }
    // Locks are taken in one global order so two multi-session batches cannot deadlock.
    const sessions = [...bySession.keys()].sort((a, b) => lockKey(a) - lockKey(b) || a.localeCompare(b));
    return this.transaction(async (client) => {
      let inserted = 0;
      let duplicates = 0;
      for (const sessionId of sessions) {
        const batch = bySession.get(sessionId) ?? [];
        const r = await this.appendSession(client, sessionId, batch);
        inserted += r.inserted;
        duplicates += r.duplicates;
      }
      return { inserted, duplicates };
    });
  }

  private async appendSession(client: PoolClient, sessionId: string, batch: readonly AuditEventInput[]): Promise<AppendResult> {
    const first = batch[0]!.seq;
    const last = batch[batch.length - 1]!.seq;
    // Serialises appends to one session: the chain is computed from what is committed.
    await client.query('SELECT pg_advisory_xact_lock($1::int4, $2::int4)', [LOCK_CLASS, lockKey(sessionId)]);
    const existing = await client.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM events WHERE session_id = $1 AND seq BETWEEN $2 AND $3',
      [sessionId, Math.max(1, first - 1), last],
    );
    const known = new Map<number, string>([[0, GENESIS_HASH]]);
    for (const row of existing.rows) known.set(row.seq, row.hash);

    const records: EventRecord[] = [];
    let duplicates = 0;
    for (const event of batch) {
      const prevHash = known.get(event.seq - 1);
      const stored = known.get(event.seq);
      if (stored !== undefined) {
        // Already recorded, or twice in this batch: a retry only if it hashes the same — or, for a
        // workflow task re-run after a worker died (a local activity's events are re-sent with the
        // new task's time), if it is the same event but for its time and latency.
        const attempted = prevHash === undefined ? undefined : eventHash(prevHash, event);
        if (attempted !== stored && !(prevHash !== undefined && (await this.sameButTimed(client, event, prevHash, stored)))) {
          throw new AuditConflictError(sessionId, event.seq, stored, attempted ?? 'unknown');
        }
        duplicates += 1;
        continue;
      }
      if (prevHash === undefined) throw new AuditOrderError(sessionId, event.seq);
      const hash = eventHash(prevHash, event);
      known.set(event.seq, hash);
      records.push(eventRecord(event, prevHash, hash));
    }
    let inserted = 0;
    for (let start = 0; start < records.length; start += ROWS_PER_INSERT) {
      const result = await client.query(
        `INSERT INTO events (${EVENT_COLUMNS}) SELECT v.* FROM ${eventRecordset('$1::json')} ON CONFLICT (session_id, seq) DO NOTHING`,
        [JSON.stringify(records.slice(start, start + ROWS_PER_INSERT))],
      );
      inserted += result.rowCount ?? 0;
    }
    const head = known.get(last);
    if (head !== undefined) this.remember(sessionId, last, head);
    return { inserted, duplicates: duplicates + (records.length - inserted) };
  }

  /** True when the stored event at `event.seq` is `event` with another `at` / `latencyMs`. */
  private async sameButTimed(client: PoolClient, event: AuditEventInput, prevHash: string, stored: string): Promise<boolean> {
    const r = await client.query<EventRow>(`SELECT * FROM events WHERE session_id = $1 AND seq = $2`, [event.sessionId, event.seq]);
    const row = r.rows[0];
    if (!row) return false;
    const kept = rowToChained(row).event;
    const { latencyMs: _latency, ...rest } = event;
    const retimed: AuditEventInput = { ...rest, at: kept.at, ...(kept.latencyMs !== undefined ? { latencyMs: kept.latencyMs } : {}) };
    return eventHash(prevHash, retimed) === stored;
  }

  /**
   * The common case: the batch continues the chain head this store remembers (seq and hash), so
   * its hashes are computed up front and it joins a group commit (`group-commit.ts`). Returns
   * undefined when the batch does not qualify or its guard held it back (the general path decides).
   */
  private async appendGrouped(sessionId: string, batch: readonly AuditEventInput[]): Promise<AppendResult | undefined> {
    const first = batch[0]!.seq;
    const last = batch[batch.length - 1]!.seq;
    if (last - first + 1 !== batch.length) return undefined; // gaps or duplicates: the general path explains them
    let prev = GENESIS_HASH;
    if (first > 1) {
      const head = this.heads.get(sessionId);
      if (head === undefined || head.seq !== first - 1) return undefined;
      prev = head.hash;
    }
    const prevHash = prev;
    const rows = batch.map((e) => {
      const hash = eventHash(prev, e);
      const row = eventRecord(e, prev, hash);
      prev = hash;
      return row;
    });
    const inserted = await this.group.submit({
      sessionId, lockKey: lockKey(sessionId), rows, guard: { session_id: sessionId, first_seq: first, last_seq: last, prev_hash: prevHash },
    });
    if (inserted === undefined) {
      this.heads.delete(sessionId);
      return undefined;
    }
    this.remember(sessionId, last, prev);
    return { inserted, duplicates: batch.length - inserted };
  }

  private remember(sessionId: string, seq: number, hash: string): void {
    const known = this.heads.get(sessionId);
    if (known !== undefined && known.seq > seq) return;
    this.heads.delete(sessionId); // re-inserted last: the map's order is recency
    this.heads.set(sessionId, { seq, hash });
    if (this.heads.size > HEAD_CACHE_SIZE) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
  }

  /**
   * Updates a session's summary row; fields absent from the patch keep their value and
   * `counters` merge key by key. Throws `UnknownSessionError` when the session was never started.
   */
  async patchSession(sessionId: string, patch: SessionPatch): Promise<void> {
    const endedAt = patch.endedAt === undefined ? null : new Date(patch.endedAt);
    if (endedAt !== null && Number.isNaN(endedAt.getTime())) {
      throw new AuditInputError(`session \`${sessionId}\` has an unreadable end time \`${patch.endedAt}\``);
    }
    const result = await this.query(
      `UPDATE sessions SET
         mode = COALESCE($2, mode),
         final_state = COALESCE($3, final_state),
         ended_at = COALESCE($4, ended_at),
         counters = counters || COALESCE($5::jsonb, '{}'::jsonb),
         intent_score = COALESCE($6, intent_score),
         flagged_for_review = COALESCE($7, flagged_for_review)
       WHERE session_id = $1`,
      [sessionId, patch.mode ?? null, patch.finalState ?? null, endedAt, jsonParam(patch.counters),
        patch.intentScore ?? null, patch.flaggedForReview ?? null],
    );
    if (result.rowCount === 0) throw new UnknownSessionError(sessionId);
  }

  /** Records an alert; the same (session, kind, time, message) twice is recorded once. */
  async raiseAlert(sessionId: string, kind: string, message: string, at: string): Promise<void> {
    const time = new Date(at);
    if (Number.isNaN(time.getTime())) {
      throw new AuditInputError(`alert \`${kind}\` of session \`${sessionId}\` has an unreadable time \`${at}\``);
    }
    await this.query(
      'INSERT INTO alerts (session_id, kind, message, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING',
      [sessionId, kind, scrubString(message), time],
    );
  }

  private async query(text: string, values: unknown[]): Promise<{ rowCount: number | null }> {
    try {
      return await this.pool.query(text, values);
    } catch (err) {
      throw classifyPgError(err);
    }
  }

  private async transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let checked: CheckedOutClient;
    try {
      checked = await checkout(this.pool);
    } catch (err) {
      throw classifyPgError(err);
    }
    const { client } = checked;
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr; // the connection is gone: do not return it to the pool
      }
      throw classifyPgError(err);
    } finally {
      checked.release(broken instanceof Error ? broken : undefined);
    }
  }
}
