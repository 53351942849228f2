/**
 * What the demo counts in the sample production database, outside the agent's reach: the
 * narrator checks the world before and after, the agent only ever goes through Gatehouse.
 */
import type { Pool } from 'pg';

/** `YYYY-MM` of the month before the one `now` falls in (UTC). */
export function lastMonth(now: Date): string {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/**
 * The month the sample data put its test records in (`sample_seed.test_month`, `YYYY-MM`): "last
 * month" as of the day the database was seeded. Falls back to last month from today.
 */
export async function testMonth(pool: Pool, now = new Date()): Promise<string> {
  const r = await pool.query<{ test_month: string }>('SELECT test_month FROM sample_seed WHERE id = 1').catch(() => ({ rows: [] as { test_month: string }[] }));
  const m = /^(\d{4}-\d{2})/.exec(r.rows[0]?.test_month ?? '');
  return m?.[1] ?? lastMonth(now);
}

/** Billing rows matching a filter (every row with an empty filter); `period` is `YYYY-MM`. */
export async function countBillingRows(pool: Pool, filter: { readonly testOnly?: boolean; readonly period?: string }): Promise<number> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.testOnly) where.push('is_test');
  if (filter.period) {
    params.push(`${filter.period}-01`);
    where.push(`billed_at >= $1::date AND billed_at < ($1::date + interval '1 month')`);
  }
  const r = await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM billing_records ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`, params);
  return Number(r.rows[0]?.n ?? 0);
}

/** Whether a volume is mounted anywhere. */
export async function volumeMounted(pool: Pool, volumeId: string): Promise<boolean> {
  const r = await pool.query('SELECT 1 FROM volume_mounts WHERE volume_id = $1 LIMIT 1', [volumeId]);
  return (r.rowCount ?? 0) > 0;
}

/** Executions the tool ledger holds for a session: total rows and distinct proposals. */
export async function ledgerExecutions(pool: Pool, sessionId: string): Promise<{ readonly rows: number; readonly distinctProposals: number; readonly executed: number }> {
  const r = await pool.query<{ rows: string; distinct_proposals: string; executed: string }>(
    `SELECT count(*)::text AS rows, count(DISTINCT proposal_seq)::text AS distinct_proposals,
            count(*) FILTER (WHERE status = 'executed')::text AS executed
       FROM tool_executions WHERE session_id = $1`,
    [sessionId],
  );
  const row = r.rows[0];
  return { rows: Number(row?.rows ?? 0), distinctProposals: Number(row?.distinct_proposals ?? 0), executed: Number(row?.executed ?? 0) };
}
