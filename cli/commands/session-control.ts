/**
 * Session control from the command line: replay a history against today's workflow code, pause
 * and resume a fleet of sessions during an incident, raise one session's budget, halt one session
 * (the kill switch).
 *
 *   gatehouse replay <workflowId>... | --file <history.json>
 *   gatehouse pause  --agent <id> | --tool <name> | --all  [--by <who>] [--reason text]   (--by defaults to your user name;
 *                    --agent is a root agent: its sub-agents `<id>/<name>` pause with it)
 *   gatehouse resume --agent <id> | --tool <name> | --all  [--as <operator>] [--reason text]
 *   gatehouse budget raise <sessionId> [--actions N] [--writes N] [--critical N] [--tokens N] --as <operator> [--reason text]
 *   gatehouse halt <sessionId> --by <who> --reason <text>
 *
 * Stopping (pause, halt) needs no signature. What loosens a gate (resume, budget raise) is signed
 * with an operator key, one signed decision per session, which the session verifies.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { shownLine } from '../../approvals/shown-text';
import { Gatehouse, type FleetSelector } from '../../client';
import { loadConfig } from '../../client/config';
import type { BudgetOverride } from '../../workflows/contract';
import type { ReplayOutcome } from '../../worker/replay';
import { CommandError } from '../command-error';
import { processIo, type CommandIo } from '../command-io';
import { rootAgentOf } from '../../policies/agent-id';
import { operatorKey } from '../operator-keys';

/** Bad options of a session-control command. */
export class SessionControlError extends CommandError {
  constructor(message: string) {
    super('SessionControlError', message);
  }
}

interface FleetOptions {
  readonly agent?: string;
  readonly tool?: string;
  readonly all?: boolean;
  readonly by?: string;
  readonly as?: string;
  readonly reason?: string;
  readonly json?: boolean;
}

interface BudgetOptions {
  readonly actions?: string;
  readonly writes?: string;
  readonly critical?: string;
  readonly tokens?: string;
  readonly as: string;
  readonly reason?: string;
  readonly json?: boolean;
}

/** The limits given on the command line, each a whole number; at least one. */
function budgetOf(o: BudgetOptions): BudgetOverride {
  const out: Record<string, number> = {};
  for (const name of ['actions', 'writes', 'critical', 'tokens'] as const) {
    const text = o[name];
    if (text === undefined) continue;
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new SessionControlError(`\`--${name}\` must be a whole number, got \`${text}\``);
    out[name] = n;
  }
  if (Object.keys(out).length === 0) throw new SessionControlError('give at least one of `--actions`, `--writes`, `--critical` or `--tokens`');
  return out;
}

function selector(o: FleetOptions): FleetSelector {
  const given = [o.agent !== undefined, o.tool !== undefined, o.all === true].filter(Boolean).length;
  if (given !== 1) throw new SessionControlError('choose exactly one of `--agent <id>`, `--tool <name>` or `--all`');
  if (o.agent !== undefined) {
    // Fleet controls act on the root agent (the credential's): its sub-agents' sessions carry its id.
    if (rootAgentOf(o.agent) !== o.agent) throw new SessionControlError(`\`--agent\` names a root agent, whose sub-agents it reaches too: give \`${rootAgentOf(o.agent)}\`, or halt one sub-agent's session by its id`);
    return { agentId: o.agent };
  }
  if (o.tool !== undefined) return { tool: o.tool };
  return { all: true };
}

function defaultActor(): string {
  try {
    return userInfo().username;
  } catch {
    return 'cli';
  }
}

async function withClient<T>(fn: (gh: Gatehouse) => Promise<T>): Promise<T> {
  const gh = await Gatehouse.connect();
  try {
    return await fn(gh);
  } finally {
    await gh.close();
  }
}

/**
 * Registers the session-control commands; `io` is injected so tests run them in-process. What they
 * print goes through it, escaped as every command's output is: a history file chooses the workflow
 * id `replay --file` names, and the server's answers name sessions agents started.
 */
export function registerSessionControl(program: Command, io: CommandIo = processIo): void {
  program
    .command('replay')
    .description("replay sessions' workflow histories against today's workflow code (bundled once); non-zero exit on non-determinism")
    .argument('[workflowIds...]', 'workflow ids of sessions on the server (`session-<sessionId>`)')
    .option('--file <history.json>', 'a JSON history file (`temporal workflow show --output json`, the Web UI export)')
    .option('--json', 'print each outcome as a line of JSON')
    .action(async (workflowIds: string[], o: { file?: string; json?: boolean }) => {
      if ((workflowIds.length === 0) === (o.file === undefined)) throw new SessionControlError('give workflow ids or `--file <history.json>`, not both');
      // Loaded lazily: the replayer pulls in the worker and the bundler.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { bundleTodaysWorkflows, replayFile, replayWorkflows } = require('../../worker/replay') as typeof import('../../worker/replay');
      const { Runtime } = require('@temporalio/worker') as typeof import('@temporalio/worker');
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { escapedRuntimeLogging } = require('../../worker/escaped-logger') as typeof import('../../worker/escaped-logger');
      try {
        // A history's text is an agent's (workflow ids, inputs): what the SDK logs of it is escaped.
        Runtime.install(escapedRuntimeLogging('WARN'));
      } catch {
        // already installed
      }
      const report = (outcome: ReplayOutcome, file?: string) => {
        // With `--file`, the workflow id is the one the file's own start input derives: the file is named beside it.
        const id = `\`${shownLine(outcome.workflowId)}\`${file !== undefined ? ` (history file \`${shownLine(file)}\`)` : ''}`;
        if (o.json) io.out(JSON.stringify(file !== undefined ? { ...outcome, file } : outcome));
        else if (outcome.ok) io.out(`replayed ${id}: deterministic against today's workflow code`);
        else io.out(`replay of ${id} failed: ${outcome.kind === 'nondeterminism' ? 'non-determinism' : 'error'}: ${outcome.message}`);
        if (!outcome.ok) process.exitCode = 1;
      };
      if (o.file !== undefined) {
        report(await replayFile(o.file), o.file);
        return;
      }
      const workflowBundle = await bundleTodaysWorkflows();
      await withClient(async (gh) => {
        for await (const outcome of replayWorkflows(gh.client, workflowIds, { workflowBundle })) report(outcome);
      });
    });

  for (const pause of [true, false]) {
    const command = program
      .command(pause ? 'pause' : 'resume')
      .description(
        pause
          ? 'pause every matching running session: proposals wait, nothing is lost (`--tool`: only that tool waits, in every session)'
          : 'let paused sessions go on: signed with an operator key, which each session verifies',
      )
      .option('--agent <id>', 'sessions of this agent')
      .option('--tool <name>', 'proposals of this tool, in every running session')
      .option('--all', 'every running session');
    if (pause) command.option('--by <who>', 'who does it (recorded in the audit trail)');
    else command.option('--as <operator>', 'the operator key to sign with (default: your only operator key, else the development stack\'s)');
    command
      .option('--reason <text>', 'why (recorded in the audit trail)')
      .option('--json', 'print the session ids as JSON')
      .action(async (o: FleetOptions) => {
        const sel = selector(o);
        // The key is found before anything is sent: a missing key changes nothing.
        const key = pause ? undefined : operatorKey(o.as);
        const ids = await withClient((gh) => (key ? gh.resume(sel, { key, ...(o.reason ? { reason: o.reason } : {}) }) : gh.pause(sel, o.by ?? defaultActor(), o.reason)));
        if (o.json) io.out(JSON.stringify({ sessions: ids }));
        else io.out(`${pause ? 'paused' : `resumed (signed by \`${key!.principal}\`)`} ${ids.length} session${ids.length === 1 ? '' : 's'}${ids.length ? `: ${ids.map(shownLine).join(', ')}` : ''}`);
      });
  }

  program
    .command('budget')
    .description('session budgets')
    .command('raise')
    .description("raise one session's budget limits: signed with an operator key, which the session verifies")
    .argument('<sessionId>', 'the session whose budget is raised')
    .option('--actions <n>', 'actions in the window')
    .option('--writes <n>', 'writes in the window')
    .option('--critical <n>', 'critical (destructive or approval-tier) calls in the window')
    .option('--tokens <n>', 'the token cost cap')
    .requiredOption('--as <operator>', 'the operator key to sign with')
    .option('--reason <text>', 'why (recorded in the audit trail)')
    .option('--json', 'print the outcome as JSON')
    .action(async (sessionId: string, o: BudgetOptions) => {
      const budget = budgetOf(o);
      const key = operatorKey(o.as);
      await withClient((gh) => gh.raiseBudget(sessionId, budget, { key, ...(o.reason ? { reason: o.reason } : {}) }));
      if (o.json) io.out(JSON.stringify({ sessionId, budget, signedBy: key.principal }));
      else io.out(`sent a budget raise for session \`${shownLine(sessionId)}\` signed by \`${key.principal}\`: ${Object.entries(budget).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    });

  program
    .command('halt')
    .description('the kill switch: nothing more runs in the session, pending approvals are cancelled, the session closes')
    .argument('<sessionId>', 'the session to halt')
    .requiredOption('--by <who>', 'who halts it')
    .requiredOption('--reason <text>', 'why')
    .option('--json', 'print the outcome as JSON')
    .action(async (sessionId: string, o: { by: string; reason: string; json?: boolean }) => {
      await withClient((gh) => gh.halt(sessionId, { by: o.by, reason: o.reason }));
      if (o.json) io.out(JSON.stringify({ sessionId, halted: true }));
      else io.out(`halted session \`${shownLine(sessionId)}\` (task queue ${loadConfig().taskQueue})`);
    });
}
