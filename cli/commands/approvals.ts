/**
 * `gatehouse approvals list | approve <id> | deny <id>`: human approval without Slack. The same
 * checks as a Slack click (`approvals/decide.ts`), the same `approval` signal to the session
 * workflow. The database comes from `loadConfig().databaseUrl`, Temporal from `loadConfig()`.
 * A refused decision prints why and exits non-zero; nothing is recorded or signalled.
 */
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { currentLevel, allowedGroups, decide, temporalSignaler, type ApprovalSignaler, type DecideResult } from '../../approvals/decide';
import { ApprovalStore } from '../../approvals/store';
import type { ApprovalRecord } from '../../approvals/types';
import { loadConfig, temporalSecurity } from '../../client/config';
import { CommandError } from '../command-error';

/** Where command output goes (the process streams, or a buffer in tests). */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** Thrown when the command cannot reach what it needs (not a refusal). */
export class ApprovalsCommandError extends CommandError {
  constructor(message: string) {
    super('ApprovalsCommandError', message);
  }
}

const processIo: CommandIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

function relative(isoTime: string, now: number): string {
  const ms = Date.parse(isoTime) - now;
  const abs = Math.abs(ms);
  const text = abs < 60_000 ? `${Math.round(abs / 1000)}s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)}m` : `${(abs / 3_600_000).toFixed(1)}h`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** `approvals list`: pending approvals (all with `all`), as a table or JSON. */
export async function listApprovals(store: ApprovalStore, opts: { json?: boolean; all?: boolean }, io: CommandIo, now = Date.now()): Promise<number> {
  const records = await store.list({ all: opts.all ?? false });
  if (opts.json) {
    io.out(JSON.stringify(records, null, 2));
    return 0;
  }
  if (records.length === 0) {
    io.out(opts.all ? 'no approvals' : 'no pending approvals');
    return 0;
  }
  const rows = [['ID', 'TOOL', 'AGENT', 'OWNER', 'STATUS', 'APPROVERS', 'VOTES', 'DEADLINE']];
  for (const r of records) {
    const approvals = r.votes.filter((v) => v.approve).map((v) => v.approver);
    const status = r.status === 'pending' && Date.parse(r.deadline) <= now ? 'pending (past deadline)' : r.status;
    rows.push([
      r.approvalId,
      r.tool,
      r.agentId,
      r.owner,
      status,
      allowedGroups(r, currentLevel(r, now)).join(','),
      r.status === 'pending' ? `${approvals.length}/${r.requirement.approversRequired}${approvals.length ? ` (${approvals.join(', ')})` : ''}` : r.decidedBy.join(', ') || '-',
      r.status === 'pending' ? relative(r.deadline, now) : r.decidedAt ? relative(r.decidedAt, now) : '-',
    ]);
  }
  io.out(table(rows));
  return 0;
}

/** `approvals approve|deny`: check and signal. Answers the exit code (0, or 1 on refusal). */
export async function decideFromCli(
  deps: { store: ApprovalStore; signal: ApprovalSignaler },
  input: { approvalId: string; approve: boolean; as: string; reason?: string; json?: boolean },
  io: CommandIo,
): Promise<number> {
  const as = input.as?.trim();
  if (!as) {
    io.err('gatehouse: an approver is required: pass `--as <approver>`');
    return 1;
  }
  const result: DecideResult = await decide(deps, {
    approvalId: input.approvalId,
    approve: input.approve,
    // `--as` may name the approver by Slack id or by name, as the policy lists them.
    actor: { id: as, name: as },
    ...(input.reason !== undefined ? { reason: input.reason } : {}),
    via: 'cli',
  });
  if (input.json) io.out(JSON.stringify(result.ok ? { ok: true, approver: result.approver, group: result.group, final: result.final } : result));
  if (!result.ok) {
    if (!input.json) io.err(`gatehouse: refused (${result.code}): ${result.message}`);
    return 1;
  }
  if (!input.json) io.out(describe(result.record, input.approve, result.approver, result.final));
  return 0;
}

function describe(record: ApprovalRecord, approve: boolean, approver: string, final: boolean): string {
  const where = `session workflow \`${record.workflowId}\` signalled`;
  if (!approve) return `denied \`${record.approvalId}\` (${record.tool}) as \`${approver}\`: ${where}`;
  const count = record.votes.filter((v) => v.approve).length;
  const of = record.requirement.approversRequired;
  return final
    ? `approved \`${record.approvalId}\` (${record.tool}) as \`${approver}\`: ${where}`
    : `approved \`${record.approvalId}\` (${record.tool}) as \`${approver}\`: ${count} of ${of} approvals, waiting for another approver: ${where}`;
}

function openStore(): { store: ApprovalStore; close(): Promise<void> } {
  const { databaseUrl } = loadConfig();
  if (!databaseUrl) throw new ApprovalsCommandError('no database: set `DATABASE_URL` or run `gatehouse start`');
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  return { store: new ApprovalStore(pool), close: () => pool.end() };
}

async function withDecisionDeps<T>(fn: (deps: { store: ApprovalStore; signal: ApprovalSignaler }) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const db = openStore();
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: config.temporalAddress, ...temporalSecurity(config) }).catch((err: unknown) => {
      throw new ApprovalsCommandError(`cannot reach temporal at \`${config.temporalAddress}\`: ${(err as Error).message}`);
    });
    const client = new Client({ connection, namespace: config.namespace });
    return await fn({ store: db.store, signal: temporalSignaler(client) });
  } finally {
    await connection?.close().catch(() => undefined);
    await db.close().catch(() => undefined);
  }
}

/** Registers `gatehouse approvals ...`. */
export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description('pending human approvals: list, approve, deny (no Slack needed)');

  approvals
    .command('list')
    .description('pending approvals (with --all, every approval)')
    .option('--json', 'print the approvals as JSON')
    .option('--all', 'include decided, expired and cancelled approvals')
    .action(async (opts: { json?: boolean; all?: boolean }) => {
      const db = openStore();
      try {
        process.exitCode = await listApprovals(db.store, opts, processIo);
      } finally {
        await db.close();
      }
    });

  approvals
    .command('approve <id>')
    .description('approve a pending action as an approver of the policy')
    .requiredOption('--as <approver>', 'who approves (Slack user id or name, as the policy lists approvers)')
    .option('--reason <text>', 'why')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, opts: { as: string; reason?: string; json?: boolean }) => {
      process.exitCode = await withDecisionDeps((deps) =>
        decideFromCli(deps, { approvalId: id, approve: true, as: opts.as, ...(opts.reason !== undefined ? { reason: opts.reason } : {}), ...(opts.json ? { json: true } : {}) }, processIo),
      );
    });

  approvals
    .command('deny <id>')
    .description('deny a pending action; a reason is required')
    .requiredOption('--as <approver>', 'who denies (Slack user id or name, as the policy lists approvers)')
    .requiredOption('--reason <text>', 'why (recorded in the audit trail and shown in Slack)')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, opts: { as: string; reason: string; json?: boolean }) => {
      process.exitCode = await withDecisionDeps((deps) =>
        decideFromCli(deps, { approvalId: id, approve: false, as: opts.as, reason: opts.reason, ...(opts.json ? { json: true } : {}) }, processIo),
      );
    });
}
