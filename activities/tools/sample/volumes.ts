/**
 * Volume tools of the sample catalog: list volumes with their mounts, unmount one, delete one
 * (with its data). Deleting a mounted volume is refused: unmount first.
 */
import { z } from 'zod';
import { defineTool } from '../define';
import { ToolError } from '../errors';
import { notFound, READ, serviceName, volumeId, WRITE } from './common';

const mount = z.object({ service: z.string(), mountPath: z.string() });
const volume = z.object({ id: z.string(), name: z.string(), sizeGb: z.number().int(), status: z.string(), mounts: z.array(mount) });

export const volumesList = defineTool({
  name: 'volumes.list',
  description: 'List storage volumes and where they are mounted',
  effect: 'read',
  environment: 'production',
  resource: 'volumes',
  input: z
    .object({ service: serviceName.optional(), status: z.enum(['available', 'in-use']).optional(), limit: z.number().int().min(1).max(200).default(100) })
    .strict(),
  output: z.object({ volumes: z.array(volume) }),
  ...READ,
  async handler(args, ctx) {
    const r = await ctx.db.query(
      `SELECT v.id, v.name, v.size_gb, v.status,
              coalesce(json_agg(json_build_object('service', m.service, 'mountPath', m.mount_path) ORDER BY m.service)
                       FILTER (WHERE m.service IS NOT NULL), '[]') AS mounts
         FROM volumes v LEFT JOIN volume_mounts m ON m.volume_id = v.id
        WHERE ($1::text IS NULL OR v.status = $1)
          AND ($2::text IS NULL OR EXISTS (SELECT 1 FROM volume_mounts x WHERE x.volume_id = v.id AND x.service = $2))
        GROUP BY v.id ORDER BY v.id LIMIT $3`,
      [args.status ?? null, args.service ?? null, args.limit],
    );
    return {
      volumes: r.rows.map((row) => ({
        id: row.id as string,
        name: row.name as string,
        sizeGb: row.size_gb as number,
        status: row.status as string,
        mounts: row.mounts as { service: string; mountPath: string }[],
      })),
    };
  },
});

export const volumesUnmount = defineTool({
  name: 'volumes.unmount',
  description: 'Unmount a production volume',
  effect: 'write',
  environment: 'production',
  resource: 'volumes',
  input: z.object({ volumeId, service: serviceName.optional() }).strict(),
  output: z.object({ volumeId: z.string(), unmounted: z.array(z.string()), status: z.string() }),
  ...WRITE,
  idempotent: true,
  async handler(args, ctx) {
    const v = await ctx.db.query('SELECT id FROM volumes WHERE id = $1 FOR UPDATE', [args.volumeId]);
    if (v.rowCount === 0) throw notFound('volume', args.volumeId);
    const del = await ctx.db.query('DELETE FROM volume_mounts WHERE volume_id = $1 AND ($2::text IS NULL OR service = $2) RETURNING service', [
      args.volumeId,
      args.service ?? null,
    ]);
    const st = await ctx.db.query(
      `UPDATE volumes SET status = CASE WHEN EXISTS (SELECT 1 FROM volume_mounts WHERE volume_id = $1) THEN 'in-use' ELSE 'available' END
        WHERE id = $1 RETURNING status`,
      [args.volumeId],
    );
    return { volumeId: args.volumeId, unmounted: del.rows.map((r) => r.service as string).sort(), status: st.rows[0].status as string };
  },
});

export const volumesDelete = defineTool({
  name: 'volumes.delete',
  description: 'Delete a production volume and its data',
  effect: 'destructive',
  environment: 'production',
  resource: 'volumes',
  input: z.object({ volumeId }).strict(),
  output: z.object({ volumeId: z.string(), deleted: z.literal(true), sizeGb: z.number().int(), blocksDeleted: z.number().int() }),
  timeoutMs: 60_000,
  retry: { maxAttempts: 3, nonRetryable: ['NotFound', 'VolumeInUse'] },
  idempotent: true,
  async handler(args, ctx) {
    const v = await ctx.db.query('SELECT size_gb FROM volumes WHERE id = $1 FOR UPDATE', [args.volumeId]);
    if (v.rowCount === 0) throw notFound('volume', args.volumeId);
    const m = await ctx.db.query('SELECT service FROM volume_mounts WHERE volume_id = $1 ORDER BY service', [args.volumeId]);
    if ((m.rowCount ?? 0) > 0) {
      const services = m.rows.map((r) => r.service as string);
      throw new ToolError('VolumeInUse', `volume \`${args.volumeId}\` is mounted by ${services.map((s) => `\`${s}\``).join(', ')}: unmount it first`, {
        details: { services },
      });
    }
    const b = await ctx.db.query('DELETE FROM volume_blocks WHERE volume_id = $1', [args.volumeId]);
    await ctx.db.query('DELETE FROM volumes WHERE id = $1', [args.volumeId]);
    return { volumeId: args.volumeId, deleted: true as const, sizeGb: v.rows[0].size_gb as number, blocksDeleted: b.rowCount ?? 0 };
  },
});
