/**
 * The upstream MCP servers of a deployment: the `mcp.upstreams` section of the Gatehouse
 * configuration file (`gatehouse.yaml`, path from `GATEHOUSE_CONFIG` or `--config`), validated
 * with zod. Each server is a stdio command or a Streamable HTTP URL; its environment and headers
 * (the upstream's credentials) stay in the worker, never with the agent. `${NAME}` in an `env` or
 * `headers` value is read from the worker's environment when the file is loaded.
 *
 * ```yaml
 * mcp:
 *   upstreams:
 *     filesystem:
 *       command: npx
 *       args: [-y, "@modelcontextprotocol/server-filesystem", /srv/scratch]
 *       sensitive: { write_file: [content] }
 *     search:
 *       url: https://mcp.example.com/mcp
 *       headers: { Authorization: "Bearer ${SEARCH_TOKEN}" }
 *     browser:
 *       command: npx
 *       args: [-y, "@playwright/mcp"]
 *       isolate: agent          # each root agent its own browser: pages and cookies are not shared
 * ```
 * Node-only.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';

/** A server's name: the prefix of its tools' names (`<server>.<tool>`). */
export const SERVER_NAME = /^[a-z][a-z0-9_-]{0,39}$/;

const text = (what: string) => z.string({ invalid_type_error: `expected ${what}`, required_error: `expected ${what}` }).min(1, { message: `expected ${what}` });
const stringMap = (what: string) => z.record(z.string({ invalid_type_error: `expected ${what}` }), { invalid_type_error: `expected a map of ${what}s` });

const common = {
  /**
   * Upper bound of one call, in ms. At most 10 000, a call runs as a local activity inside the
   * session's workflow task (fastest); above, as a regular activity that heartbeats. @default 30 000
   */
  timeoutMs: z.number({ invalid_type_error: 'expected a whole number of milliseconds' }).int().min(1).max(3_600_000).default(30_000),
  /** Attempts of a call when the policy classifies the tool as idempotent (otherwise 1). @default 3 */
  maxAttempts: z.number({ invalid_type_error: 'expected a whole number of attempts' }).int().min(1).max(10).default(3),
  /**
   * Whose connection a call goes over. `none`: one connection for every agent (one upstream MCP
   * session; over stdio one process), so what the server keeps per session or process is shared.
   * `agent`: one per root agent, opened on its first call and closed when idle or when more are
   * open than `MAX_AGENT_CONNECTIONS` (`agent-connections.ts`). @default none
   */
  isolate: z.enum(['none', 'agent'], { errorMap: () => ({ message: 'expected `none` or `agent`' }) }).optional(),
  /** Argument paths redacted in the audit trail and logs, per tool name on the server (`write_file: [content]`). */
  sensitive: z.record(text('a tool name'), z.array(text('an argument path'), { invalid_type_error: 'expected a list of argument paths' }), { invalid_type_error: 'expected a map of tool name to argument paths' }).default({}),
};

const stdioSchema = z
  .object({
    command: text('a command'),
    args: z.array(z.string({ invalid_type_error: 'expected a string' }), { invalid_type_error: 'expected a list of arguments' }).default([]),
    env: stringMap('environment value').default({}),
    cwd: text('a folder').optional(),
    ...common,
  })
  .strict();

const httpSchema = z
  .object({
    url: text('a URL').refine((u) => /^https?:\/\//.test(u) && URL.canParse(u), { message: 'expected an http(s) URL' }),
    headers: stringMap('header value').default({}),
    ...common,
  })
  .strict();

const serverSchema = z.unknown().superRefine((v, ctx) => {
  // One message that says which two shapes are accepted, then the chosen shape's own issues.
  const isMap = v !== null && typeof v === 'object' && !Array.isArray(v);
  const hasCommand = isMap && 'command' in v;
  const hasUrl = isMap && 'url' in v;
  if (!isMap || hasCommand === hasUrl) {
    ctx.addIssue({ code: 'custom', message: 'expected a stdio server `{ command, args?, env?, cwd? }` or a Streamable HTTP server `{ url, headers? }`' });
    return;
  }
  const r = (hasCommand ? stdioSchema : httpSchema).safeParse(v);
  if (!r.success) for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as z.IssueData);
}).transform((v) => (v !== null && typeof v === 'object' && 'command' in v ? stdioSchema.parse(v) : httpSchema.parse(v)));

export const upstreamConfigSchema = z
  .object(
    {
      mcp: z
        .object({ upstreams: z.record(z.string(), serverSchema, { invalid_type_error: 'expected a map of server name to server' }).default({}) }, { invalid_type_error: 'expected a map with `upstreams`' })
        .strict()
        .default({}),
    },
    { invalid_type_error: 'expected a configuration document (a map)' },
  )
  .passthrough()
  .superRefine((doc, ctx) => {
    for (const name of Object.keys(doc.mcp.upstreams)) {
      if (!SERVER_NAME.test(name)) ctx.addIssue({ code: 'custom', path: ['mcp', 'upstreams', name], message: 'expected a server name of lower-case letters, digits, `_` and `-`, starting with a letter' });
    }
  });

export type StdioUpstream = z.output<typeof stdioSchema>;
export type HttpUpstream = z.output<typeof httpSchema>;
export type UpstreamServerConfig = StdioUpstream | HttpUpstream;

/** One upstream server, named. */
export type NamedUpstream = UpstreamServerConfig & { readonly name: string };

export function isStdio(server: UpstreamServerConfig): server is StdioUpstream {
  return 'command' in server;
}

/** One problem of a configuration file, with its path. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

/** Thrown when the configuration file is missing, unreadable or invalid; nothing is loaded then. */
export class UpstreamConfigError extends Error {
  readonly type = 'UpstreamConfigError';
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(`invalid configuration \`${file}\`: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'UpstreamConfigError';
  }
}

/** Parses configuration text (YAML or JSON); relative `cwd`s are resolved against `baseDir`. */
export function parseUpstreamConfig(textIn: string, file: string, env: NodeJS.ProcessEnv = process.env, baseDir: string = dirname(resolve(file))): NamedUpstream[] {
  const doc = parseDocument(textIn, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new UpstreamConfigError(file, doc.errors.map((e) => ({ path: '', message: `invalid YAML: ${e.message.split('\n')[0]!.toLowerCase()}` })));
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  const parsed = upstreamConfigSchema.safeParse(data);
  if (!parsed.success) {
    throw new UpstreamConfigError(file, parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })));
  }
  const issues: ConfigIssue[] = [];
  const expand = (value: string, path: string) =>
    value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) issues.push({ path, message: `\`${name}\` is not set in the worker's environment` });
      return v ?? '';
    });
  const out: NamedUpstream[] = Object.entries(parsed.data.mcp.upstreams).map(([name, server]) => {
    const at = `mcp.upstreams.${name}`;
    if (isStdio(server)) {
      const envOut = Object.fromEntries(Object.entries(server.env).map(([k, v]) => [k, expand(v, `${at}.env.${k}`)]));
      return { ...server, name, env: envOut, ...(server.cwd ? { cwd: isAbsolute(server.cwd) ? server.cwd : resolve(baseDir, server.cwd) } : {}) };
    }
    const headers = Object.fromEntries(Object.entries(server.headers).map(([k, v]) => [k, expand(v, `${at}.headers.${k}`)]));
    return { ...server, name, headers };
  });
  if (issues.length > 0) throw new UpstreamConfigError(file, issues);
  return out;
}

/** Reads and parses the configuration file. */
export function loadUpstreamConfig(file: string, env: NodeJS.ProcessEnv = process.env): NamedUpstream[] {
  let textIn: string;
  try {
    textIn = readFileSync(file, 'utf8');
  } catch (err) {
    throw new UpstreamConfigError(file, [{ path: '', message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parseUpstreamConfig(textIn, file, env);
}
