/**
 * The `gatehouse` program: its command families and the commander program they register on.
 * `main.ts` runs it; the docs test walks it to check every command a page quotes.
 */
import { Command } from 'commander';

type Register = (program: Command) => void;

/** A command family: the first words that select it, and how to load its module. */
export interface CommandFamily {
  readonly words: readonly string[];
  readonly load: () => Register;
}

/** Command family modules, and the first words that select each. */
export const FAMILIES: readonly CommandFamily[] = [
  { words: ['start'], load: () => require('./commands/start').registerStart },
  { words: ['policy'], load: () => require('./commands/policy').registerPolicy },
  { words: ['sessions', 'trace', 'audit', 'backtest'], load: () => require('./commands/audit').registerAudit },
  { words: ['approvals'], load: () => require('./commands/approvals').registerApprovals },
  { words: ['replay', 'pause', 'resume', 'halt', 'budget'], load: () => require('./commands/session-control').registerSessionControl },
  { words: ['approvers', 'operators'], load: () => require('./commands/invite').registerInvites },
  { words: ['keys'], load: () => require('./commands/keys').registerKeys },
  { words: ['agents'], load: () => require('./commands/agents').registerAgents },
  { words: ['demo'], load: () => require('./commands/demo').registerDemo },
  { words: ['mcp'], load: () => require('./commands/mcp').registerMcpCommand },
  { words: ['intent'], load: () => require('./commands/intent').registerIntent },
];

const { version } = require('../package.json') as { version: string };

/** The program with the given families registered (all of them when none are named). */
export function buildProgram(families: readonly CommandFamily[] = FAMILIES): Command {
  const program = new Command()
    .name('gatehouse')
    .description('A deterministic gate between autonomous AI agents and production')
    .version(version, '-V, --version', 'print the gatehouse version')
    .showHelpAfterError();
  for (const family of families) family.load()(program);
  return program;
}
