/**
 * The session workflow's own spans: one per proposal, the policy's first decision, the wait for
 * approvers. They are made with `@opentelemetry/api` inside the workflow sandbox, where the
 * tracer provider is the one `@temporalio/interceptors-opentelemetry` registers when its workflow
 * interceptor module is in the bundle; the spans leave the sandbox through that package's
 * `exporter` sink, which the worker calls only outside replay, so a replay emits nothing twice.
 * Without that module (tracing off) the API is a no-op and these helpers just run their callback.
 *
 * Deterministic: span ids come from the sandbox's seeded `Math.random`, times from the workflow
 * clock, and nothing here changes what the workflow does or records.
 * Attributes never carry argument values, only tool names, ids, verdicts, tiers and rule ids. The
 * tool name is the agent's own spelling (an unknown tool's too): it is shown as one line of at most
 * `MAX_TOOL_ATTRIBUTE_CHARS` (`spanToolName`, with `approvals/shown-text.ts`, pure).
 */
import { SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { shownLineAtMost } from '../approvals/shown-text';
import type { Decision } from '../policies';
import { ATTR, SPAN } from '../telemetry/names';
import type { ApprovalOutcome } from './approval-wait';
import type { ProposeResult } from './contract';

const TRACER = 'gatehouse/workflow';

let cached: ReturnType<typeof trace.getTracer> | undefined;

/**
 * One tracer for every proposal (the API makes a new proxy per `getTracer`); a proxy finds the
 * registered provider on each span, so one made before the tracing module registers it still traces.
 */
function tracer() {
  cached ??= trace.getTracer(TRACER);
  return cached;
}

/** Most characters of the tool name on a proposal span (a catalog's names are far shorter). */
export const MAX_TOOL_ATTRIBUTE_CHARS = 200;

/**
 * The tool name as a span attribute: what `shownLine` shows (each hidden character a `\\uXXXX`
 * escape, so a name cannot break a log line or hide what it is), cut to `MAX_TOOL_ATTRIBUTE_CHARS`.
 */
export function spanToolName(tool: string): string {
  return shownLineAtMost(tool, MAX_TOOL_ATTRIBUTE_CHARS);
}

function decisionAttributes(d: Decision): Record<string, string | string[]> {
  return { [ATTR.verdict]: d.verdict, [ATTR.tier]: d.tier, [ATTR.ruleIds]: d.reasons.map((r) => r.rule), [ATTR.policyHash]: d.policyHash };
}

/**
 * Runs `fn` in an active span that ends when its promise settles (a rejection marks an error).
 * The caller gets `fn`'s own promise back, not a wrapper: no extra microtask turns, so the order
 * in which concurrent handlers issue commands is the same with tracing on, off, or not yet deployed.
 */
function inSpan<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T>, finish: (span: Span, value: T) => void): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, (span) => {
    // Tracing off (a no-op span): nothing to finish when `fn` settles, so no reaction is added.
    if (!span.isRecording()) {
      span.end();
      return fn();
    }
    const running = fn();
    running.then(
      (value) => {
        if (span.isRecording()) finish(span, value);
        span.end();
      },
      (err: unknown) => {
        span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : 'error' });
        span.end();
      },
    );
    return running;
  });
}

/**
 * `gatehouse.proposal`: one proposal of `sessionId`, around the queued step that handles it; its
 * decision, approval wait and tool activity are its children. Ends with the final status and decision.
 */
export function traceProposal<T extends { readonly value: ProposeResult }>(sessionId: string, tool: string, handle: () => Promise<T>): Promise<T> {
  return traceProposalResult(sessionId, tool, handle, (step) => step.value);
}

/** `traceProposal` around a handler that returns the result itself (the lean proposal path). */
export function traceProposalResult<T = ProposeResult>(sessionId: string, tool: string, handle: () => Promise<T>, resultOf: (value: T) => ProposeResult = (v) => v as ProposeResult): Promise<T> {
  return inSpan(SPAN.proposal, { [ATTR.sessionId]: sessionId, [ATTR.tool]: spanToolName(tool) }, handle, (span, value) => {
    const result = resultOf(value);
    span.setAttributes({ [ATTR.status]: result.status, [ATTR.sequence]: result.sequence, ...decisionAttributes(result.decision) });
  });
}

/** `gatehouse.decision`: the policy's first decision on the current proposal, at this instant of workflow time. */
export function traceDecision(decision: Decision): void {
  const span = tracer().startSpan(SPAN.decision);
  if (span.isRecording()) span.setAttributes(decisionAttributes(decision));
  span.end();
}

/** `gatehouse.approval_wait`: from the approval request to its outcome (approved, denied, expired, cancelled). */
export function traceApprovalWait(wait: () => Promise<ApprovalOutcome>): Promise<ApprovalOutcome> {
  return inSpan(SPAN.approvalWait, {}, wait, (span, outcome) => {
    span.setAttributes({
      [ATTR.approvalId]: outcome.approvalId,
      [ATTR.approvalOutcome]: outcome.status,
      [ATTR.approvers]: outcome.approvers.length,
      [ATTR.ruleIds]: outcome.status === 'approved' ? [] : outcome.reasons.map((r) => r.rule),
    });
  });
}
