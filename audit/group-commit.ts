/**
 * Group commit for the audit store's common case. Appends that continue a chain head the store
 * already knows are queued; a flush writes many sessions' appends in ONE round trip and ONE
 * commit: a transaction that calls `gatehouse_append_events` once — it takes each session's
 * advisory lock (in one global order) and runs one INSERT whose per-session guards decide which
 * appends go in — and commits. The rows and the guards travel as two JSON documents, so the
 * function's plans, prepared once per connection, serve a group of any size. Each caller's
 * promise settles only after that commit, so write-ahead holds: nothing is reported recorded
 * before it is durable.
 *
 * A guard (predecessor stored with the expected hash, none of the batch stored yet) that holds an
 * append back, or any failure of the group other than an unreachable database, hands the affected
 * appends back to the store's general, per-append path, which explains duplicates and order errors.
 */
import type { Pool } from 'pg';
import { checkout, type CheckedOutClient } from './checkout';
import type { EventRecord } from './rows';
import { AuditUnavailableError, classifyPgError } from './errors';
import { sqlLiteral } from './sql-literal';

/** Advisory-lock namespace of the audit chains ("ga"), shared with the store's general path. */
export const LOCK_CLASS = 0x6761;

/**
 * What must hold for an append's rows to go in: its predecessor (`first_seq - 1`; none when 0) is
 * stored with `prev_hash`, and none of `first_seq..last_seq` is stored yet.
 */
export interface GroupGuard {
  readonly session_id: string;
  readonly first_seq: number;
  readonly last_seq: number;
  readonly prev_hash: string;
}

/** One append ready to be written: its rows, chained, and its guard. */
export interface GroupItem {
  readonly sessionId: string;
  readonly lockKey: number;
  readonly rows: readonly EventRecord[];
  readonly guard: GroupGuard;
}

/** Rows a single flush carries at most (keeps the statement text in the low megabytes). */
const MAX_ROWS_PER_FLUSH = 2_000;
/** Flushes in flight at once by default: one group commits while the next one gathers. */
export const DEFAULT_MAX_FLUSHES = 2;

interface Queued extends GroupItem {
  readonly resolve: (inserted: number | undefined) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupWriter {
  private queue: Queued[] = [];
  private inFlight = 0;

  constructor(private readonly pool: Pool, private readonly maxFlushes = DEFAULT_MAX_FLUSHES) {}

  /**
   * Queues an append; resolves with the rows inserted once committed, or `undefined` when the
   * append must take the general path (guard held it back, or the group failed for another reason).
   */
  submit(item: GroupItem): Promise<number | undefined> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...item, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.inFlight < this.maxFlushes) {
      const group: Queued[] = [];
      const rest: Queued[] = [];
      const sessions = new Set<string>();
      let rows = 0;
      for (const item of this.queue) {
        // One append per session per group: a session's next append waits for its predecessor.
        if (sessions.has(item.sessionId) || (group.length > 0 && rows + item.rows.length > MAX_ROWS_PER_FLUSH)) rest.push(item);
        else {
          group.push(item);
          sessions.add(item.sessionId);
          rows += item.rows.length;
        }
      }
      this.queue = rest;
      this.inFlight += 1;
      void this.write(group).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async write(group: readonly Queued[]): Promise<void> {
    // Locks in one global order (the store's general path uses the same), so no deadlock.
    const keys = [...new Set(group.map((g) => g.lockKey))].sort((a, b) => a - b);
    const guards = sqlLiteral(JSON.stringify(group.map((g) => g.guard)));
    const rows = sqlLiteral(JSON.stringify(group.flatMap((g) => g.rows)));
    // `gatehouse_append_events` takes the locks (unnest keeps the array's order), checks each
    // session's guard and inserts the rows of those that hold: one statement whose plans PostgreSQL
    // prepares once per connection (audit/migrations/055_append_events.sql). In a transaction of
    // its own, committed in the same round trip.
    const sql = [
      'BEGIN',
      `SELECT s FROM gatehouse_append_events(${LOCK_CLASS}, '{${keys.join(',')}}'::int4[], ${guards}::json, ${rows}::json) AS s`,
      'COMMIT',
    ].join(';\n');
    let checked: CheckedOutClient;
    try {
      checked = await checkout(this.pool);
    } catch (err) {
      const e = classifyPgError(err);
      for (const g of group) g.reject(e);
      return;
    }
    const { client } = checked;
    let broken: Error | undefined;
    try {
      const results = (await client.query(sql)) as unknown as { rows: { s: string }[] }[];
      const inserted = new Map<string, number>();
      for (const row of results[1]?.rows ?? []) inserted.set(row.s, (inserted.get(row.s) ?? 0) + 1);
      for (const g of group) g.resolve(inserted.get(g.sessionId));
    } catch (err) {
      // A failed statement leaves the multi-statement transaction open and aborted.
      await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      const e = classifyPgError(err);
      // Unreachable: every caller retries. Anything else may be one append's fault: each one
      // goes through the general path alone, so only the guilty one fails.
      for (const g of group) {
        if (e instanceof AuditUnavailableError) g.reject(e);
        else g.resolve(undefined);
      }
    } finally {
      checked.release(broken);
    }
  }
}
