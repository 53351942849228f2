/**
 * The `gatehouse` command. Each subcommand family lives in its own module under `commands/`
 * and registers itself on the program (`program.ts`).
 *
 * Only the family named on the command line is loaded: the families pull in Temporal, pg and
 * Slack, and `gatehouse policy check` should not pay for all three.
 */
import { shownText } from '../approvals/shown-text';
import { buildProgram, FAMILIES } from './program';

const first = process.argv[2];
const selected = FAMILIES.filter((family) => first !== undefined && family.words.includes(first));
// Help, or a word no family owns: load them all so commander can list or suggest.
const program = buildProgram(selected.length > 0 ? selected : FAMILIES);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  // An error can quote what an agent wrote (a session id, a tool name): no control character reaches the terminal.
  process.stderr.write(`gatehouse: ${shownText(message)}\n`);
  process.exitCode = process.exitCode || 1;
});
