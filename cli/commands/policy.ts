/**
 * `gatehouse policy check | analyze | eval`: validate a policy document, enumerate the paths from
 * read tools to dangerous ones, and print the decision for one proposal after a given history.
 * The catalog is the sample one unless `--tools <file.json>` gives a ToolInfo list.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { z } from 'zod';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import {
  replayAcrossSessions,
  reserveAcross,
  withLedgerShadow,
  approvalOf,
  unlockOf,
  analyzePaths,
  budgetLeft,
  compilePolicy,
  evaluate,
  parsePolicyText,
  sessionMode,
  type CompiledPolicy,
  type Decision,
  type OutcomeStatus,
  type Proposal,
  type ProposalFacts,
  type ToolInfo,
} from '../../policies';
import { CommandError } from '../command-error';
import { processIo, type CommandIo } from '../command-io';
import { listUpstreamToolInfo } from '../upstream-tools';
import { runCheck, type CheckOptions } from './policy-check';

/** A bad file, bad JSON or bad option given to `gatehouse policy`. */
export class PolicyCommandError extends CommandError {
  constructor(message: string) {
    super('PolicyCommandError', message);
  }
}

export interface CommonOptions {
  readonly json?: boolean;
  readonly tools?: string;
  /** A Gatehouse configuration file: its upstream MCP servers' tools join the catalog. */
  readonly config?: string;
}

/** The catalog plus, with `--config`, the tools its upstream MCP servers list now (problems go to stderr). */
async function toolsWithUpstreams(opts: CommonOptions, io: CommandIo): Promise<readonly ToolInfo[]> {
  const tools = loadTools(opts.tools);
  if (opts.config === undefined) return tools;
  const listed = await listUpstreamToolInfo(opts.config);
  for (const p of listed.problems) io.err(`warning: ${p}`);
  return [...tools, ...listed.tools];
}

export function registerPolicy(program: Command, io: CommandIo = processIo): void {
  const policy = program.command('policy').description('validate, analyse and try out policy documents');

  policy
    .command('check <file>')
    .description('validate a policy document; every problem with its path')
    .option('--json', 'print the result as JSON')
    .option('--tools <file>', 'tool catalog as a JSON list of ToolInfo (default: the sample catalog)')
    .option('--config <file>', 'gatehouse configuration: list its upstream MCP servers\' tools and warn about the ones the policy leaves unclassified')
    .option('--allow-unknown-tools', 'rules naming tools the catalog lacks are warnings, not errors (for a catalog not loaded here)')
    .action(async (file: string, opts: CheckOptions) => runCheck(file, opts, await toolsWithUpstreams(opts, io), io));

  policy
    .command('analyze <file>')
    .description('every path from read tools to destructive or blocked ones, and what the policy does on it')
    .option('--max-length <n>', 'longest path, in tools (2 to 8)', '3')
    .option('--json', 'print the analysis as JSON')
    .option('--tools <file>', 'tool catalog as a JSON list of ToolInfo (default: the sample catalog)')
    .option('--config <file>', 'gatehouse configuration: include its upstream MCP servers\' tools, classified by the policy')
    .action((file: string, opts: CommonOptions & { maxLength: string }) => runAnalyze(file, opts, io));

  policy
    .command('eval')
    .description('the decision for one proposal after a history of proposals and outcomes')
    .requiredOption('--policy <file>', 'policy document (YAML or JSON)')
    .requiredOption('--history <file>', 'past actions, JSON Lines: { at, proposal, status, facts?, intentScore?, session? } (session: another session of the agent)')
    .requiredOption('--proposal <json>', 'the proposal as JSON: { tool, args, reasoning, tokenCost? }')
    .option('--facts <json>', 'facts of the proposal as JSON, e.g. {"blastRadius":14200}')
    .option('--now <iso>', 'evaluation time (default: now)')
    .option('--intent <text>', 'the intent the session declared at its start (what `intent.writesNeedWriteIntent` reads)')
    .option('--json', 'print the Decision as JSON')
    .option('--tools <file>', 'tool catalog as a JSON list of ToolInfo (default: the sample catalog)')
    .action((opts: CommonOptions & { policy: string; history: string; proposal: string; facts?: string; now?: string; intent?: string }) => runEval(opts, io));
}

async function runAnalyze(file: string, opts: CommonOptions & { maxLength: string }, io: CommandIo): Promise<void> {
  const maxLength = Number(opts.maxLength);
  if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > 8) throw new PolicyCommandError(`invalid \`--max-length\`: expected a whole number from 2 to 8, got \`${opts.maxLength}\``);
  const policy = loadPolicy(file, await toolsWithUpstreams(opts, io));
  const analysis = analyzePaths(policy, maxLength);
  if (opts.json) {
    io.out(JSON.stringify(analysis, null, 2));
    return;
  }
  const width = Math.max(0, ...analysis.paths.map((p) => p.tools.join(' → ').length));
  for (const p of analysis.paths) {
    const why = p.steps
      .filter((s) => s.verdict !== 'allow')
      .map((s) => `${s.tool}: ${s.rules.join(', ')}`)
      .join('; ');
    const label = p.status === 'approval' ? 'approval' : p.status;
    io.out(`${label.padEnd(10)} ${p.tools.join(' → ').padEnd(width)}  ${why}${p.unlockable ? ' (unlockable out of band)' : ''}`);
  }
  const s = analysis.summary;
  io.out(`${s.paths} paths, ${s.blocked} blocked, ${s.approval} need approval, ${s.autonomous} autonomous${analysis.truncated ? ' (truncated)' : ''}`);
}

const historyLineSchema = z.object({
  at: z.string().refine((t) => !Number.isNaN(Date.parse(t)), { message: 'expected an ISO time' }),
  proposal: z.object({ tool: z.string(), args: z.record(z.unknown()), reasoning: z.string(), tokenCost: z.number().nonnegative().optional(), idempotencyKey: z.string().optional() }),
  status: z.enum(['executed', 'denied', 'failed', 'expired']),
  facts: z.object({ blastRadius: z.number().nonnegative().optional(), transitionUnlocked: z.boolean().optional() }).optional(),
  intentScore: z.number().min(0).max(1).optional(),
  session: z.string().min(1).max(200).optional(),
});

/** The evaluated session's key among the history's sessions (a line's `session` is never empty). */
const THIS_SESSION = '';

function runEval(opts: CommonOptions & { policy: string; history: string; proposal: string; facts?: string; now?: string; intent?: string }, io: CommandIo): void {
  const policy = loadPolicy(opts.policy, loadTools(opts.tools));
  const proposal = parseJsonOption('--proposal', opts.proposal) as Proposal;
  const facts = opts.facts !== undefined ? (parseJsonOption('--facts', opts.facts) as ProposalFacts) : {};
  const now = opts.now !== undefined ? parseTime('--now', opts.now) : Date.now();
  const history = readHistory(opts.history);

  // Each past proposal is folded, at its time, with the outcome it had; the agent's other sessions
  // (lines with a `session`) with it, so its agent-wide and owner-wide rules count their calls.
  const bySession = new Map<string, HistoryLine[]>([[THIS_SESSION, []]]);
  for (const line of history) {
    const key = line.session ?? THIS_SESSION;
    const lines = bySession.get(key);
    if (lines) lines.push(line);
    else bySession.set(key, [line]);
  }
  const who = { principal: 'the agent', owner: 'its owner' };
  // The evaluated session's declared intent, when given; the agent's other sessions declared theirs unseen.
  const intentOf = (sessionId: string) => (sessionId === THIS_SESSION && opts.intent !== undefined ? { intent: opts.intent } : {});
  const sessions = [...bySession].map(([sessionId, steps]) => ({ sessionId, ...who, init: { startedAt: steps[0]?.at ?? now, ...intentOf(sessionId) }, steps }));
  const { states, ledgers } = replayAcrossSessions(policy, sessions, (_decision, line) => line.status);
  const state = states[0]!;
  const decided = evaluate(policy, state, proposal, facts, now);
  // A call its session lets run asks the ledgers (a held one asks them once approved).
  const crossed = decided.verdict === 'allow' ? reserveAcross(policy, ledgers, { sessionId: THIS_SESSION, ...who }, 'eval', proposal.tool, now) : { answers: [] };
  const decision = crossed.denied ?? withLedgerShadow(decided, crossed.answers);
  if (opts.json) {
    io.out(JSON.stringify(decision, null, 2));
    return;
  }
  printDecision(policy, decision, io);
  const left = budgetLeft(policy, state, now);
  const others = history.length - bySession.get(THIS_SESSION)!.length;
  io.out(`session: ${history.length - others} past actions${others > 0 ? ` (and ${others} in ${bySession.size - 1} other session(s) of the agent)` : ''}, mode ${sessionMode(state)}, left ${left.actions} actions, ${left.writes} writes, ${left.critical} critical, ${left.tokens} tokens`);
}

function printDecision(policy: CompiledPolicy, d: Decision, io: CommandIo): void {
  io.out(`verdict: ${d.verdict} (tier ${d.tier})`);
  io.out(`policy: ${policy.document.name} ${d.policyHash}`);
  io.out('reasons:');
  for (const r of d.reasons) io.out(`  - ${r.rule}: ${r.message}`);
  const a = approvalOf(d) ?? unlockOf(d);
  if (a) {
    const what = d.verdict === 'approve' ? 'approval' : 'unlock (out of band)';
    const ladder = a.groups.join(' → ');
    const steps = a.escalateAfterMs.length > 0 ? `, escalate after ${a.escalateAfterMs.map((ms) => `${ms / 60_000} min`).join(', ')}` : '';
    io.out(`${what}: ${a.approversRequired} of ${ladder}${steps}, timeout ${a.timeoutMs / 60_000} min, channel ${a.channel}${a.fourEyes ? ', four eyes' : ''}`);
  }
  if (d.shadow) {
    io.out(`shadow: would ${d.shadow.verdict}`);
    for (const r of d.shadow.reasons) io.out(`  - ${r.rule}: ${r.message}`);
  }
}

interface HistoryLine {
  readonly at: number;
  readonly proposal: Proposal;
  readonly status: OutcomeStatus;
  readonly facts?: ProposalFacts;
  readonly intentScore?: number;
  /** Another session of the same agent; absent: the session the proposal is evaluated in. */
  readonly session?: string;
}

function readHistory(file: string): HistoryLine[] {
  const lines = readText(file, 'history').split('\n');
  const out: HistoryLine[] = [];
  lines.forEach((raw, i) => {
    if (raw.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch (err) {
      throw new PolicyCommandError(`history \`${file}\` line ${i + 1}: invalid JSON: ${lowerFirst(err)}`);
    }
    const parsed = historyLineSchema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
      throw new PolicyCommandError(`history \`${file}\` line ${i + 1}: ${where}${(issue?.message ?? 'invalid line').toLowerCase()}`);
    }
    const at = Date.parse(parsed.data.at);
    const prev = out[out.length - 1];
    if (prev && at < prev.at) throw new PolicyCommandError(`history \`${file}\` line ${i + 1}: \`at\` goes back in time`);
    out.push({ ...parsed.data, at });
  });
  return out;
}

function loadPolicy(file: string, tools: readonly ToolInfo[]): CompiledPolicy {
  const parsed = parsePolicyText(readText(file, 'policy'), file);
  if (!parsed.success) {
    throw new PolicyCommandError(`policy \`${file}\` is invalid: ${parsed.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  }
  return compilePolicy(parsed.data, tools);
}

const toolInfoSchema = z.array(
  z
    .object({
      name: z.string().min(1),
      description: z.string().default(''),
      effect: z.enum(['read', 'write', 'destructive']),
      environment: z.string().min(1),
      resource: z.string().min(1),
      estimatesBlastRadius: z.boolean().default(false),
    })
    .strict(),
);

function loadTools(file: string | undefined): readonly ToolInfo[] {
  if (file === undefined) return SAMPLE_TOOL_INFO;
  let data: unknown;
  try {
    data = JSON.parse(readText(file, 'tools'));
  } catch (err) {
    if (err instanceof PolicyCommandError) throw err;
    throw new PolicyCommandError(`tools \`${file}\`: invalid JSON: ${lowerFirst(err)}`);
  }
  const parsed = toolInfoSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PolicyCommandError(`tools \`${file}\`: ${issue ? `${issue.path.join('.') || 'list'}: ${issue.message.toLowerCase()}` : 'invalid tool list'}`);
  }
  return parsed.data;
}

export function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : lowerFirst(err);
    throw new PolicyCommandError(`cannot read ${what} file \`${file}\`: ${why}`);
  }
}

function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new PolicyCommandError(`invalid \`${option}\`: not JSON: ${lowerFirst(err)}`);
  }
}

function parseTime(option: string, text: string): number {
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new PolicyCommandError(`invalid \`${option}\`: expected an ISO time, got \`${text}\``);
  return t;
}

function lowerFirst(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/^\w/, (c) => c.toLowerCase()).replace(/\.$/, '');
}

