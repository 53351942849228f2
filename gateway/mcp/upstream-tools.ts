/**
 * The tools of upstream MCP servers in the gateway's `tools/list`. The worker publishes what each
 * server lists (`audit/upstream-listing.ts`); the gateway reads that table, so it never holds an
 * upstream's credentials nor connects to one. Input schemas are shown as the upstream gave them.
 *
 * A session sees only the upstream tools its own policy classifies: any other is unknown to it,
 * hence always denied, so listing it would offer a tool the agent can never call. The session's
 * policy is the snapshot it started with: its hash comes from the workflow's state view, its
 * document from the session's row in the audit trail (written at start, never changed).
 */
import type { Pool } from 'pg';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { UnknownSessionError } from '../../audit/errors';
import { getSession } from '../../audit/queries';
import { readUpstreamTools, type PublishedUpstreamTool } from '../../audit/upstream-listing';
import { upstreamRuleFor, type PolicyDocument } from '../../policies';
import { DECLARE_INTENT_TOOL } from './tools';
import { publishedUpstreamSubjects, type UpstreamSubjects } from './upstream-subjects';

/** The session a listing is for: its id and the hash of its policy (the state view's `policyHash`). */
export interface ListingSession {
  readonly sessionId: string;
  readonly policyHash: string;
}

/**
 * Where `tools/list` gets the upstream tools a session's policy classifies from; `subjects`, when
 * set, serves the upstreams' resources, templates and prompts (`./upstream-subjects.ts`).
 */
export type UpstreamToolSource = ((session: ListingSession) => Promise<readonly Tool[]>) & { readonly subjects?: UpstreamSubjects };

/** Reads a session's policy document (cached by hash); undefined when it cannot be read (nothing is listed then). */
export type PolicyOf = (session: ListingSession) => Promise<PolicyDocument | undefined>;

/** The MCP view of one published upstream tool. */
export function upstreamMcpTool(t: PublishedUpstreamTool): Tool {
  const server = t.name.slice(0, t.name.indexOf('.'));
  const own = t.description.trim().replace(/\.$/, '');
  return {
    name: t.name,
    description: `${own ? `${own}. ` : ''}Tool of the MCP server \`${server}\`, gated by Gatehouse: its policy classifies the tool, and a call runs, waits for a human, or is refused; declare your intent with \`${DECLARE_INTENT_TOOL}\` first.`,
    inputSchema: { type: 'object', ...t.inputSchema } as Tool['inputSchema'],
    annotations: {
      title: t.name,
      ...(t.readOnlyHint !== undefined ? { readOnlyHint: t.readOnlyHint } : {}),
      ...(t.destructiveHint !== undefined ? { destructiveHint: t.destructiveHint } : {}),
    },
  };
}

/** The published tools a policy classifies (the others it denies as unknown). */
export function classifiedUpstreamTools(policy: PolicyDocument, published: readonly PublishedUpstreamTool[]): Tool[] {
  return published.filter((t) => upstreamRuleFor(policy, t.name) !== undefined).map(upstreamMcpTool);
}

export interface PublishedUpstreamToolsOptions {
  /** How long a read of the published lists is reused. @default 1000 */
  readonly ttlMs?: number;
  /** How long to wait for a just-started session's row (the workflow records it right after loading its policy). @default 10000 */
  readonly sessionRowWaitMs?: number;
}

/**
 * Reads the published tools (at most once per `ttlMs`; a read that fails shows the last good
 * list) and keeps those the session's policy classifies. Policies are cached by hash: a hash
 * names one document. A session whose policy cannot be read is shown no upstream tool.
 */
export function publishedUpstreamTools(pool: Pool, options: PublishedUpstreamToolsOptions = {}): UpstreamToolSource {
  const ttlMs = options.ttlMs ?? 1_000;
  const rowWaitMs = options.sessionRowWaitMs ?? 10_000;
  let cached: { at: number; tools: readonly PublishedUpstreamTool[] } = { at: -Infinity, tools: [] };
  let pending: Promise<readonly PublishedUpstreamTool[]> | undefined;
  const published = async (): Promise<readonly PublishedUpstreamTool[]> => {
    if (performance.now() - cached.at < ttlMs) return cached.tools;
    pending ??= readUpstreamTools(pool)
      .then((rows) => {
        cached = { at: performance.now(), tools: rows };
        return cached.tools;
      })
      .catch(() => cached.tools)
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  const policyOf = sessionPolicies(pool, rowWaitMs);
  const tools = async (s: ListingSession) => {
    const [published_, policy] = await Promise.all([published(), policyOf(s)]);
    return policy ? classifiedUpstreamTools(policy, published_) : [];
  };
  return Object.assign(tools, { subjects: publishedUpstreamSubjects(pool, policyOf, { ttlMs }) });
}

/** How many sessions' policies the gateway keeps (the newest read): one read per session listing tools. */
const SESSION_POLICIES_KEPT = 1_000;

/**
 * A session's policy as the worker recorded it at start (its row in the audit trail), cached by
 * session. Not by policy hash: the hash sorts keys, and two orders of one document's globs (a row
 * from before `policy_json`, read back reordered) mean different tiers (the first matching glob wins).
 */
export function sessionPolicies(pool: Pool, rowWaitMs: number): PolicyOf {
  const policies = new Map<string, PolicyDocument>();
  return async (s: ListingSession): Promise<PolicyDocument | undefined> => {
    const known = policies.get(s.sessionId);
    if (known) return known;
    const until = performance.now() + rowWaitMs;
    for (;;) {
      try {
        // The worker's own parsed document, recorded by the workflow at start.
        const { policy } = await getSession(pool, s.sessionId);
        if (typeof policy !== 'object' || policy === null) return undefined; // fail closed: nothing is listed
        if (policies.size >= SESSION_POLICIES_KEPT) policies.delete(policies.keys().next().value!);
        policies.set(s.sessionId, policy as PolicyDocument);
        return policy as PolicyDocument;
      } catch (err) {
        if (!(err instanceof UnknownSessionError) || performance.now() >= until) return undefined;
        await new Promise((resolve) => setTimeout(resolve, 50)); // the start record is being written
      }
    }
  };
}
