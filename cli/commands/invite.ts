/**
 * Invites to the console:
 *
 *   gatehouse approvers invite <name> [--expires <duration>] [--json]
 *   gatehouse operators invite <name> [--expires <duration>] [--json]
 *
 * Prints a one-time enrolment link (`<console>/enrol#<secret>`, the secret in the fragment so no
 * server log holds it) with its expiry (default 24 h). Opening it, the person creates a passkey
 * that the console's registrar grants to that name and role. The database keeps only the sha256
 * of the secret. The console's address comes from `GATEHOUSE_CONSOLE_URL` or the running stack.
 */
import type { Command } from 'commander';
import pg from 'pg';
import { parseDuration } from '../../audit/duration';
import { loadConfig, readStackFile } from '../../client/config';
import { redactUrl } from '../../client/redact-url';
import { ConsoleStore, type ConsoleRole } from '../../console/store';
import { CommandError } from '../command-error';

/** An invite that cannot be made (bad name, no database, no console address). */
export class InviteError extends CommandError {
  constructor(message: string) {
    super('InviteError', message);
  }
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,199}$/;

/** Makes an invite; returns the link and its expiry. */
export async function invite(name: string, role: ConsoleRole, expires: string, env: NodeJS.ProcessEnv = process.env): Promise<{ link: string; expiresAt: string; inviteId: string }> {
  if (!NAME.test(name)) throw new InviteError(`\`${name.slice(0, 200)}\` is not a name: letters, digits, \`.\`, \`_\`, \`@\` and \`-\`, as the policy's groups write it`);
  let ttl: number;
  try {
    ttl = parseDuration(expires);
  } catch (err) {
    throw new InviteError(err instanceof Error ? err.message : String(err));
  }
  const base = env.GATEHOUSE_CONSOLE_URL ?? readStackFile(env)?.console?.url;
  if (!base) throw new InviteError('no console to enrol at: run `gatehouse start` or set `GATEHOUSE_CONSOLE_URL`');
  // Checked before the invite exists: a link that cannot be printed must leave no invite behind.
  const enrol = enrolUrl(base, env.GATEHOUSE_CONSOLE_URL !== undefined ? '`GATEHOUSE_CONSOLE_URL`' : 'the running stack\'s console address');
  let databaseUrl: string | undefined;
  try {
    databaseUrl = loadConfig(env).databaseUrl;
  } catch (err) {
    throw new InviteError(err instanceof Error ? err.message : String(err));
  }
  if (!databaseUrl) throw new InviteError('no database: set `DATABASE_URL` or run `gatehouse start`');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 1 });
  try {
    const by = env.USER ?? 'cli';
    const { secret, invite: made } = await new ConsoleStore(pool).createInvite(name, role, ttl, by);
    return { link: `${enrol}#${secret}`, expiresAt: made.expiresAt, inviteId: made.inviteId };
  } finally {
    await pool.end();
  }
}

/** The console's enrolment page under `base`, an http(s) URL; `source` names where `base` came from. */
function enrolUrl(base: string, source: string): string {
  let url: URL;
  try {
    url = new URL('/enrol', base);
  } catch {
    throw new InviteError(`${source} is not a URL: give the console's http or https address`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InviteError(`${source} must be an http or https URL, got \`${redactUrl(base)}\``);
  }
  return url.toString();
}

export function registerInvites(program: Command): void {
  for (const [family, role] of [['approvers', 'approver'], ['operators', 'operator']] as const) {
    program
      .command(family)
      .description(`${role}s of the console`)
      .command('invite <name>')
      .description(`a one-time link to enrol a passkey as ${role} <name> in the console`)
      .option('--expires <duration>', 'how long the link works: 30m, 24h, 7d', '24h')
      .option('--json', 'print `{ link, expiresAt, inviteId }` as JSON')
      .action(async (name: string, o: { expires: string; json?: boolean }) => {
        const made = await invite(name, role, o.expires);
        if (o.json) {
          process.stdout.write(`${JSON.stringify(made)}\n`);
          return;
        }
        process.stdout.write(`enrolment link for ${role} \`${name}\` (one use, expires ${made.expiresAt}):\n${made.link}\n`);
      });
  }
}
