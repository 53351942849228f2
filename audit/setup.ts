/**
 * Sets up a deployment's audit database as its owner: applies the migrations, then creates or
 * updates the runtime role the worker and the approvals app connect as (`roles.ts`). Run once per
 * deploy, before the worker (docker-compose's `audit-db-init`):
 *
 *   GATEHOUSE_OWNER_DATABASE_URL=postgres://gatehouse:…@audit-db/gatehouse \
 *   GATEHOUSE_RUNTIME_DB_PASSWORD=… node --import tsx audit/setup.ts
 *
 * | variable | meaning |
 * | --- | --- |
 * | `GATEHOUSE_OWNER_DATABASE_URL` | the owner's connection (default `DATABASE_URL`) |
 * | `GATEHOUSE_RUNTIME_DB_ROLE` | the runtime role's name (default `gatehouse_runtime`) |
 * | `GATEHOUSE_RUNTIME_DB_PASSWORD` | its password, required |
 */
import pg from 'pg';
import { migrate } from './migrate';
import { DEFAULT_RUNTIME_ROLE, ensureRuntimeRole, RuntimeRoleError } from './roles';

export async function setupAuditDatabase(env: NodeJS.ProcessEnv = process.env): Promise<{ readonly applied: readonly string[]; readonly role: string }> {
  const url = env.GATEHOUSE_OWNER_DATABASE_URL || env.DATABASE_URL;
  if (!url) throw new RuntimeRoleError('no owner database: set `GATEHOUSE_OWNER_DATABASE_URL`');
  const password = env.GATEHOUSE_RUNTIME_DB_PASSWORD;
  if (!password) throw new RuntimeRoleError('the runtime role needs a password: set `GATEHOUSE_RUNTIME_DB_PASSWORD`');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const applied = await migrate(pool);
    const role = await ensureRuntimeRole(pool, { role: env.GATEHOUSE_RUNTIME_DB_ROLE || DEFAULT_RUNTIME_ROLE, password });
    return { applied, role };
  } finally {
    await pool.end().catch(() => undefined);
  }
}

if (require.main === module) {
  setupAuditDatabase()
    .then(({ applied, role }) => {
      process.stdout.write(`gatehouse audit database: migrations ${applied.length ? `applied: ${applied.join(', ')}` : 'up to date'}; runtime role \`${role}\` may insert and select the audit trail\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`gatehouse audit setup: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
}
