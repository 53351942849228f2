/**
 * `gatehouse demo <scenario> [--approve] [--json]`: a scripted agent against the sample tools of
 * a running stack (`npm start` in another terminal), ending with the trace of its sessions.
 */
import type { Command } from 'commander';
import { SCENARIOS, findScenario, runDemo } from '../../demo';

interface DemoFlags {
  readonly approve?: boolean;
  readonly json?: boolean;
}

function listing(): string {
  const width = Math.max(...SCENARIOS.map((s) => s.name.length));
  return SCENARIOS.map((s) => `  ${s.name.padEnd(width)}  ${s.summary}`).join('\n');
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run a scripted agent against the sample tools of a running gatehouse')
    .argument('[scenario]', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}`)
    .option('--approve', 'the approver approves held calls (default: denies them)')
    .option('--json', 'print one JSON document (story, facts and traces) instead of the story')
    .addHelpText('after', `\nScenarios:\n${listing()}\n\nStart the stack first: npm start`)
    .action(async (name: string | undefined, flags: DemoFlags) => {
      if (!name) {
        if (flags.json) process.stdout.write(`${JSON.stringify(SCENARIOS.map((s) => ({ name: s.name, summary: s.summary })), null, 2)}\n`);
        else process.stdout.write(`Scenarios (gatehouse demo <name> [--approve] [--json]):\n${listing()}\n`);
        return;
      }
      findScenario(name); // an unknown name fails before anything connects
      let code = 0;
      try {
        const report = await runDemo(name, { approve: flags.approve === true, json: flags.json === true });
        if (flags.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } catch (err) {
        process.stderr.write(`gatehouse: demo \`${name}\` failed: ${err instanceof Error ? err.message : String(err)}\n`);
        code = 1;
      }
      // An agent's call still in flight (a long-poll of an update) must not keep the command alive.
      process.stdout.write('', () => process.exit(code));
    });
}
