/** The staging tool of the sample catalog: write one configuration value in staging. */
import { z } from 'zod';
import { defineTool } from '../define';
import { WRITE } from './common';

export const stagingWriteConfig = defineTool({
  name: 'staging.writeConfig',
  description: 'Write a configuration value in staging',
  effect: 'write',
  environment: 'staging',
  resource: 'config',
  input: z
    .object({
      key: z.string().min(1).max(128).regex(/^[a-z0-9][a-z0-9_.-]*$/, 'expected a key like `feature.search.enabled`'),
      value: z.string().max(4096),
    })
    .strict(),
  output: z.object({ key: z.string(), created: z.boolean() }),
  ...WRITE,
  idempotent: true,
  async handler(args, ctx) {
    const r = await ctx.db.query(
      `INSERT INTO staging_config (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now() RETURNING (xmax = 0) AS created`,
      [args.key, args.value],
    );
    return { key: args.key, created: r.rows[0].created as boolean };
  },
});
