/**
 * Which of an upstream MCP server's listed tool names Gatehouse offers. The MCP spec's tool names
 * are 1 to 128 of ASCII letters, digits, `_`, `-` and `.` (the SDK's `validateToolName` only warns).
 * Anything else is not offered: above all a `/`, since `<server>.resources/read`, `.prompts/get` and
 * `.completion/complete` are Gatehouse's own tools of the server, which the policy judges as reads
 * (`policies/upstream.ts`); a server's own tool of that name would be judged as one.
 */
import { shownLineAtMost } from '../../approvals/shown-text';

const PLAIN_TOOL_NAME = /^[A-Za-z0-9._-]{1,128}$/;

/** Why the tool named `name` of `server` is not offered (a line for the worker's log), or undefined when it is. */
export function unofferedToolName(server: string, name: string): string | undefined {
  if (PLAIN_TOOL_NAME.test(name)) return undefined;
  const why = name.includes('/')
    ? `a \`/\` in a tool name is kept for Gatehouse's own \`${server}.resources/read\`, \`${server}.prompts/get\` and \`${server}.completion/complete\``
    : 'an MCP tool name is 1 to 128 of letters, digits, `_`, `-` and `.`';
  return `upstream \`${server}\`: tool \`${shownLineAtMost(name, 200)}\` is not offered: ${why}`;
}
