/**
 * Group commit for the audit store's common case. Appends that continue a chain head the store
 * already knows are queued; a flush writes many sessions' appends in ONE round trip and ONE
 * commit: a multi-statement transaction that takes each session's advisory lock (in one global
 * order), runs one INSERT whose per-session guards decide which appends go in, and commits. Each caller's promise settles only
 * after that commit, so write-ahead holds: nothing is reported recorded before it is durable.
 *
 * A guard (predecessor stored with the expected hash, none of the batch stored yet) that holds an
 * append back, or any failure of the group other than an unreachable database, hands the affected
 * appends back to the store's general, per-append path, which explains duplicates and order errors.
 */
import type { Pool } from 'pg';
import { checkout, type CheckedOutClient } from './checkout';
import { EVENT_COLUMNS } from './rows';
import type { AuditEventInput } from './types';
import { AuditUnavailableError, classifyPgError } from './errors';
import { jsonText } from './chain';

/** Advisory-lock namespace of the audit chains ("ga"), shared with the store's general path. */
export const LOCK_CLASS = 0x6761;

/** One append ready to be written: its rows and its guard, as SQL literals, built when it is queued. */
export interface GroupItem {
  readonly sessionId: string;
  readonly lockKey: number;
  /** One `(…)` tuple per event, in `events` column order (see `eventTuples`). */
  readonly tuples: readonly string[];
  /** `(session_id, first_seq, last_seq, prev_seq, prev_hash)` (see `guardTuple`). */
  readonly guard: string;
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
        if (sessions.has(item.sessionId) || (group.length > 0 && rows + item.tuples.length > MAX_ROWS_PER_FLUSH)) rest.push(item);
        else {
          group.push(item);
          sessions.add(item.sessionId);
          rows += item.tuples.length;
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
    // One statement for the whole group: a session's rows go in only if its guard holds.
    const insert =
      `WITH g (session_id, first_seq, last_seq, prev_seq, prev_hash) AS (VALUES ${group.map((g) => g.guard).join(', ')}), ` +
      'ok AS (SELECT g.session_id FROM g WHERE ' +
      '(g.prev_seq = 0 OR EXISTS (SELECT 1 FROM events e WHERE e.session_id = g.session_id AND e.seq = g.prev_seq AND e.hash = g.prev_hash)) ' +
      'AND NOT EXISTS (SELECT 1 FROM events e WHERE e.session_id = g.session_id AND e.seq BETWEEN g.first_seq AND g.last_seq)) ' +
      `INSERT INTO events ${INSERT_COLUMNS} SELECT v.* FROM (VALUES ${group.flatMap((g) => g.tuples).join(', ')}) AS v ${INSERT_COLUMNS} ` +
      'WHERE v.session_id IN (SELECT session_id FROM ok) ON CONFLICT (session_id, seq) DO NOTHING RETURNING session_id';
    const sql = [
      'BEGIN',
      ...keys.map((k) => `SELECT pg_advisory_xact_lock(${LOCK_CLASS}, ${k})`),
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
      for (const row of results[1 + keys.length]?.rows ?? []) inserted.set(row.session_id, (inserted.get(row.session_id) ?? 0) + 1);
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

/**
 * A string as an SQL literal: quotes doubled; with backslashes, an `E''` literal with them
 * doubled too (correct whatever `standard_conforming_strings` says). Same rules as node-pg's
 * `escapeLiteral`, without its character-by-character concatenation (events carry kilobytes of JSON).
 */
export function sqlLiteral(value: string): string {
  const quoted = value.replace(/'/g, "''");
  return value.includes('\\') ? ` E'${quoted.replace(/\\/g, '\\\\')}'` : `'${quoted}'`;
}

/** The columns of an events insert, in the order of `eventTuples`. */
/** The same columns the readers select: one list, so writer and readers cannot drift apart. */
export const INSERT_COLUMNS = `(${EVENT_COLUMNS})`;

/** The rows of a batch as SQL tuples (literals only, each typed), in `INSERT_COLUMNS` order. */
export function eventTuples(
  batch: readonly AuditEventInput[],
  hashes: readonly { readonly prevHash: string; readonly hash: string }[],
): string[] {
  const lit = sqlLiteral;
  const num = (n: number | undefined, cast: string): string => (n === undefined ? `NULL::${cast}` : `${n}::${cast}`);
  const text = (v: string | undefined): string => (v === undefined ? 'NULL::text' : lit(v));
  const json = (v: unknown): string => (v === undefined ? 'NULL::jsonb' : `${lit(jsonText(v))}::jsonb`);
  return batch.map((e, i) => {
    const h = hashes[i]!;
    return `(${lit(e.sessionId)}, ${e.seq}::int4, ${lit(e.kind)}, ${lit(e.at)}::timestamptz, ${num(e.proposalSeq, 'int4')}, ` +
      `${text(e.tool)}, ${json(e.args)}, ${text(e.reasoning)}, ${json(e.decision)}, ${text(e.approvalId)}, ${text(e.approver)}, ` +
      `${num(e.latencyMs, 'float8')}, ${num(e.tokenCost, 'float8')}, ${text(e.resultStatus)}, ${text(e.error)}, ${json(e.detail)}, ` +
      `${lit(h.prevHash)}, ${lit(h.hash)})`;
  });
}

/**
 * The guard of a batch: its rows go in only if the predecessor (`prev_seq`, 0 for none) is stored
 * with `prev_hash` and none of `first_seq..last_seq` is stored yet.
 */
export function guardTuple(sessionId: string, firstSeq: number, lastSeq: number, prevHash: string): string {
  return `(${sqlLiteral(sessionId)}, ${firstSeq}::int4, ${lastSeq}::int4, ${firstSeq - 1}::int4, ${sqlLiteral(prevHash)})`;
}
