/**
 * Group commit for the audit store's common case. Appends that continue a chain head the store
 * already knows are queued; a flush writes many sessions' appends in ONE round trip and ONE
 * commit: a multi-statement transaction that takes each session's advisory lock (in one global
 * order), runs one INSERT whose per-session guards decide which appends go in, and commits. The
 * rows and the guards travel as two JSON documents, so PostgreSQL parses and plans a statement of
 * the same small shape whatever the group's size. Each caller's promise settles only after that
 * commit, so write-ahead holds: nothing is reported recorded before it is durable.
 *
 * A guard (predecessor stored with the expected hash, none of the batch stored yet) that holds an
 * append back, or any failure of the group other than an unreachable database, hands the affected
 * appends back to the store's general, per-append path, which explains duplicates and order errors.
 */
import type { Pool } from 'pg';
import { checkout, type CheckedOutClient } from './checkout';
import { EVENT_COLUMNS, eventRecordset, type EventRecord } from './rows';
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
    // One statement for the whole group: a session's rows go in only if its guard holds.
    const insert =
      `WITH g AS (SELECT * FROM json_to_recordset(${guards}::json) AS g(session_id text, first_seq int4, last_seq int4, prev_hash text)), ` +
      // A scalar subquery runs once per guard, as one range scan of the (session_id, seq) index:
      // unlike EXISTS, the planner cannot turn it into a join that reads the whole table.
      'ok AS (SELECT g.session_id FROM g WHERE (SELECT ' +
      'count(*) FILTER (WHERE e.seq = g.first_seq - 1 AND e.hash = g.prev_hash) = CASE WHEN g.first_seq = 1 THEN 0 ELSE 1 END ' +
      'AND count(*) FILTER (WHERE e.seq >= g.first_seq) = 0 ' +
      'FROM events e WHERE e.session_id = g.session_id AND e.seq BETWEEN g.first_seq - 1 AND g.last_seq)) ' +
      `INSERT INTO events (${EVENT_COLUMNS}) SELECT v.* FROM ${eventRecordset(`${rows}::json`)} ` +
      'WHERE v.session_id IN (SELECT session_id FROM ok) ON CONFLICT (session_id, seq) DO NOTHING RETURNING session_id';
    // unnest yields the keys in array order, so the locks are taken in that order.
    const sql = [
      'BEGIN',
      `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, k) FROM unnest('{${keys.join(',')}}'::int4[]) AS k`,
      insert,
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
      const results = (await client.query(sql)) as unknown as { rows: { session_id: string }[] }[];
      const inserted = new Map<string, number>();
      for (const row of results[2]?.rows ?? []) inserted.set(row.session_id, (inserted.get(row.session_id) ?? 0) + 1);
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
