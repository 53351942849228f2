/**
 * `gatehouse approvals list | approve <id> | deny <id> [--as <name>]`: human approval without
 * Slack. The vote is signed with the person's own approver key (`gatehouse keys create
 * --approver <name>`, kept in the user's key folder; on `gatehouse start`, also the stack's
 * development keys) over the session, the approval and the call's digest, checked by the same
 * path as a Slack click (`client/decide.ts`) and signalled to the session workflow, which
 * verifies it. `approve` first prints the call as `approvals show` does and signs only what the
 * person confirmed: at a terminal it asks, and `--digest <prefix>` (at least 12 hex characters of
 * the call digest shown) confirms it without asking; without either it signs nothing. The
 * database and Temporal come from `loadConfig()`, the keyset from `GATEHOUSE_KEYS` or the running
 * stack. A refused decision prints why and exits non-zero; nothing is recorded or signalled.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { Client, Connection } from '@temporalio/client';
import { connectTemporal } from '../../client/grpc-retry';
import pg from 'pg';
import { groupsAllowedNow } from '../../approvals/ladder';
import { checkDecision, identify, refuse, type Refusal } from '../../approvals/check-decision';
import { checkShownRow, decide, temporalStateReader, type DecideResult, type SessionStateReader } from '../../client/decide';
import { temporalVoteSender, type VoteSender } from '../../client/vote-sender';
import { ApprovalStore } from '../../approvals/store';
import type { ApprovalRecord } from '../../approvals/types';
import { loadConfig, temporalSecurity } from '../../client/config';
import { findKeyFile, KeyFileError, readKeyFile, type SigningKey } from '../../client/trust/key-files';
import { loadKeysetFile } from '../../client/trust/keyset-file';
import type { Keyset } from '../../policies/trust';
import { keyDirsOf, keysetFileOf } from './trust-files';
import { CommandError } from '../command-error';
import { askAtTerminal, processIo, type CommandIo, type Confirm } from '../command-io';
import { approvalScreen, argsSummary, DIGEST_SHOWN, relativeTime, showApproval } from './approvals-show';
import { shownLine } from '../../approvals/shown-text';

export type { CommandIo };

/** Thrown when the command cannot reach what it needs (not a refusal). */
export class ApprovalsCommandError extends CommandError {
  constructor(message: string) {
    super('ApprovalsCommandError', message);
  }
}


/** Rows as aligned columns, each cell on one line (an agent's line break or control character escaped). */
function table(given: readonly (readonly string[])[]): string {
  const rows = given.map((r) => r.map(shownLine));
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/**
 * How a row compares with its session's pending approval: `ok`, or the refusal a vote on it would
 * get (`approvals/shown-call.ts`). Absent: not checked (decided rows, or no reader given).
 */
export type ShownCheck = { readonly ok: true } | { readonly ok: false; readonly code: string; readonly message: string };

async function shownChecks(store: ApprovalStore, records: readonly ApprovalRecord[], state: SessionStateReader | undefined, now: number): Promise<Map<string, ShownCheck>> {
  const out = new Map<string, ShownCheck>();
  if (!state) return out;
  for (const r of records.filter((x) => x.status === 'pending')) {
    const check = await checkShownRow({ store, state }, r, now).catch((err: unknown): ShownCheck => ({ ok: false, code: 'unchecked', message: `the session could not be asked: ${(err as Error).message}` }));
    out.set(r.approvalId, check.ok ? { ok: true } : { ok: false, code: check.code, message: check.message });
  }
  return out;
}

/**
 * The VOTES column of `approvals list`: approvals out of those required, with who cast them. A
 * pending row counts the votes recorded so far; an approved one the approvals that decided it; a
 * denied one names who denied it. An expired or cancelled one was decided by nobody: its
 * `decidedBy` holds the approvals the session had counted by then, shown as such ("so far").
 */
function votesCell(r: ApprovalRecord): string {
  const count = (names: readonly string[], suffix = ''): string => `${names.length}/${r.requirement.approversRequired}${suffix}${names.length ? ` (${names.join(', ')})` : ''}`;
  switch (r.status) {
    case 'pending':
      return count(r.votes.filter((v) => v.approve).map((v) => v.approver));
    case 'approved':
      return count(r.decidedBy);
    case 'denied':
      return `denied by ${r.decidedBy.join(', ') || 'an approver'}`;
    case 'expired':
    case 'cancelled':
      return count(r.decidedBy, ' so far');
  }
}

/**
 * `approvals list`: pending approvals (all with `all`), as a table or JSON. With `state`, each
 * pending row is checked against its session's own pending approval first: a row that does not
 * show that call is listed as refused (and raises an alert), never as decidable.
 */
export async function listApprovals(store: ApprovalStore, opts: { json?: boolean; all?: boolean; state?: SessionStateReader }, io: CommandIo, now = Date.now()): Promise<number> {
  const records = await store.list({ all: opts.all ?? false });
  const checks = await shownChecks(store, records, opts.state, now);
  if (opts.json) {
    io.out(JSON.stringify(records.map((r) => (checks.has(r.approvalId) ? { ...r, shown: checks.get(r.approvalId) } : r)), null, 2));
    return 0;
  }
  if (records.length === 0) {
    io.out(opts.all ? 'no approvals' : 'no pending approvals');
    return 0;
  }
  const rows = [['ID', 'TOOL', 'ARGS', 'AGENT', 'OWNER', 'STATUS', 'APPROVERS', 'VOTES', 'DEADLINE']];
  for (const r of records) {
    const check = checks.get(r.approvalId);
    const status = check && !check.ok ? `refused (${check.code})` : r.status === 'pending' && Date.parse(r.deadline) <= now ? 'pending (past deadline)' : r.status;
    rows.push([
      r.approvalId,
      r.tool,
      argsSummary(r.redactedArgs),
      r.agentId,
      r.owner,
      status,
      groupsAllowedNow(r, now).map((groups) => groups.join(',')).join(' + '),
      votesCell(r),
      r.status === 'pending' ? relativeTime(r.deadline, now) : r.decidedAt ? relativeTime(r.decidedAt, now) : '-',
    ]);
  }
  io.out(table(rows));
  const refused = [...checks.entries()].filter(([, c]) => !c.ok);
  for (const [id, c] of refused) if (!c.ok) io.out(`\`${id}\` refused (${c.code}): ${c.message}`);
  io.out('everything an approver judges: gatehouse approvals show <id>');
  return 0;
}

/** What `decideFromCli` needs: the approvals table, the signal, the keyset and where keys live. */
export interface CliDecisionDeps {
  readonly store: ApprovalStore;
  readonly sendVote: VoteSender;
  /** The session's own view of what it waits for (`temporalStateReader`). */
  readonly state: SessionStateReader;
  readonly keyset: Keyset;
  /** Folders searched for the approver's private key, in order (`keyDirsOf`). */
  readonly keyDirs: readonly string[];
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * The approver's own key: `<as>.approver.key` in the key folders, or without `--as` the one
 * approver key found there. Throws a `KeyFileError` that says what is missing and how to make it.
 */
export function approverKey(as: string | undefined, dirs: readonly string[]): SigningKey {
  if (as) return findKeyFile(as, 'approver', dirs);
  const found = dirs.flatMap((dir) => {
    try {
      return readdirSync(dir).filter((f) => f.endsWith('.approver.key')).map((f) => join(dir, f));
    } catch {
      return [];
    }
  });
  const where = dirs.map((d) => `\`${d}\``).join(', ');
  if (found.length === 1) return readKeyFile(found[0]!);
  if (found.length === 0) {
    throw new KeyFileError(`no approver key: none in ${where}; make one with \`gatehouse keys create --approver <name>\`, register its public key in the keyset, and pass \`--as <name>\``, dirs[0] ?? '.');
  }
  const names = found.map((f) => basename(f, '.approver.key'));
  throw new KeyFileError(`several approver keys (${names.join(', ')}): pass \`--as <name>\` to choose one`, dirs[0] ?? '.');
}

/** What `approvals approve|deny` is asked to do. */
export interface CliDecision {
  readonly approvalId: string;
  readonly approve: boolean;
  readonly as?: string;
  readonly reason?: string;
  readonly json?: boolean;
  /**
   * For an approve: the first characters (at least `DIGEST_SHOWN`, hex) of the call digest the
   * person read (`approvals show`, the console, the screen `approve` prints): confirms the call
   * without asking.
   */
  readonly digest?: string;
}

/**
 * `approvals approve|deny`: sign with the approver's key and send the vote to the session. An approve prints the call
 * first, exactly as `approvals show` does, and signs only when the person confirmed that call:
 * `digest` matches its call digest, or `confirm` (the terminal's question) answered yes. Answers
 * the exit code (0, or 1 on refusal).
 */
export async function decideFromCli(deps: CliDecisionDeps, input: CliDecision, io: CommandIo, confirm?: Confirm): Promise<number> {
  const refused = (r: Refusal): number => {
    if (input.json) io.out(JSON.stringify(r));
    else io.err(`gatehouse: refused (${r.code}): ${r.message}`);
    return 1;
  };
  let key: SigningKey;
  try {
    key = approverKey(input.as?.trim() || undefined, deps.keyDirs);
  } catch (err) {
    if (!(err instanceof KeyFileError)) throw err;
    if (input.json) io.out(JSON.stringify({ ok: false, code: 'no-key', message: err.message }));
    else io.err(`gatehouse: ${err.message}`);
    return 1;
  }
  let shownDigest: string | undefined;
  if (input.approve) {
    const seen = await showThenConfirm(deps, input, key, io, confirm);
    if (!seen.ok) return refused(seen);
    shownDigest = seen.digest;
  }
  const result: DecideResult = await decide(
    { store: deps.store, sendVote: deps.sendVote, state: deps.state, keyset: deps.keyset, ...(deps.now ? { now: deps.now } : {}) },
    {
      approvalId: input.approvalId,
      approve: input.approve,
      voter: { key },
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      via: 'cli',
      ...(shownDigest !== undefined ? { shownDigest } : {}),
    },
  );
  if (!result.ok) return refused(result);
  if (input.json) io.out(JSON.stringify({ ok: true, approver: result.approver, group: result.group, final: result.final, answered: result.answered, keyId: key.keyId }));
  else io.out(describe(result.record, input.approve, result.approver, result.final, key.keyId, result.answered));
  return 0;
}

/**
 * Before an approve is signed: a vote the rule would refuse anyway is refused first (nothing to
 * read or confirm); then the call is printed as `approvals show` prints it (on stderr with
 * `--json`) and confirmed, by `--digest` or at the terminal. Answers the digest confirmed.
 */
async function showThenConfirm(deps: CliDecisionDeps, input: CliDecision, key: SigningKey, io: CommandIo, confirm: Confirm | undefined): Promise<{ readonly ok: true; readonly digest: string } | Refusal> {
  const at = (deps.now ?? Date.now)();
  const record = await deps.store.get(input.approvalId);
  const who = identify(deps.keyset, { key }, at);
  if (!who.ok) return who;
  const early = checkDecision(record, { approvalId: input.approvalId, approver: who.approver, approve: true, ...(input.reason !== undefined ? { reason: input.reason } : {}) }, at, deps.keyset);
  if (!early.ok) return early;
  if (!record) return refuse('not-found', `no approval \`${input.approvalId}\``);
  const screen = await approvalScreen(deps.store, record, deps.state, at);
  const print = (line: string) => (input.json ? io.err(line) : io.out(line));
  print(screen.lines.join('\n').trimEnd());
  // The row is not the call its session waits for: nothing to confirm (the screen says why; an alert was raised).
  if (screen.shown && !screen.shown.ok) return refuse(screen.shown.code as Refusal['code'], screen.shown.message);
  const digest = record.callDigest;
  const head = digest.slice(0, DIGEST_SHOWN);
  if (input.digest !== undefined) {
    const given = input.digest.trim().toLowerCase();
    if (!new RegExp(`^[0-9a-f]{${DIGEST_SHOWN},}$`).test(given)) {
      return refuse('digest-mismatch', `\`--digest\` must be at least ${DIGEST_SHOWN} hex characters of the call digest shown above (\`${head}\`): nothing signed`);
    }
    if (!digest.startsWith(given)) {
      return refuse('digest-mismatch', `\`--digest ${given.slice(0, 64)}\` is not the call digest of approval \`${record.approvalId}\` shown above (\`${head}…\`): nothing signed; read the call again`);
    }
    return { ok: true, digest };
  }
  if (!confirm) {
    return refuse('digest-required', `approve signs only a call you confirmed: read it above, then run \`gatehouse approvals approve ${record.approvalId} --digest ${head}\` (or run it at a terminal to be asked): nothing signed`);
  }
  if (!(await confirm(`approve this call (call digest ${head}…) as ${who.approver}? [y/N] `))) {
    return refuse('not-confirmed', `approval \`${record.approvalId}\` was not approved: nothing signed`);
  }
  return { ok: true, digest };
}

function describe(record: ApprovalRecord, approve: boolean, approver: string, final: boolean, keyId: string, answered: boolean): string {
  if (!answered) {
    return `${approve ? 'approval' : 'denial'} of \`${record.approvalId}\` (${record.tool}) as \`${approver}\` signed with \`${keyId}\` and sent to session workflow \`${record.workflowId}\`, which has not answered yet (is its worker running?): it counts or refuses the vote when it runs (\`gatehouse trace\` shows which)`;
  }
  const where = `signed with \`${keyId}\`, counted by session workflow \`${record.workflowId}\``;
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

async function withDecisionDeps<T>(fn: (deps: CliDecisionDeps) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const keysetFile = keysetFileOf(config);
  if (!keysetFile) throw new ApprovalsCommandError('no keyset to sign against: set `GATEHOUSE_KEYS` or run `gatehouse start`');
  const keyset: Keyset = loadKeysetFile(keysetFile);
  const db = openStore();
  let connection: Connection | undefined;
  try {
    connection = await connectTemporal({ address: config.temporalAddress, ...temporalSecurity(config) }).catch((err: unknown) => {
      throw new ApprovalsCommandError(`cannot reach temporal at \`${config.temporalAddress}\`: ${(err as Error).message}`);
    });
    const client = new Client({ connection, namespace: config.namespace });
    return await fn({ store: db.store, sendVote: temporalVoteSender(client), state: temporalStateReader(client), keyset, keyDirs: keyDirsOf(config) });
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
      const config = loadConfig();
      const db = openStore();
      // Rows are checked against their sessions when Temporal answers; otherwise listed unchecked.
      const connection = await connectTemporal({ address: config.temporalAddress, ...temporalSecurity(config) }).catch(() => undefined);
      try {
        const state = connection ? temporalStateReader(new Client({ connection, namespace: config.namespace })) : undefined;
        process.exitCode = await listApprovals(db.store, { ...opts, ...(state ? { state } : {}) }, processIo);
      } finally {
        await connection?.close().catch(() => undefined);
        await db.close();
      }
    });

  approvals
    .command('show <id>')
    .description('everything an approver judges on one screen: the call, its blast radius, why it was held, who asked, by when, who else must vote')
    .option('--json', 'print the approval (with the session\'s last calls) as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      const config = loadConfig();
      const db = openStore();
      const connection = await connectTemporal({ address: config.temporalAddress, ...temporalSecurity(config) }).catch(() => undefined);
      try {
        const state = connection ? temporalStateReader(new Client({ connection, namespace: config.namespace })) : undefined;
        process.exitCode = await showApproval(db.store, id, { ...opts, ...(state ? { state } : {}) }, processIo);
      } finally {
        await connection?.close().catch(() => undefined);
        await db.close();
      }
    });

  approvals
    .command('approve <id>')
    .description('approve a pending action, signed with your approver key: prints the call as `show` does, then asks (at a terminal) or checks --digest before it signs')
    .option('--as <approver>', 'whose approver key signs (the name the policy lists); default: your only approver key')
    .option('--digest <prefix>', `the call digest you read (at least its first ${DIGEST_SHOWN} hex characters, as \`show\` prints it): approve without being asked; a call with another digest is refused`)
    .option('--reason <text>', 'why')
    .option('--json', 'print the outcome as JSON (the call is printed on stderr; needs --digest)')
    .action(async (id: string, opts: { as?: string; digest?: string; reason?: string; json?: boolean }) => {
      // Asked only at a terminal, and never with --json (its output is for programs) or with --digest (the answer given).
      const ask = process.stdin.isTTY && !opts.json && opts.digest === undefined ? askAtTerminal : undefined;
      process.exitCode = await withDecisionDeps((deps) =>
        decideFromCli(
          deps,
          { approvalId: id, approve: true, ...(opts.as ? { as: opts.as } : {}), ...(opts.digest !== undefined ? { digest: opts.digest } : {}), ...(opts.reason !== undefined ? { reason: opts.reason } : {}), ...(opts.json ? { json: true } : {}) },
          processIo,
          ask,
        ),
      );
    });

  approvals
    .command('deny <id>')
    .description('deny a pending action, signed with your approver key; a reason is required')
    .option('--as <approver>', 'whose approver key signs (the name the policy lists); default: your only approver key')
    .requiredOption('--reason <text>', 'why (recorded in the audit trail and shown in Slack)')
    .option('--json', 'print the outcome as JSON')
    .action(async (id: string, opts: { as?: string; reason: string; json?: boolean }) => {
      process.exitCode = await withDecisionDeps((deps) =>
        decideFromCli(deps, { approvalId: id, approve: false, ...(opts.as ? { as: opts.as } : {}), reason: opts.reason, ...(opts.json ? { json: true } : {}) }, processIo),
      );
    });
}
