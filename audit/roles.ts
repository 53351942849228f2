/**
 * The database role the worker runs as. Migrations run as the owner of the tables; the runtime
 * role may only INSERT and SELECT the audit tables (`events`, `alerts`), so a compromised or
 * buggy worker cannot rewrite, delete or truncate the trail, nor switch off its append-only
 * trigger (that needs the owner or a superuser). What else it may do is what the worker and the
 * approvals service need:
 *
 * | table | runtime role |
 * | --- | --- |
 * | `events`, `alerts` | SELECT, INSERT |
 * | `sessions` | SELECT, INSERT, UPDATE of the summary columns only (mode, final state, end, counters, intent score, flag): never its identity, policy or catalog, which `audit verify` reads |
 * | `approvals` | SELECT, INSERT, UPDATE (status, posts, escalation; row locks) |
 * | `approval_posts`, `approval_votes` | SELECT, INSERT |
 * | `agent_revocations` | SELECT (operators revoke, as the owner) |
 * | `upstream_tools` | SELECT, INSERT, UPDATE (the worker publishes upstream MCP tool lists; the gateway reads) |
 * | `start_tickets` | SELECT, INSERT, DELETE (a start's credential under a ticket, out of every history) |
 * | `schema_migrations` | SELECT (to see that the schema is up to date) |
 *
 * `ensureRuntimeRole` applies exactly this (revoking anything else) and is idempotent: run it
 * after every migration. `runtimeRoleSql` prints the same statements for a deployment's DBA.
 * Node-only.
 */
import { randomBytes } from 'node:crypto';
import pg, { type Pool, type PoolClient } from 'pg';
import { checkout } from './checkout';

/** Privileges of the runtime role per table; anything not listed is revoked. */
export const RUNTIME_GRANTS: Readonly<Record<string, readonly string[]>> = {
  events: ['SELECT', 'INSERT'],
  alerts: ['SELECT', 'INSERT'],
  // `patchSession`'s columns: `tools` and `policy` decide the tiers `audit verify` checks a trail against.
  sessions: ['SELECT', 'INSERT', 'UPDATE (mode, final_state, ended_at, counters, intent_score, flagged_for_review)'],
  approvals: ['SELECT', 'INSERT', 'UPDATE'],
  approval_posts: ['SELECT', 'INSERT'],
  approval_votes: ['SELECT', 'INSERT'],
  agent_revocations: ['SELECT'],
  upstream_tools: ['SELECT', 'INSERT', 'UPDATE'],
  // The gateway keeps a start's credential under a ticket; the worker reads it; expired ones go.
  start_tickets: ['SELECT', 'INSERT', 'DELETE'],
  schema_migrations: ['SELECT'],
};

/** Default name of the runtime role. */
export const DEFAULT_RUNTIME_ROLE = 'gatehouse_runtime';

/** Thrown when the runtime role cannot be set up as asked (nothing half-applied: one transaction). */
export class RuntimeRoleError extends Error {
  readonly type = 'RuntimeRoleError';
  constructor(message: string) {
    super(message);
    this.name = 'RuntimeRoleError';
  }
}

export interface RuntimeRoleOptions {
  /** @default 'gatehouse_runtime' */
  readonly role?: string;
  /** The role's login password (set on every call, so a restart may rotate it). */
  readonly password: string;
}

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** Arbitrary constant key of the advisory lock that serialises role set-ups (grants race otherwise). */
const ROLE_LOCK_KEY = 7_305_118_222;

function quoteLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/**
 * The statements that create (or update) the role and grant exactly `RUNTIME_GRANTS` on the
 * tables of `tables` (all of them by default) in `database`. Role name checked; password quoted.
 */
export function runtimeRoleSql(database: string, opts: RuntimeRoleOptions & { readonly tables?: readonly string[]; readonly sequences?: readonly string[] }): string[] {
  const role = opts.role ?? DEFAULT_RUNTIME_ROLE;
  if (!ROLE_NAME.test(role)) throw new RuntimeRoleError(`invalid runtime role name \`${role}\`: use lower-case letters, digits and \`_\``);
  const db = `"${database.replace(/"/g, '""')}"`;
  const attributes = `LOGIN PASSWORD ${quoteLiteral(opts.password)} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS NOINHERIT`;
  const tables = (opts.tables ?? Object.keys(RUNTIME_GRANTS)).filter((t) => RUNTIME_GRANTS[t] !== undefined);
  const sequences = opts.sequences ?? ['events_id_seq', 'alerts_id_seq'];
  return [
    `DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${quoteLiteral(role)}) THEN CREATE ROLE ${role} ${attributes}; END IF;
END $$`,
    `ALTER ROLE ${role} ${attributes}`,
    `GRANT CONNECT ON DATABASE ${db} TO ${role}`,
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    `REVOKE CREATE ON SCHEMA public FROM ${role}`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`,
    ...tables.map((t) => `GRANT ${RUNTIME_GRANTS[t]!.join(', ')} ON ${t} TO ${role}`),
    ...sequences.map((s) => `GRANT USAGE ON SEQUENCE ${s} TO ${role}`),
  ];
}

/**
 * Creates or updates the runtime role on the database `ownerPool` connects to, as that pool's
 * (owning) user, in one transaction. Run after the migrations: it grants on the tables present.
 * Resolves with the role's name.
 */
export async function ensureRuntimeRole(ownerPool: Pool, opts: RuntimeRoleOptions): Promise<string> {
  const role = opts.role ?? DEFAULT_RUNTIME_ROLE;
  const checked = await checkout(ownerPool);
  const { client } = checked;
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [ROLE_LOCK_KEY]);
    const me = await client.query<{ user: string; db: string }>('SELECT current_user AS user, current_database() AS db');
    const { user, db } = me.rows[0]!;
    if (user === role) throw new RuntimeRoleError(`the runtime role \`${role}\` cannot be the owner that runs the migrations: use another name`);
    const tables = await present(client, Object.keys(RUNTIME_GRANTS), 'r');
    const sequences = await present(client, ['events_id_seq', 'alerts_id_seq'], 'S');
    for (const sql of runtimeRoleSql(db, { ...opts, role, tables, sequences })) await client.query(sql);
    await client.query('COMMIT');
    return role;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    checked.release(broken);
  }
}

/** Which of `names` exist in schema `public` as relations of `kind` (`r` table, `S` sequence). */
async function present(client: PoolClient, names: readonly string[], kind: 'r' | 'S'): Promise<string[]> {
  const r = await client.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = 'public' AND c.relkind = $2 AND c.relname = ANY($1::text[])`,
    [names, kind],
  );
  const found = new Set(r.rows.map((row) => row.relname));
  return names.filter((n) => found.has(n));
}

/** `url` with the runtime role's credentials in place of the owner's. */
export function runtimeDatabaseUrl(url: string, role: string, password: string): string {
  const u = new URL(url);
  u.username = encodeURIComponent(role);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/**
 * Sets up the runtime role with a fresh random password (`gatehouse start` on the embedded
 * PostgreSQL) and opens a pool on `ownerUrl`'s database as that role. The caller ends the pool;
 * `url` opens more (a part that must not wait on the others' connections).
 */
export async function openRuntimePool(ownerPool: Pool, ownerUrl: string, opts: { readonly role?: string; readonly max?: number } = {}): Promise<{ readonly pool: Pool; readonly role: string; readonly url: string }> {
  const password = randomBytes(18).toString('hex');
  const role = await ensureRuntimeRole(ownerPool, { password, ...(opts.role ? { role: opts.role } : {}) });
  const url = runtimeDatabaseUrl(ownerUrl, role, password);
  const pool = new pg.Pool({ connectionString: url, max: opts.max ?? 10 });
  pool.on('error', () => undefined); // an idle client dropped: the query in flight reports it
  return { pool, role, url };
}
