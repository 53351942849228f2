/**
 * The audit commands: `gatehouse sessions`, `gatehouse trace <sessionId>`, `gatehouse audit
 * verify | export`, `gatehouse backtest`. They read the audit trail in PostgreSQL (`DATABASE_URL`,
 * or the running stack's database) and never write to it.
 *
 * Exit codes: 0 success; 1 bad input, unknown session or unreachable database (message on
 * stderr); 2 `audit verify` found a broken hash chain, a trail its session's record does not back,
 * or an executed call its policy's tier and signed votes do not prove. `audit verify` checks the
 * votes against the keyset of `--keys`, else `GATEHOUSE_KEYS`, else the running stack's. `audit
 * verify` and `backtest` judge each session against the tool catalog it recorded; sessions that
 * recorded none are judged against the sample catalog's (`backtest` counts them in its report).
 */
import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import pg from 'pg';
import { loadConfig } from '../../client/config';
import { loadKeysetFile } from '../../client/trust/keyset-file';
import type { Keyset } from '../../policies/trust';
import { keysetFileOf } from './trust-files';
import { processIo, type CommandIo } from '../command-io';
import { SAMPLE_TOOL_INFO } from '../../activities/tools/sample/info';
import { parsePolicyText } from '../../policies';
import { backtest, formatBacktestReport } from '../../audit/backtest';
import { parseDuration } from '../../audit/duration';
import { AuditUsageError } from '../../audit/errors';
import { exportSession } from '../../audit/export';
import { listSessions } from '../../audit/queries';
import type { SessionView } from '../../audit/rows';
import { loadTrace, renderTraceText, traceToJson } from '../../audit/trace';
import { formatVerifyReport, verifyDatabase, verifyExportText } from '../../audit/verify';
import { policyHashesOf } from '../../worker/policy-registry';
import { knownToolsOf } from './known-catalogs';
import { shownLine } from '../../approvals/shown-text';

/** Exit code of `audit verify` when a chain is broken, a trail or a vote does not hold (1 is kept for errors). */
export const EXIT_TAMPERED = 2;

/** Registers the audit commands; `io` and `env` are injected so tests run them in-process. */
export function registerAudit(program: Command, io: CommandIo = processIo, env: NodeJS.ProcessEnv = process.env): void {
  const out = (text: string): void => io.out(text);
  const withPool = <T>(work: (pool: pg.Pool) => Promise<T>): Promise<T> => withPoolAt(loadConfig(env).databaseUrl, work);

  program
    .command('sessions')
    .description('sessions with their mode, counters and final state, newest first')
    .option('--json', 'print JSON')
    .option('--limit <n>', 'how many sessions', '50')
    .option('--agent <agentId>', 'only this agent')
    .option('--owner <owner>', 'only this owner')
    .action(async (opts: { json?: boolean; limit: string; agent?: string; owner?: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isSafeInteger(limit) || limit < 1) throw new AuditUsageError(`malformed limit \`${opts.limit}\`: expected a positive whole number`);
      const sessions = await withPool((pool) => listSessions(pool, {
        limit, ...(opts.agent ? { agentId: opts.agent } : {}), ...(opts.owner ? { owner: opts.owner } : {}),
      }));
      out(opts.json ? JSON.stringify(sessions, null, 2) : formatSessions(sessions));
    });

  program
    .command('trace <sessionId>')
    .description('the decision-level story of one session, one sentence per action')
    .option('--json', 'print the trace as JSON')
    .action(async (sessionId: string, opts: { json?: boolean }) => {
      const trace = await withPool((pool) => loadTrace(pool, sessionId));
      out(opts.json ? JSON.stringify(traceToJson(trace), null, 2) : renderTraceText(trace));
    });

  const audit = program.command('audit').description('check and export the tamper-evident audit trail');

  audit
    .command('verify')
    .description('recompute the hash chains, check each trail against its session\'s record and policy, re-verify every signed vote; exit 2 naming each session, seq and check that does not hold')
    .option('--session <id>', 'only this session')
    .option('--file <export.json>', 'check an export file offline instead of the database')
    .option('--keys <keyset>', 'the keyset to verify votes against (default: GATEHOUSE_KEYS, else the running stack\'s)')
    .option('--policy <paths...>', 'the policies the deployment ran (files or folders, every version): a session recorded under any other is `trail.policy-unknown`')
    .option('--catalog <modules...>', 'the tool catalogs the deployment ran (`sample`, or modules exporting `createCatalog`, every version): a session that recorded a tool unlike them is `trail.catalog-unknown`')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { session?: string; file?: string; keys?: string; policy?: string[]; catalog?: string[]; json?: boolean }) => {
      if (opts.file !== undefined && opts.session !== undefined) {
        throw new AuditUsageError('use either `--file` or `--session`, not both');
      }
      const keysetFile = keysetFileOf(loadConfig(env), opts.keys, env);
      const keyset: Keyset | undefined = keysetFile ? loadKeysetFile(keysetFile) : undefined;
      const policyHashes = opts.policy ? policyHashesOf(opts.policy) : undefined;
      const knownTools = opts.catalog ? await knownToolsOf(opts.catalog) : undefined;
      const verifyOpts = { tools: SAMPLE_TOOL_INFO, ...(keyset ? { keyset } : {}), ...(policyHashes ? { policyHashes } : {}), ...(knownTools ? { knownTools } : {}) };
      const report = opts.file !== undefined
        ? verifyExportText(await readText(opts.file, 'export file'), opts.file, verifyOpts)
        : await withPool((pool) => verifyDatabase(pool, { ...verifyOpts, ...(opts.session !== undefined ? { sessionId: opts.session } : {}) }));
      out(opts.json ? JSON.stringify(report, null, 2) : formatVerifyReport(report));
      if (!report.ok) process.exitCode = EXIT_TAMPERED;
    });

  audit
    .command('export')
    .description('one self-contained JSON document of a session: events, policy snapshot and hash, chain')
    .requiredOption('--session <id>', 'the session to export')
    .option('--out <file>', 'write to this file instead of stdout')
    .action(async (opts: { session: string; out?: string }) => {
      const doc = await withPool((pool) => exportSession(pool, opts.session));
      const json = JSON.stringify(doc, null, 2);
      if (opts.out === undefined) io.out(json);
      else {
        await writeFile(opts.out, `${json}\n`, 'utf8');
        io.err(`exported ${doc.events.length} event(s) of session ${opts.session} to ${opts.out} (chain head ${doc.chain.head})`);
      }
    });

  program
    .command('backtest')
    .description('replay recorded proposals through a candidate policy, each session against the tool catalog it recorded, and report what would change')
    .requiredOption('--policy <file>', 'the candidate policy (YAML or JSON)')
    .option('--since <duration>', 'how far back, e.g. 14d, 12h, 30m', '14d')
    .option('--json', 'print the report as JSON')
    .action(async (opts: { policy: string; since: string; json?: boolean }) => {
      // Every input is checked before the database is touched.
      const since = new Date(Date.now() - parseDuration(opts.since));
      const parsed = parsePolicyText(await readText(opts.policy, 'policy file'), opts.policy);
      if (!parsed.success) {
        const first = parsed.issues.map((i) => `at \`${i.path || '(root)'}\`: ${i.message}`).join('; ');
        throw new AuditUsageError(`policy \`${opts.policy}\` is invalid: ${first}`);
      }
      // The sample catalog judges only the sessions that recorded no catalog of their own.
      const report = await withPool((pool) => backtest(pool, { policy: parsed.data, tools: SAMPLE_TOOL_INFO, since }));
      out(opts.json ? JSON.stringify(report, null, 2) : formatBacktestReport(report, 'the sample catalog'));
    });
}

/** Opens a small pool on the audit database for one command and always closes it. */
async function withPoolAt<T>(url: string | undefined, work: (pool: pg.Pool) => Promise<T>): Promise<T> {
  if (!url) throw new AuditUsageError('no audit database: set `DATABASE_URL` or run `gatehouse start`');
  const pool = new pg.Pool({ connectionString: url, max: 2, connectionTimeoutMillis: 5_000 });
  pool.on('error', () => undefined); // an idle client dropped: the query in flight reports it
  try {
    return await work(pool);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new AuditUsageError(`cannot read ${what} \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function formatSessions(sessions: readonly SessionView[]): string {
  if (sessions.length === 0) return 'no sessions recorded';
  const header = ['started', 'session', 'agent', 'owner', 'mode', 'state', 'prop', 'exec', 'deny', 'fail', 'exp', 'tokens', 'review'];
  const rows = sessions.map((s) => {
    const c = s.counters;
    const n = (k: string): string => String(c[k] ?? 0);
    // One line per row, whatever a session recorded before its ids were bounded.
    return [
      s.startedAt.replace('T', ' ').slice(0, 19), s.sessionId, s.agentId, s.owner, s.mode, s.finalState ?? 'running',
      n('proposals'), n('executed'), n('denied'), n('failed'), n('expired'), n('tokens'), s.flaggedForReview ? 'FLAGGED' : '',
    ].map(shownLine);
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
