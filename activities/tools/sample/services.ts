/**
 * Service tools of the sample catalog: scale, restart, set an environment variable (its value
 * is sensitive: redacted wherever arguments are logged) and rotate a secret (the new material is
 * generated here and never returned).
 */
import { createHash, randomBytes } from 'node:crypto';
import type { ClientBase } from 'pg';
import { z } from 'zod';
import { defineTool } from '../define';
import { notFound, serviceName, WRITE } from './common';

async function lockService(db: ClientBase, name: string): Promise<Record<string, unknown>> {
  const r = await db.query('SELECT * FROM services WHERE name = $1 FOR UPDATE', [name]);
  if (r.rowCount === 0) throw notFound('service', name);
  return r.rows[0] as Record<string, unknown>;
}

export const servicesScale = defineTool({
  name: 'services.scale',
  description: 'Change the replica count of a production service',
  effect: 'write',
  environment: 'production',
  resource: 'services',
  input: z.object({ service: serviceName, replicas: z.number().int().min(0).max(50) }).strict(),
  output: z.object({ service: z.string(), previousReplicas: z.number().int(), replicas: z.number().int() }),
  ...WRITE,
  idempotent: true,
  async handler(args, ctx) {
    const prev = await lockService(ctx.db, args.service);
    await ctx.db.query('UPDATE services SET replicas = $2, updated_at = now() WHERE name = $1', [args.service, args.replicas]);
    return { service: args.service, previousReplicas: prev.replicas as number, replicas: args.replicas };
  },
});

export const servicesRestart = defineTool({
  name: 'services.restart',
  description: 'Restart a production service',
  effect: 'write',
  environment: 'production',
  resource: 'services',
  input: z.object({ service: serviceName }).strict(),
  output: z.object({ service: z.string(), restartCount: z.number().int(), restartedAt: z.string() }),
  ...WRITE,
  idempotent: false,
  async handler(args, ctx) {
    await lockService(ctx.db, args.service);
    const r = await ctx.db.query(
      `UPDATE services SET restart_count = restart_count + 1, restarted_at = clock_timestamp(), status = 'running', updated_at = now()
        WHERE name = $1 RETURNING restart_count, restarted_at`,
      [args.service],
    );
    return { service: args.service, restartCount: r.rows[0].restart_count as number, restartedAt: (r.rows[0].restarted_at as Date).toISOString() };
  },
});

export const envModifyProduction = defineTool({
  name: 'env.modifyProduction',
  description: 'Set an environment variable of a production service',
  effect: 'write',
  environment: 'production',
  resource: 'services',
  input: z
    .object({
      service: serviceName,
      key: z.string().max(64).regex(/^[A-Z][A-Z0-9_]*$/, 'expected an upper-case variable name like `LOG_LEVEL`'),
      value: z.string().max(4096),
    })
    .strict(),
  output: z.object({ service: z.string(), key: z.string(), created: z.boolean(), updatedAt: z.string() }),
  sensitive: ['value'],
  ...WRITE,
  idempotent: true,
  async handler(args, ctx) {
    await lockService(ctx.db, args.service);
    const r = await ctx.db.query(
      `INSERT INTO service_env (service, key, value) VALUES ($1, $2, $3)
       ON CONFLICT (service, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
       RETURNING (xmax = 0) AS created, updated_at`,
      [args.service, args.key, args.value],
    );
    // The value itself is never echoed back: results are logged.
    return { service: args.service, key: args.key, created: r.rows[0].created as boolean, updatedAt: (r.rows[0].updated_at as Date).toISOString() };
  },
});

export const secretsRotate = defineTool({
  name: 'secrets.rotate',
  description: 'Rotate the secrets of a production service',
  effect: 'write',
  environment: 'production',
  resource: 'secrets',
  input: z.object({ service: serviceName, secret: z.string().min(1).max(64).regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a secret name like `db-password`') }).strict(),
  output: z.object({ service: z.string(), secret: z.string(), version: z.number().int(), previousVersion: z.number().int(), rotatedAt: z.string() }).strict(),
  ...WRITE,
  idempotent: false,
  async handler(args, ctx) {
    const s = await ctx.db.query('SELECT current_version FROM secrets WHERE service = $1 AND name = $2 FOR UPDATE', [args.service, args.secret]);
    if (s.rowCount === 0) throw notFound('secret', `${args.service}/${args.secret}`);
    const prev = s.rows[0].current_version as number;
    const material = randomBytes(32).toString('base64url');
    await ctx.db.query('INSERT INTO secret_versions (service, name, version, material) VALUES ($1, $2, $3, $4)', [args.service, args.secret, prev + 1, material]);
    const u = await ctx.db.query(
      'UPDATE secrets SET current_version = $3, rotated_at = clock_timestamp() WHERE service = $1 AND name = $2 RETURNING rotated_at',
      [args.service, args.secret, prev + 1],
    );
    return { service: args.service, secret: args.secret, version: prev + 1, previousVersion: prev, rotatedAt: (u.rows[0].rotated_at as Date).toISOString() };
  },
});

/** A short fingerprint of secret material, for tests that check material changed without reading it. */
export function fingerprint(material: string): string {
  return createHash('sha256').update(material).digest('hex').slice(0, 12);
}
