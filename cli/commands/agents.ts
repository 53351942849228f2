/**
 * Agent credentials from the command line (an operator's job):
 *
 *   gatehouse agents create <agentId> --owner <person> [--policy <name>...] [--expires 30d] [--as <operator>] [--json]
 *   gatehouse agents revoke <agentId> [--reason <text>] [--as <operator>] [--json]
 *
 * `create` signs a credential (an EdDSA JWT naming agent, owner, allowed policies, expiry and id)
 * with the operator's key and prints the token once: nothing keeps a copy. `revoke` writes the
 * revocation list in PostgreSQL as the audit database's owner (the runtime role may only read it);
 * the worker refuses every credential of that agent issued until then at the next session start.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import pg from 'pg';
import { parseDuration } from '../../audit/duration';
import { RevocationStore } from '../../audit/credentials';
import { loadConfig } from '../../client/config';
import { issueAgentCredential } from '../../client/trust/credentials';
import { policyFilesOf } from '../../worker/policy-registry';
import { CommandError } from '../command-error';
import { operatorKey, runningStack } from '../operator-keys';

/** Bad options of an `agents` command, or what it needs cannot be reached. */
export class AgentsUsageError extends CommandError {
  constructor(message: string) {
    super('AgentsUsageError', message);
  }
}

/**
 * What `revoke` says when PostgreSQL refuses the write: in a deployment `DATABASE_URL` is the
 * runtime role's, which may only read `agent_revocations` (audit/roles.ts).
 */
export const REVOKE_NEEDS_OWNER =
  'cannot write the revocation list: the database role of `DATABASE_URL` may not (in a deployment it is the runtime role, which may only read `agent_revocations`): ' +
  "run `gatehouse agents revoke` with `DATABASE_URL` set to the audit database owner's URL (the one `audit/setup.ts` takes as `GATEHOUSE_OWNER_DATABASE_URL`)";

/** True for PostgreSQL's `insufficient_privilege` (SQLSTATE 42501). */
export function isPermissionDenied(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '42501';
}

interface CreateOptions {
  readonly owner: string;
  readonly policy?: string[];
  readonly expires: string;
  readonly as?: string;
  readonly json?: boolean;
}

/**
 * The policy names the worker loaded, where the CLI can know them: `GATEHOUSE_POLICIES` (plus the
 * default), else the running stack's; undefined when neither says.
 */
export function knownPolicyNames(env: NodeJS.ProcessEnv = process.env): readonly string[] | undefined {
  if (env.GATEHOUSE_POLICIES) return ['default', ...Object.keys(policyFilesOf(env.GATEHOUSE_POLICIES))];
  return runningStack(env)?.policyNames;
}

function expiresInSeconds(text: string): number {
  try {
    return Math.floor(parseDuration(text) / 1000);
  } catch (err) {
    throw new AgentsUsageError(`--expires: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function defaultActor(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

export function registerAgents(program: Command): void {
  const agents = program.command('agents').description('agent credentials: issue and revoke');

  agents
    .command('create')
    .description('issue a credential for an agent, signed with an operator key; the token is printed once')
    .argument('<agentId>', 'the agent the credential names')
    .requiredOption('--owner <person>', 'the person the agent acts for (four eyes keeps them from approving its calls)')
    .option('--policy <name...>', 'policies the agent\'s sessions may name besides the default (repeatable)')
    .option('--expires <duration>', 'how long the credential is valid, such as `30d` or `12h`', '30d')
    .option('--as <operator>', 'the operator key to sign with (default: your only operator key, else the development stack\'s)')
    .option('--json', 'print `{ agentId, owner, token, expiresAt, credentialId }`')
    .action(async (agentId: string, o: CreateOptions) => {
      const policies = [...new Set(o.policy ?? [])];
      const known = knownPolicyNames();
      const unknown = known ? policies.filter((p) => !known.includes(p)) : [];
      if (unknown.length > 0) throw new AgentsUsageError(`unknown policy \`${unknown[0]}\`: the worker loads ${known!.map((n) => `\`${n}\``).join(', ')}`);
      const seconds = expiresInSeconds(o.expires);
      const key = operatorKey(o.as);
      let issued: Awaited<ReturnType<typeof issueAgentCredential>>;
      try {
        issued = await issueAgentCredential(key, { agentId, owner: o.owner, policies, expiresInSeconds: seconds });
      } catch (err) {
        throw new AgentsUsageError(err instanceof Error ? err.message : String(err));
      }
      const { token, credential } = issued;
      if (o.json) {
        process.stdout.write(`${JSON.stringify({ agentId, owner: o.owner, token, expiresAt: credential.expiresAt, credentialId: credential.credentialId })}\n`);
        return;
      }
      process.stdout.write(`credential ${credential.credentialId} for agent \`${agentId}\` (owner \`${o.owner}\`${policies.length ? `, policies ${policies.join(', ')}` : ''}), signed by \`${key.principal}\`, valid until ${credential.expiresAt}\n`);
      process.stdout.write('the token is shown once: give it to the agent as GATEHOUSE_AGENT_TOKEN\n');
      process.stdout.write(`${token}\n`);
    });

  agents
    .command('revoke')
    .description('revoke every credential of an agent issued until now (the worker refuses them at session start)')
    .argument('<agentId>', 'the agent whose credentials are revoked')
    .option('--reason <text>', 'why (kept with the revocation)')
    .option('--as <operator>', 'the operator revoking (default: your operator key\'s name, else your user name)')
    .option('--json', 'print the revocation as JSON')
    .action(async (agentId: string, o: { reason?: string; as?: string; json?: boolean }) => {
      // Revoking only tightens: it needs the database, not a signature; the key only names who did it.
      let by: string;
      if (o.as !== undefined) by = operatorKey(o.as).principal;
      else {
        try {
          by = operatorKey(undefined).principal;
        } catch {
          by = defaultActor();
        }
      }
      const url = loadConfig().databaseUrl;
      if (!url) throw new AgentsUsageError('no database: set `DATABASE_URL`, or start the stack with `npm start`');
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      try {
        const revocation = await new RevocationStore(pool).revoke(agentId, by, o.reason).catch((err: unknown) => {
          throw isPermissionDenied(err) ? new AgentsUsageError(REVOKE_NEEDS_OWNER) : err;
        });
        if (o.json) process.stdout.write(`${JSON.stringify(revocation)}\n`);
        else process.stdout.write(`revoked every credential of agent \`${agentId}\` issued until ${revocation.revokedAt} (by ${by})\n`);
      } finally {
        await pool.end();
      }
    });
}
