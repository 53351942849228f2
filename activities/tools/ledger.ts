/**
 * The `tool_executions` ledger: one row per idempotency key, in the production database, written
 * in the same transaction as the tool's own writes. A crash between the write and the record
 * rolls both back; a retry after a commit finds the row and returns the stored result without
 * running the handler again. Together: each idempotency key runs at most once.
 */
import type { ClientBase, Pool, QueryResult } from 'pg';
import { sqlLiteral } from '../../audit/sql-literal';
import { checkout } from '../../audit/checkout';
import { canonicalJson, sha256Hex } from '../../audit/hashing';

export const LEDGER_DDL = `
CREATE TABLE IF NOT EXISTS tool_executions (
  idempotency_key text PRIMARY KEY,
  tool            text NOT NULL,
  session_id      text,
  proposal_seq    integer,
  status          text NOT NULL CHECK (status IN ('executed', 'failed')),
  result          jsonb,
  error           jsonb,
  latency_ms      integer NOT NULL DEFAULT 0,
  finished_at     timestamptz NOT NULL DEFAULT now(),
  args_digest     text
);
DO $$ BEGIN
  -- A table of older workers gets the column; asked first, since ALTER TABLE locks the table even when it has it.
  IF NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'tool_executions' AND column_name = 'args_digest') THEN
    ALTER TABLE tool_executions ADD COLUMN args_digest text;
  END IF;
END $$`;

/** The columns an entry is written with (by `finishCall` as literals, by `recordEntry` as parameters). */
const ENTRY_COLUMNS = 'idempotency_key, tool, session_id, proposal_seq, status, result, error, latency_ms, args_digest';

/** A finished call as the ledger stores it. */
export interface LedgerEntry {
  readonly tool: string;
  readonly status: 'executed' | 'failed';
  readonly result: unknown;
  readonly error: { readonly type: string; readonly message: string; readonly retryable: boolean } | null;
  readonly latencyMs: number;
  /** The session that recorded it (read back; rows of old workers may have none). */
  readonly sessionId?: string;
  /** The digest of the arguments it ran with (read back; rows of old workers have none). */
  readonly argsDigest?: string;
}

const ensured = new WeakMap<Pool, Promise<void>>();

/** Creates the ledger table once per pool (concurrent callers share one attempt; a failure is retried next time). */
export function ensureLedger(pool: Pool): Promise<void> {
  let p = ensured.get(pool);
  if (!p) {
    p = (async () => {
      const checked = await checkout(pool);
      const c = checked.client;
      try {
        // The advisory lock keeps two workers from racing on CREATE TABLE IF NOT EXISTS (which can fail on the catalog).
        await c.query('BEGIN');
        await c.query("SELECT pg_advisory_xact_lock(hashtextextended('gatehouse.tool_executions', 0))");
        await c.query(LEDGER_DDL);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        checked.release();
      }
    })();
    p.catch(() => ensured.delete(pool));
    ensured.set(pool, p);
  }
  return p;
}

/**
 * Opens a call's transaction in ONE round trip: begin, the statement timeout, the key's lock
 * (every attempt of one key is serialised until its transaction ends: a duplicate waits here, then
 * finds the row), the lookup, and a savepoint before the handler's writes (`failCall` undoes them
 * and keeps the lock). Several statements in one simple query, so the key travels as
 * an escaped literal; each statement takes its own snapshot, so the lookup sees a row the
 * duplicate committed while this attempt waited for the lock.
 */
export async function beginCall(db: ClientBase, key: string, timeoutMs: number): Promise<LedgerEntry | undefined> {
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) throw new Error(`a tool timeout must be a positive whole number of milliseconds, got ${timeoutMs}`);
  const k = sqlLiteral(key);
  const results = (await db.query(
    `BEGIN; SET LOCAL statement_timeout = ${timeoutMs}; SELECT pg_advisory_xact_lock(hashtextextended(${k}, 7)); ` +
      `SELECT tool, status, result, error, latency_ms, session_id, args_digest FROM tool_executions WHERE idempotency_key = ${k}; SAVEPOINT ${HANDLER_SAVEPOINT}`,
  )) as unknown as QueryResult[];
  return toEntry(results[3]?.rows[0]);
}

/** Set by `beginCall` after the lookup: what the handler writes comes after it. */
const HANDLER_SAVEPOINT = 'gatehouse_handler';

/** Records the call's entry and commits its transaction (the tool's writes with it) in one round trip. */
export async function finishCall(db: ClientBase, key: string, meta: CallMeta, entry: LedgerEntry): Promise<void> {
  await db.query(`${insertEntry(key, meta, entry)}; COMMIT`);
}

/**
 * Records a call's final failure and commits, in one round trip, without ever releasing the key's
 * lock: the handler's writes are undone (back to `beginCall`'s savepoint, which also leaves a
 * failed statement's aborted state), then the entry is written. A duplicate attempt waiting for
 * the lock (a workflow task retried while this attempt still ran) then finds this failure instead
 * of running the handler again and answering differently.
 */
export async function failCall(db: ClientBase, key: string, meta: CallMeta, entry: LedgerEntry): Promise<void> {
  await db.query(`ROLLBACK TO SAVEPOINT ${HANDLER_SAVEPOINT}; ${insertEntry(key, meta, entry)}; COMMIT`);
}

/** The entry's INSERT as one statement of literals (for a simple query with several statements). */
function insertEntry(key: string, meta: CallMeta, entry: LedgerEntry): string {
  const json = (v: unknown) => `${sqlLiteral(JSON.stringify(v))}::jsonb`;
  const int = (n: number) => {
    if (!Number.isSafeInteger(n)) throw new Error(`not a whole number: ${n}`);
    return String(n);
  };
  return (
    `INSERT INTO tool_executions (${ENTRY_COLUMNS}) VALUES (` +
    `${sqlLiteral(key)}, ${sqlLiteral(entry.tool)}, ${sqlLiteral(meta.sessionId)}, ${int(meta.proposalSeq)}, ${sqlLiteral(entry.status)}, ` +
    `${entry.result === undefined ? 'NULL' : json(entry.result)}, ${entry.error === null ? 'NULL' : json(entry.error)}, ${int(entry.latencyMs)}, ` +
    `${meta.argsDigest === undefined ? 'NULL' : sqlLiteral(meta.argsDigest)}) ON CONFLICT (idempotency_key) DO NOTHING`
  );
}

function toEntry(raw: unknown): LedgerEntry | undefined {
  const row = raw as { tool: string; status: 'executed' | 'failed'; result: unknown; error: LedgerEntry['error']; latency_ms: number; session_id?: string | null; args_digest?: string | null } | undefined;
  if (!row) return undefined;
  return {
    tool: row.tool, status: row.status, result: row.result, error: row.error, latencyMs: row.latency_ms,
    ...(row.session_id ? { sessionId: row.session_id } : {}),
    ...(row.args_digest ? { argsDigest: row.args_digest } : {}),
  };
}

/** Which call of which session an entry belongs to. */
export interface CallMeta {
  readonly sessionId: string;
  readonly proposalSeq: number;
  /** The digest of the call's arguments (`argsDigest`): a key used again with other arguments is refused. */
  readonly argsDigest?: string;
}

/** The digest a ledger row keeps of its call's arguments (canonical JSON, so key order does not matter). */
export function argsDigest(args: unknown): string {
  return sha256Hex(canonicalJson(args ?? null));
}

export async function recordEntry(
  db: ClientBase | Pool,
  key: string,
  meta: CallMeta,
  entry: LedgerEntry,
): Promise<void> {
  await db.query(
    `INSERT INTO tool_executions (${ENTRY_COLUMNS})
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8, $9)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [
      key,
      entry.tool,
      meta.sessionId,
      meta.proposalSeq,
      entry.status,
      entry.result === undefined ? null : JSON.stringify(entry.result),
      entry.error === null ? null : JSON.stringify(entry.error),
      entry.latencyMs,
      meta.argsDigest ?? null,
    ],
  );
}
