/**
 * `gatehouse demo <scenario> [--approve] [--json]`: a scripted agent against the sample tools of
 * a running stack (`npm start` in another terminal), ending with the trace of its sessions.
 */
import type { Command } from 'commander';
import { Pool } from 'pg';
import { SCENARIOS, findScenario, runDemo } from '../../demo';
import { checkSampleDatabase, sampleDatabaseUrl } from '../../demo/context';
import { resetSampleProduction } from '../../activities/tools/sample/restore';

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
    .argument('[scenario]', `one of: ${SCENARIOS.map((s) => s.name).join(', ')}; or \`reset\`: the sample production data as first seeded`)
    .option('--approve', 'the approver approves held calls (default: denies them)')
    .option('--json', 'print one JSON document (story, facts and traces) instead of the story')
    .addHelpText('after', `\nScenarios:\n${listing()}\n\nStart the stack first: npm start`)
    .action(async (name: string | undefined, flags: DemoFlags) => {
      if (!name) {
        if (flags.json) process.stdout.write(`${JSON.stringify(SCENARIOS.map((s) => ({ name: s.name, summary: s.summary })), null, 2)}\n`);
        else process.stdout.write(`Scenarios (gatehouse demo <name> [--approve] [--json]):\n${listing()}\n`);
        return;
      }
      if (name === 'reset') {
        process.exitCode = await resetDemoData();
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

/**
 * `gatehouse demo reset`: empties the sample production tables and seeds them again. Only the
 * sample database: one that `GATEHOUSE_PRODUCTION_DATABASE_URL` names without the seed's marker is
 * refused before anything is written (the reset re-checks under its lock).
 */
async function resetDemoData(): Promise<number> {
  let pool: Pool | undefined;
  try {
    const url = sampleDatabaseUrl();
    pool = new Pool({ connectionString: url, max: 1 });
    const { embedded } = await checkSampleDatabase(pool, url);
    const r = await resetSampleProduction(pool, { embedded });
    process.stdout.write(`sample production data reset: ${r.testRecords.toLocaleString('en-US')} test billing records in ${r.testMonth}, every volume mounted as seeded\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`gatehouse: demo reset failed: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await pool?.end();
  }
}
