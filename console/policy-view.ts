/**
 * The policy page: the paths `policy analyze` finds (`analyzePaths`), drawn on the server as SVG,
 * and a draft's backtest over the last N days (`audit/backtest.ts`) as a table of the decisions it
 * would change. A draft is pasted or uploaded YAML (or JSON); an invalid one is answered with its
 * issues, each with its path, and nothing runs. Nothing here changes anything: the page only reads
 * the worker's default policy — the one the console was given (`gatehouse start` gives it the
 * worker's `GATEHOUSE_POLICY`), else as the newest session under the default policy's name recorded
 * it. Never simply the newest session's: an agent whose credential lists another policy would pick it.
 */
import type pg from 'pg';
import { SAMPLE_TOOL_INFO } from '../activities/tools/sample';
import { backtest, type BacktestReport } from '../audit/backtest';
import { STORED_POLICY } from '../audit/queries';
import { analyzePaths, compilePolicy, parsePolicy, parsePolicyText, type PolicyDocument, type PolicyIssue } from '../policies';
import type { ToolInfo } from '../policies/types';
import { DEFAULT_POLICY_NAME } from '../worker/policy-registry';
import { ConsoleError } from './errors';
import { pathsGraph } from './svg';

export interface PolicySource {
  /** The worker's default policy. @default as the newest session under the default policy's name recorded it */
  readonly policy?: PolicyDocument;
  /** Where `policy` was read from (a file), shown on the page. */
  readonly origin?: string;
  /** The catalog drafts compile against. @default the newest such session's, else the sample tools */
  readonly tools?: readonly ToolInfo[];
}

const MAX_DRAFT = 200 * 1024;

/** The newest session that ran under the policy registered as `name` (its `session-started` event says which). */
async function newestSessionUnder(pool: pg.Pool, name: string): Promise<{ session_id: string; policy: unknown; tools: unknown } | undefined> {
  const r = await pool.query(
    // In the order the worker enforced it (jsonb's `policy` reorders the `tools` globs).
    `SELECT s.session_id, ${STORED_POLICY} AS policy, s.tools FROM sessions s
      WHERE EXISTS (SELECT 1 FROM events e WHERE e.session_id = s.session_id AND e.seq = 1 AND e.kind = 'session-started' AND e.detail ->> 'policy' = $1)
      ORDER BY s.started_at DESC LIMIT 1`,
    [name],
  );
  return r.rows[0];
}

/** The worker's default policy, the catalog it compiles against, and where the page says it came from. */
export async function currentPolicy(pool: pg.Pool, src: PolicySource): Promise<{ policy: PolicyDocument; tools: readonly ToolInfo[]; from: string }> {
  const origin = `the worker's default policy${src.origin ? ` \`${src.origin}\`` : ''}`;
  // Given both, nothing to read (drafts ask for the catalog on every graph and backtest).
  if (src.policy && src.tools) return { policy: src.policy, tools: src.tools, from: origin };
  const name = DEFAULT_POLICY_NAME;
  const row = await newestSessionUnder(pool, name);
  const recordedTools = row && Array.isArray(row.tools) ? (row.tools as ToolInfo[]) : undefined;
  const tools = src.tools ?? recordedTools ?? SAMPLE_TOOL_INFO;
  if (src.policy) return { policy: src.policy, tools, from: origin };
  if (!row) throw new ConsoleError(404, 'no-policy', `no session has run under the worker's default policy (\`${name}\`) yet, and the console was not given it: paste a draft`);
  const parsed = parsePolicy(row.policy);
  if (!parsed.success) throw new ConsoleError(500, 'policy', `the default policy as session \`${row.session_id}\` recorded it does not parse: ${parsed.issues[0]?.message ?? ''}`);
  return { policy: parsed.data, tools, from: `the worker's default policy (\`${name}\`) as session \`${row.session_id}\`, the newest under it, recorded it` };
}

/** A pasted draft, parsed; its issues as a 400 (`issues` listed) when it is not a policy. */
export function parseDraft(text: unknown): PolicyDocument {
  if (typeof text !== 'string' || text.trim() === '') throw new ConsoleError(400, 'draft', 'paste or upload a policy draft (YAML or JSON)');
  if (text.length > MAX_DRAFT) throw new ConsoleError(400, 'draft', 'the draft is over 200 KiB');
  const parsed = parsePolicyText(text, 'draft');
  if (!parsed.success) throw new DraftError(parsed.issues);
  return parsed.data;
}

/** A draft that is not a valid policy: every issue with its path. */
export class DraftError extends ConsoleError {
  constructor(readonly issues: readonly PolicyIssue[]) {
    super(400, 'draft-invalid', `the draft is not a valid policy: ${issues.length} issue(s), the first at \`${issues[0]?.path || '(root)'}\`: ${issues[0]?.message ?? ''}`);
  }
}

export interface PolicyGraph {
  readonly name: string;
  readonly from: string;
  readonly summary: ReturnType<typeof analyzePaths>['summary'];
  readonly paths: readonly { readonly tools: readonly string[]; readonly status: string }[];
  readonly truncated: boolean;
  readonly svg: string;
}

export function graphOf(policy: PolicyDocument, tools: readonly ToolInfo[], from: string, maxLength = 3): PolicyGraph {
  if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > 5) throw new ConsoleError(400, 'max-length', `the longest path must be a whole number from 2 to 5, got \`${String(maxLength).slice(0, 20)}\``);
  const analysis = analyzePaths(compilePolicy(policy, tools), maxLength, 2000);
  return { name: policy.name, from, summary: analysis.summary, paths: analysis.paths.map((p) => ({ tools: p.tools, status: p.status })), truncated: analysis.truncated, svg: pathsGraph(analysis) };
}

/** The draft's backtest over the last `days` days. */
export async function draftBacktest(pool: pg.Pool, policy: PolicyDocument, tools: readonly ToolInfo[], daysIn: unknown): Promise<BacktestReport> {
  const days = daysIn === undefined || daysIn === '' ? 14 : Number(daysIn);
  if (!Number.isFinite(days) || days <= 0 || days > 365) throw new ConsoleError(400, 'days', `the window must be from 1 to 365 days, got \`${String(daysIn).slice(0, 20)}\``);
  return backtest(pool, { policy, tools, since: new Date(Date.now() - days * 24 * 60 * 60 * 1000) });
}

type Doc = Record<string, any>;
const shadowAll = (list: unknown): unknown => (Array.isArray(list) ? list.map((r) => ({ ...r, mode: 'shadow' })) : list);
const shadowTools = (doc: Doc, has: (rule: Doc) => boolean): void => {
  for (const [name, rule] of Object.entries(doc.tools ?? {})) if (has(rule as Doc)) doc.tools[name] = { ...(rule as Doc), mode: 'shadow' };
};

/** How each overrulable rule is taken out of a policy: put in shadow mode (recorded, not enforced). */
const WITHOUT: Readonly<Record<string, (doc: Doc) => void>> = {
  'transition.forbidden': (d) => void (d.transitions = shadowAll(d.transitions)),
  'tool.always-blocked': (d) => void (d.alwaysBlocked = (d.alwaysBlocked ?? []).map((e: unknown) => (typeof e === 'string' ? { tool: e, mode: 'shadow' } : { ...(e as Doc), mode: 'shadow' }))),
  'budget.actions': (d) => void (d.budget = { ...d.budget, mode: 'shadow' }),
  'budget.writes': (d) => void (d.budget = { ...d.budget, mode: 'shadow' }),
  'budget.critical': (d) => void (d.budget = { ...d.budget, mode: 'shadow' }),
  'cost.cap': (d) => void (d.costCap = { ...d.costCap, mode: 'shadow' }),
  'mandate.outside': (d) => void (d.mandate = { ...d.mandate, mode: 'shadow' }),
  // The trail's alert when intent drift puts a session in review mode (`policies/state.ts`).
  'mode.review': (d) => void (d.intent = { ...d.intent, mode: 'shadow' }),
  'args.bounds': (d) => shadowTools(d, (r) => r.args !== undefined),
  'blast-radius.limit': (d) => shadowTools(d, (r) => r.blastRadius !== undefined),
  'blast-radius.cap': (d) => shadowTools(d, (r) => r.blastRadius !== undefined),
  'agent.budget': (d) => void (d.agent && (d.agent.budgets = shadowAll(d.agent.budgets))),
  'agent.sequence': (d) => void (d.agent && (d.agent.transitions = shadowAll(d.agent.transitions))),
  'owner.budget': (d) => void (d.owner && (d.owner.budgets = shadowAll(d.owner.budgets))),
  'owner.sequence': (d) => void (d.owner && (d.owner.transitions = shadowAll(d.owner.transitions))),
};

/** The rules a "backtest without it" link exists for. */
export const DROPPABLE_RULES: readonly string[] = Object.keys(WITHOUT);

export function canDropRule(rule: string): boolean {
  return Object.hasOwn(WITHOUT, rule);
}

/** The policy with `rule` in shadow mode: the draft a "backtest without it" runs. */
export function policyWithout(policy: PolicyDocument, rule: string): PolicyDocument {
  const drop = Object.hasOwn(WITHOUT, rule) ? WITHOUT[rule] : undefined;
  if (!drop) throw new ConsoleError(400, 'rule', `rule \`${rule.slice(0, 100)}\` cannot be taken out of a policy by itself`);
  const doc = structuredClone(policy) as Doc;
  drop(doc);
  const parsed = parsePolicy(doc);
  if (!parsed.success) throw new ConsoleError(500, 'rule', `the policy without \`${rule}\` does not parse: ${parsed.issues[0]?.message ?? ''}`);
  return parsed.data;
}
