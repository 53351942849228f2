/**
 * `gatehouse mcp authorize <request-id> --agent <name> --owner <person>`: an operator grants an MCP
 * host's pending OAuth authorization request (the id its browser page shows). The command shows who
 * asks (client name, redirect URI, resource), signs an agent credential with the operator's key,
 * bound to that request and resource, and hands it to the gateway as the consent; the host's page
 * then moves on and the host receives that credential as its access token. The agent cannot do this
 * step: it needs an operator key.
 *
 *   gatehouse mcp authorize <request-id> --agent <agentId> --owner <person> [--policy <name>...] [--expires 30d] [--as <operator>] [--json]
 */
import type { Command } from 'commander';
import { shownLine } from '../../approvals/shown-text';
import { parseDuration } from '../../audit/duration';
import { issueAgentCredential } from '../../client/trust/credentials';
import type { SigningKey } from '../../client/trust/key-files';
import { CommandError } from '../command-error';
import { askAtTerminal, processIo, type CommandIo, type Confirm } from '../command-io';
import { operatorKey } from '../operator-keys';

/** The request cannot be granted: bad options, an unknown or expired request, the gateway refused. */
export class McpAuthorizeError extends CommandError {
  constructor(message: string) {
    super('McpAuthorizeError', message);
  }
}

export interface AuthorizeOptions {
  readonly agent: string;
  readonly owner: string;
  readonly policy?: string[];
  readonly expires: string;
  readonly as?: string;
  readonly json?: boolean;
  /** Grant without asking (scripts); else the command shows the request and asks on a terminal. */
  readonly yes?: boolean;
}

export type { Confirm };

interface PendingRequest {
  readonly request_id: string;
  readonly client_name: string | null;
  readonly redirect_uri: string;
  readonly resource: string;
  readonly status: string;
}

async function answer<T>(r: Response, what: string): Promise<T> {
  const body = (await r.json().catch(() => ({}))) as T & { error?: string; error_description?: string };
  if (!r.ok) throw new McpAuthorizeError(`${what}: ${body.error_description ?? body.error ?? `status ${r.status}`}`);
  return body;
}

/** Grants request `id` at the gateway `base` (its base URL), signing with `key`. */
export async function grantAuthorization(base: URL, id: string, o: AuthorizeOptions, key: SigningKey, io: CommandIo = processIo, confirm?: Confirm): Promise<{ agentId: string; owner: string; resource: string; credentialId: string; expiresAt: string }> {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(id)) throw new McpAuthorizeError(`invalid request id \`${id.slice(0, 100)}\``);
  // Never redirected: the consent carries a signed credential, for this gateway only.
  const pending = await answer<PendingRequest>(await fetch(new URL(`/oauth/requests/${id}`, base), { redirect: 'error' }), `authorization request \`${id}\``);
  if (pending.status !== 'pending') throw new McpAuthorizeError(`authorization request \`${id}\` was answered already`);
  // The person sees what asks before anything is signed: a request id can come from anyone, an agent included.
  // The client wrote its own name and redirect (dynamic registration): each is kept to its one line, so
  // it cannot draw a prompt or a line of its own.
  const asker = `${ticked(pending.client_name ?? 'unnamed client')} (redirect ${shownLine(pending.redirect_uri)})`;
  const resource = shownLine(pending.resource);
  if (confirm) {
    const question = `${asker} asks to act on ${resource}: grant it as agent ${ticked(o.agent)} for ${ticked(o.owner)}, for ${shownLine(o.expires)}? [y/N] `;
    if (!(await confirm(question))) throw new McpAuthorizeError(`authorization request \`${id}\` was not granted`);
  }
  let seconds: number;
  try {
    seconds = Math.floor(parseDuration(o.expires) / 1000);
  } catch (err) {
    throw new McpAuthorizeError(`--expires: ${err instanceof Error ? err.message : String(err)}`);
  }
  let issued: Awaited<ReturnType<typeof issueAgentCredential>>;
  try {
    issued = await issueAgentCredential(key, { agentId: o.agent, owner: o.owner, policies: [...new Set(o.policy ?? [])], expiresInSeconds: seconds, oauth: { resource: pending.resource, requestId: pending.request_id } });
  } catch (err) {
    throw new McpAuthorizeError(err instanceof Error ? err.message : String(err));
  }
  await answer(await fetch(new URL('/oauth/consent', base), { method: 'POST', redirect: 'error', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ credential: issued.token }) }), 'the gateway refused the consent');
  const result = { agentId: o.agent, owner: o.owner, resource: pending.resource, credentialId: issued.credential.credentialId, expiresAt: issued.credential.expiresAt };
  if (o.json) io.out(JSON.stringify({ requestId: id, clientName: pending.client_name, redirectUri: pending.redirect_uri, ...result }));
  else {
    io.out(`granted: ${asker} acts as agent ${ticked(o.agent)} (owner ${ticked(o.owner)}) on ${resource} until ${result.expiresAt}`);
    io.out(`signed by \`${key.principal}\`; credential ${result.credentialId} (revoke with \`gatehouse agents revoke ${o.agent}\`)`);
  }
  return result;
}

/** Text between backticks on one line: its line breaks, hidden characters and backticks escaped, so it cannot end its quote. */
function ticked(text: string): string {
  return `\`${shownLine(text).replaceAll('`', '\\u0060')}\``;
}

/** `authorize` under `gatehouse mcp`; `gatewayBase` finds the gateway as the bridge does. */
export function registerMcpAuthorize(mcp: Command, gatewayBase: () => URL): void {
  mcp
    .command('authorize')
    .description('grant an MCP host\'s pending OAuth authorization request as an agent, signed with an operator key')
    .argument('<request-id>', 'the request id the host\'s authorization page shows')
    .requiredOption('--agent <agentId>', 'the agent the host will act as')
    .requiredOption('--owner <person>', 'the person the agent acts for')
    .option('--policy <name...>', 'policies the agent\'s sessions may name besides the default (repeatable)')
    .option('--expires <duration>', 'how long the granted credential is valid, such as `30d` or `12h`', '30d')
    .option('--as <operator>', 'the operator key to sign with (default: your only operator key, else the development stack\'s)')
    .option('--json', 'print `{ requestId, clientName, redirectUri, agentId, owner, resource, credentialId, expiresAt }`')
    .option('--yes', 'grant without showing the request and asking first (scripts)')
    .action(async (id: string, o: AuthorizeOptions) => {
      if (!o.yes && !process.stdin.isTTY) throw new McpAuthorizeError('`gatehouse mcp authorize` shows the request and asks before it signs: run it at a terminal, or pass `--yes` to grant without asking');
      await grantAuthorization(gatewayBase(), id, o, operatorKey(o.as), processIo, o.yes ? undefined : askAtTerminal);
    });
}
