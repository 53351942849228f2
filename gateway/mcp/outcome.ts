/**
 * How a proposal's outcome reads as an MCP tool result. Executed: the tool's result (an upstream
 * MCP tool's own content blocks, as its server gave them). Denied,
 * failed, expired: a tool error (`isError: true`) carrying the rules and messages. Held for
 * approval: a normal, structured result naming the approval id to wait on.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { PendingApprovalView, ProposeResult } from '../../workflows/contract';
import { AWAIT_APPROVAL_TOOL, DECLARE_INTENT_TOOL } from './tools';

function result(structured: Record<string, unknown>, text: string, isError: boolean): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured, ...(isError ? { isError: true } : {}) };
}

function reasonLines(r: ProposeResult): string {
  return r.decision.reasons.map((x) => `- ${x.rule}: ${x.message}`).join('\n');
}

/** The content blocks of an upstream MCP tool's result (`{ content: [{ type, … }], structuredContent? }`), else undefined. */
function upstreamContent(value: unknown): CallToolResult['content'] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (!keys.includes('content') || keys.some((k) => k !== 'content' && k !== 'structuredContent')) return undefined;
  const content = (value as { content: unknown }).content;
  if (!Array.isArray(content) || content.length === 0) return undefined;
  if (!content.every((c) => c !== null && typeof c === 'object' && typeof (c as { type?: unknown }).type === 'string')) return undefined;
  return content as CallToolResult['content'];
}

/** The final outcome of a proposal. */
export function outcomeResult(r: ProposeResult): CallToolResult {
  const base = {
    status: r.status,
    sequence: r.sequence,
    verdict: r.decision.verdict,
    tier: r.decision.tier,
    reasons: r.decision.reasons.map((x) => ({ rule: x.rule, message: x.message })),
    ...(r.approvalId ? { approvalId: r.approvalId } : {}),
  };
  switch (r.status) {
    case 'executed': {
      // An upstream MCP tool's result is already MCP content: the agent gets the server's own blocks.
      const upstream = upstreamContent(r.result);
      if (upstream) return { content: upstream, structuredContent: { ...base, result: r.result ?? null } };
      return result({ ...base, result: r.result ?? null }, JSON.stringify(r.result ?? null, null, 2), false);
    }
    case 'denied':
      return result(base, `Denied by Gatehouse policy:\n${reasonLines(r)}`, true);
    case 'expired':
      return result(base, `Nobody approved the call in time (approval \`${r.approvalId ?? '?'}\` expired), so it did not run:\n${reasonLines(r)}`, true);
    case 'failed':
      return result({ ...base, ...(r.error ? { error: r.error } : {}) }, `The call ran and failed: ${r.error ? `${r.error.type}: ${r.error.message}` : 'no error detail'}`, true);
  }
}

/** A call waiting for a person: not an error; the agent waits with `gatehouse_await_approval`. */
export function heldResult(p: PendingApprovalView): CallToolResult {
  return result(
    { status: 'held', approvalId: p.approvalId, tool: p.tool, groups: [...p.groups], approversRequired: p.approversRequired, deadline: p.deadline },
    `held for approval \`${p.approvalId}\`: \`${p.tool}\` has not run, and runs only if ${p.approversRequired} of ${p.groups.join(', ')} approve it before ${p.deadline} (otherwise it is denied). Call \`${AWAIT_APPROVAL_TOOL}\` with {"approvalId": "${p.approvalId}"} to wait for the outcome.`,
    false,
  );
}

/** A refusal by the MCP layer itself (no intent yet, bad arguments to Gatehouse's own tools, …). */
export function refusal(rule: string, message: string, extra: Record<string, unknown> = {}): CallToolResult {
  return result({ status: 'refused', reasons: [{ rule, message }], ...extra }, `${rule}: ${message}`, true);
}

export const NO_INTENT_MESSAGE = `declare your intent first: call \`${DECLARE_INTENT_TOOL}\` with {"intent": "<what you are going to do>"} (or send the \`X-Gatehouse-Intent\` header). Until then no tool runs: your session starts with the intent you declare.`;
