/**
 * The `gatehouse` command. Each subcommand family lives in its own module under `commands/`
 * and registers itself on the program.
 *
 * Only the family named on the command line is loaded: the families pull in Temporal, pg and
 * Slack, and `gatehouse policy check` should not pay for all three.
 */
import { Command } from 'commander';

type Register = (program: Command) => void;

/** Command family modules, and the first words that select each. */
const FAMILIES: ReadonlyArray<{ readonly words: readonly string[]; readonly load: () => Register }> = [
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

const program = new Command()
  .name('gatehouse')
  .description('A deterministic gate between autonomous AI agents and production')
  .version(version, '-V, --version', 'print the gatehouse version')
  .showHelpAfterError();

const first = process.argv[2];
const selected = FAMILIES.filter((family) => first !== undefined && family.words.includes(first));
// Help, or a word no family owns: load them all so commander can list or suggest.
for (const family of selected.length > 0 ? selected : FAMILIES) family.load()(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exitCode = process.exitCode || 1;
});
