/**
 * The `gatehouse` command. Each subcommand family lives in its own module under `commands/`
 * and registers itself on the program.
 */
import { Command } from 'commander';
import { registerStart } from './commands/start';
import { registerPolicy } from './commands/policy';
import { registerAudit } from './commands/audit';
import { registerApprovals } from './commands/approvals';
import { registerSessionControl } from './commands/session-control';
import { registerDemo } from './commands/demo';

const program = new Command()
  .name('gatehouse')
  .description('A deterministic gate between autonomous AI agents and production')
  .showHelpAfterError();

registerStart(program);
registerPolicy(program);
registerAudit(program);
registerApprovals(program);
registerSessionControl(program);
registerDemo(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exitCode = process.exitCode || 1;
});
