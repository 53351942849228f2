/**
 * Agent and session ids of a session tree. A credential names a root agent (no `/`); a sub-agent's
 * id is `<rootAgentId>/<name>`, so it can never be another agent's, and everything counted per
 * agent (open sessions, rates, `pause --agent`, cross-session ledgers) counts on `rootAgentOf`.
 * A sub-session's id is `<parentSessionId>.<n>`, chosen by the parent. Pure.
 */

/** An agent id a credential may carry: 1 to 120 letters, digits or `._@:-` (never `/`). */
export const AGENT_ID_PATTERN = /^[\w.@:-]{1,120}$/;

/** A sub-agent's own name, after its root's `/`. */
const SUB_AGENT_NAME = /^[\w.@:-]{1,80}$/;

/** The root agent (the credential's) of an agent id: everything before the first `/`. */
export function rootAgentOf(agentId: string): string {
  const cut = agentId.indexOf('/');
  return cut < 0 ? agentId : agentId.slice(0, cut);
}

/**
 * The id of a sub-agent that asked to be `requested`, under `rootAgentId`: `<root>/<name>`. A
 * request already of the form `<root>/<name>` keeps its name; any other `/` is refused.
 */
export function subAgentId(rootAgentId: string, requested: string): { readonly ok: true; readonly agentId: string } | { readonly ok: false; readonly message: string } {
  const prefix = `${rootAgentId}/`;
  const name = requested.startsWith(prefix) ? requested.slice(prefix.length) : requested;
  if (!SUB_AGENT_NAME.test(name)) {
    return { ok: false, message: `a sub-agent is named \`${rootAgentId}/<name>\` with a name of 1 to 80 letters, digits or \`._@:-\`, not \`${requested}\`` };
  }
  return { ok: true, agentId: `${prefix}${name}` };
}

/** The id of the `n`-th sub-session a parent starts (1-based). */
export function subSessionId(parentSessionId: string, n: number): string {
  return `${parentSessionId}.${n}`;
}

/**
 * A session id a top-level start may take: no `:`, the separator of its ledger keys
 * (`<sessionId>:<key>`), so no session's id and key spell another's; and a letter or digit, so it
 * is never `.` or `..`, which a URL path resolves away (the console could not open or halt it).
 */
export const SESSION_ID_PATTERN = /^(?=[\w.-]*[A-Za-z0-9])[\w.-]{1,120}$/;

/** Whether a session id has the form of a sub-session's (`<parent>.<n>`): a top-level start may not take one. */
/** The root session of a session tree: a sub-agent's id is its parent's and `.<n>`, and a root's never ends so. */
export function rootSessionOf(sessionId: string): string {
  return sessionId.replace(/(?:\.\d+)+$/, '');
}

export function hasSubSessionForm(sessionId: string): boolean {
  return /\.\d+$/.test(sessionId);
}
