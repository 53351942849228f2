/**
 * Stdio upstreams under `GATEHOUSE_ENV=production`. A stdio server is the worker's child, run as
 * the worker's OS user: whatever environment it is given, it can read the worker's own (the
 * environment the worker started with, in `/proc/<worker pid>/environ`: database URLs, Slack and
 * Temporal secrets, every upstream's credentials) and the worker's key files. So in production a
 * stdio server starts only when the operator says so (`GATEHOUSE_ALLOW_STDIO_UPSTREAMS=1`), and the
 * worker logs that it can. Development (`gatehouse start`, `npm start`) is unchanged. Node-only.
 */
import { isStdio, UpstreamConfigError, type NamedUpstream } from './config';

/** The variable by which an operator lets stdio servers start in production, knowingly. */
export const ALLOW_STDIO_UPSTREAMS = 'GATEHOUSE_ALLOW_STDIO_UPSTREAMS';

/** Why a stdio server is refused in production: one issue per server, under its path. */
export const STDIO_REFUSED_IN_PRODUCTION =
  "a stdio server runs as the worker's user and can read the worker's secrets (its environment in `/proc/<pid>/environ`, its key files): under `GATEHOUSE_ENV=production` it starts only with `GATEHOUSE_ALLOW_STDIO_UPSTREAMS=1`; or serve it over Streamable HTTP from its own container or user";

export interface StdioCheckOptions {
  /** `GATEHOUSE_ENV` is `production`. */
  readonly production: boolean;
  /** `GATEHOUSE_ALLOW_STDIO_UPSTREAMS` is `1`. */
  readonly allowed: boolean;
}

/**
 * Throws `UpstreamConfigError` naming each stdio server in production without the opt-in;
 * returns the one-line warning to log in production with it; else `undefined`.
 */
export function checkStdioInProduction(file: string, servers: readonly NamedUpstream[], opts: StdioCheckOptions): string | undefined {
  if (!opts.production) return undefined;
  const stdio = servers.filter(isStdio).map((s) => s.name);
  if (stdio.length === 0) return undefined;
  if (!opts.allowed) {
    throw new UpstreamConfigError(file, stdio.map((name) => ({ path: `mcp.upstreams.${name}`, message: STDIO_REFUSED_IN_PRODUCTION })));
  }
  return `warning: \`${ALLOW_STDIO_UPSTREAMS}=1\`: the stdio upstream${stdio.length > 1 ? 's' : ''} ${stdio.map((n) => `\`${n}\``).join(', ')} run${stdio.length > 1 ? '' : 's'} as the worker's user and can read the worker's secrets (its environment in \`/proc/${process.pid}/environ\`, its key files)`;
}
