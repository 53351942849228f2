/**
 * Calls to upstream MCP servers that have started: a row per idempotency key, committed *before*
 * the request leaves the worker and marked finished when the server answers. The ledger row of a
 * call commits only after the call; so when an attempt finds a started, unfinished row and no
 * ledger row, an earlier attempt died mid-call (the worker was killed, a workflow task was
 * retried) and its outcome is unknown. A tool the session's policy does not call idempotent is
 * then not repeated: the call fails with `OutcomeUnknown`, recorded in the ledger and the audit
 * trail. Lives in the production database, beside the ledger. Node-only.
 */
import type { Pool } from 'pg';

export const IN_FLIGHT_DDL = `
CREATE TABLE IF NOT EXISTS upstream_calls (
  idempotency_key text PRIMARY KEY,
  tool            text NOT NULL,
  started_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
)`;

const ensured = new WeakMap<Pool, Promise<void>>();

/** Creates the table once per pool (a failure is tried again next time). */
export function ensureInFlight(pool: Pool): Promise<void> {
  let p = ensured.get(pool);
  if (!p) {
    p = (async () => {
      const c = await pool.connect();
      try {
        await c.query('BEGIN');
        await c.query("SELECT pg_advisory_xact_lock(hashtextextended('gatehouse.upstream_calls', 0))");
        await c.query(IN_FLIGHT_DDL);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        c.release();
      }
    })();
    p.catch(() => ensured.delete(pool));
    ensured.set(pool, p);
  }
  return p;
}

/**
 * Marks a call as started (committed at once). Resolves `'fresh'` for the first start of this
 * key, `'unfinished'` when an earlier attempt started and never finished, `'finished'` when an
 * earlier attempt got an answer (a transient failure the ledger did not keep).
 */
export async function markStarted(pool: Pool, key: string, tool: string): Promise<'fresh' | 'unfinished' | 'finished'> {
  await ensureInFlight(pool);
  const ins = await pool.query('INSERT INTO upstream_calls (idempotency_key, tool) VALUES ($1, $2) ON CONFLICT (idempotency_key) DO NOTHING', [key, tool]);
  if (ins.rowCount === 1) return 'fresh';
  const r = await pool.query<{ finished: boolean }>('SELECT finished_at IS NOT NULL AS finished FROM upstream_calls WHERE idempotency_key = $1', [key]);
  if (r.rows[0]?.finished) {
    await pool.query('UPDATE upstream_calls SET finished_at = NULL, started_at = now() WHERE idempotency_key = $1', [key]);
    return 'finished';
  }
  return 'unfinished';
}

/** Marks a call as answered (whatever the answer). */
export async function markFinished(pool: Pool, key: string): Promise<void> {
  await pool.query('UPDATE upstream_calls SET finished_at = now() WHERE idempotency_key = $1', [key]);
}
