/**
 * What a failed request to an upstream server becomes for the agent: its answer dropped as too
 * large (not retried: the server may have acted), the link down or too slow (retryable), the
 * server's own JSON-RPC refusal, or an answer the SDK could not read. The server's stderr is the
 * whole process's, every session's calls included: it goes to the operator's log line, never into
 * the agent's error. Pure.
 */
import { ToolError } from '../tools/errors';
import { describeBytes, tooLargeOf } from './size-limit';

export interface LinkFacts {
  /** The connection is up (a failure while it is not is the link's). */
  readonly up: boolean;
  /** The connection's mark on a message it dropped as too large. */
  readonly tooLargeTag: string;
  /** The server's last stderr lines, as ` (stderr: …)`, or nothing. */
  readonly stderrTail: string;
}

/** The error `what` (a tool in backticks, or a method) fails with, and the line the operator's log gets, if any. */
export function upstreamCallError(server: string, what: string, err: unknown, link: LinkFacts): { readonly error: ToolError; readonly log?: string } {
  const message = err instanceof Error ? err.message : String(err);
  const tooLarge = tooLargeOf(err, link.tooLargeTag);
  if (tooLarge) {
    // The server answered (and may have acted); the answer is dropped: running the call again would only drop it again.
    const size = tooLarge.bytes !== undefined ? `a message of ${tooLarge.bytes} bytes, over` : 'a message over';
    const error = new ToolError('UpstreamResultTooLarge', `upstream server \`${server}\` answered ${what} with ${size} the limit of ${describeBytes(tooLarge.limitBytes)}: the answer was dropped`, {
      retryable: false,
      details: { ...tooLarge },
      cause: err,
    });
    return { error };
  }
  const code = (err as { code?: unknown }).code;
  // -32000 connection closed, -32001 request timeout (the SDK's McpError codes).
  if (code === -32000 || code === -32001 || !link.up) {
    const why = code === -32001 ? 'did not answer in time' : 'closed the connection';
    const error = new ToolError('UpstreamUnavailable', `upstream server \`${server}\` ${why} during ${what}: ${message}`, { retryable: true, cause: err });
    return link.stderrTail ? { error, log: `upstream \`${server}\` ${why} during ${what}${link.stderrTail}` } : { error };
  }
  if (typeof code === 'number') {
    // A JSON-RPC error the server sent (unknown tool, invalid params): its answer, not a fault of the link.
    return { error: new ToolError('UpstreamError', `upstream server \`${server}\` refused ${what}: ${message}`, { cause: err }) };
  }
  // Anything else is an answer the SDK could not read (not a CallToolResult, bad structured content).
  return { error: new ToolError('UpstreamProtocolError', `upstream server \`${server}\` answered ${what} with an invalid result: ${firstLine(message)}`, { cause: err }) };
}

export function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
