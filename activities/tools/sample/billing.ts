/**
 * Billing tools of the sample catalog: look up, summarise and delete billing records of the
 * production database. The delete shares its filter with its blast-radius estimate, so the
 * count the policy sees is the count the delete would remove.
 */
import type { ClientBase } from 'pg';
import { z } from 'zod';
import { defineTool } from '../define';
import { customerId, monthRange, notFound, period, READ } from './common';

const filterShape = {
  customerId: customerId.optional(),
  /** Month the records were billed in (UTC). */
  period: period.optional(),
  /** Only records tagged as test data. */
  testOnly: z.boolean().optional(),
};

type Filter = { customerId?: string | undefined; period?: string | undefined; testOnly?: boolean | undefined };

/** The WHERE clause of a filter, parameters bound (never interpolated). */
export function billingWhere(f: Filter): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  if (f.customerId !== undefined) {
    params.push(f.customerId);
    parts.push(`customer_id = $${params.length}`);
  }
  if (f.period !== undefined) {
    const { start, end } = monthRange(f.period);
    params.push(start, end);
    parts.push(`billed_at >= $${params.length - 1} AND billed_at < $${params.length}`);
  }
  if (f.testOnly) parts.push('is_test');
  return { sql: parts.length ? `WHERE ${parts.join(' AND ')}` : '', params };
}

const record = z.object({
  id: z.string(),
  customerId: z.string(),
  amountCents: z.number().int(),
  currency: z.string(),
  description: z.string(),
  billedAt: z.string(),
  isTest: z.boolean(),
});

export const billingQuery = defineTool({
  name: 'billing.query',
  description: 'Look up billing records of production by customer and period',
  effect: 'read',
  environment: 'production',
  resource: 'billing',
  input: z.object({ ...filterShape, limit: z.number().int().min(1).max(500).default(50) }).strict(),
  output: z.object({ records: z.array(record), matched: z.number().int(), returned: z.number().int() }),
  ...READ,
  async handler(args, ctx) {
    const where = billingWhere(args);
    const count = await ctx.db.query(`SELECT count(*)::int AS n FROM billing_records ${where.sql}`, where.params);
    const rows = await ctx.db.query(
      `SELECT id::text, customer_id::text, amount_cents::int, currency, description, billed_at, is_test
         FROM billing_records ${where.sql} ORDER BY billed_at DESC, id DESC LIMIT ${args.limit}`,
      where.params,
    );
    const records = rows.rows.map((r) => ({
      id: r.id as string,
      customerId: r.customer_id as string,
      amountCents: r.amount_cents as number,
      currency: r.currency as string,
      description: r.description as string,
      billedAt: (r.billed_at as Date).toISOString(),
      isTest: r.is_test as boolean,
    }));
    return { records, matched: count.rows[0].n as number, returned: records.length };
  },
});

export const billingSummary = defineTool({
  name: 'billing.summary',
  description: 'Billing summary of one customer over 1 to 24 months',
  effect: 'read',
  environment: 'production',
  resource: 'billing',
  input: z.object({ customerId, months: z.number().int().min(1).max(24) }).strict(),
  output: z.object({
    customerId: z.string(),
    total: z.number(),
    currency: z.string(),
    records: z.number().int(),
    period_start: z.string(),
    period_end: z.string(),
  }),
  ...READ,
  async handler(args, ctx) {
    const c = await ctx.db.query('SELECT currency FROM customers WHERE id = $1', [args.customerId]);
    if (c.rowCount === 0) throw notFound('customer', args.customerId);
    const now = new Date();
    // The period is the current month and the months before it, `months` in all.
    const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - (args.months - 1), 1));
    const s = await ctx.db.query(
      `SELECT coalesce(sum(amount_cents), 0)::bigint AS cents, count(*)::int AS n
         FROM billing_records WHERE customer_id = $1 AND billed_at >= $2 AND billed_at <= $3`,
      [args.customerId, start, now],
    );
    const row = s.rows[0] as { cents: string; n: number };
    return {
      customerId: args.customerId,
      total: Number(row.cents) / 100,
      currency: c.rows[0].currency as string,
      records: row.n,
      period_start: start.toISOString().slice(0, 10),
      period_end: now.toISOString().slice(0, 10),
    };
  },
});

async function countMatching(db: ClientBase, f: Filter): Promise<number> {
  const where = billingWhere(f);
  const r = await db.query(`SELECT count(*)::int AS n FROM billing_records ${where.sql}`, where.params);
  return r.rows[0].n as number;
}

export const billingDeleteRecords = defineTool({
  name: 'billing.deleteRecords',
  description: 'Delete billing records of production matching a filter',
  effect: 'destructive',
  environment: 'production',
  resource: 'billing',
  // An empty filter would delete every record: a customer or a period is required.
  input: z
    .object(filterShape)
    .strict()
    .refine((f) => f.customerId !== undefined || f.period !== undefined, { message: 'a filter needs a customerId or a period', path: ['period'] }),
  output: z.object({ deleted: z.number().int() }),
  timeoutMs: 60_000,
  retry: { maxAttempts: 3 },
  idempotent: true,
  estimateBlastRadius: (args, ctx) => countMatching(ctx.db, args),
  async handler(args, ctx) {
    const where = billingWhere(args);
    const r = await ctx.db.query(`DELETE FROM billing_records ${where.sql}`, where.params);
    return { deleted: r.rowCount ?? 0 };
  },
});
