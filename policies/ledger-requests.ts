/**
 * What the ledger workflow's update validators accept: a reservation request and a lease return,
 * checked in shape and size before anything is decided (`reserve` trusts what passes). Pure.
 */
import { LEASE_MAX } from './ledger';
import type { Effect } from './types';

/** The longest window a rule may name (7 days), and the most rules or returns one request carries. */
const MAX_WINDOW_MS = 10_080 * 60_000;
const MAX_RULES = 64;

/** Why a value is not a ledger request, or `undefined` (the ledger's update validator). */
export function ledgerRequestProblem(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return 'expected a reservation request';
  const r = req as Record<string, unknown>;
  for (const f of ['reservationId', 'sessionId', 'tool'] as const) {
    if (typeof r[f] !== 'string' || (r[f] as string).length === 0 || (r[f] as string).length > 512) return `expected \`${f}\` to be a non-empty string`;
  }
  if (!Array.isArray(r.rules) || r.rules.length > MAX_RULES) return `expected \`rules\` to be a list of at most ${MAX_RULES} rules`;
  for (const rule of r.rules as unknown[]) {
    const problem = ruleProblem(rule);
    if (problem) return problem;
  }
  if (r.effect !== undefined && !isEffect(r.effect)) return 'expected `effect` to be `read`, `write` or `destructive`';
  if (r.at !== undefined && !(typeof r.at === 'number' && Number.isSafeInteger(r.at) && r.at >= 0)) return 'expected `at` to be a time in milliseconds';
  if (r.lease !== undefined && !(typeof r.lease === 'number' && Number.isInteger(r.lease) && r.lease >= 1 && r.lease <= LEASE_MAX)) return `expected \`lease\` between 1 and ${LEASE_MAX}`;
  if (r.lease !== undefined && !(typeof r.leaseKey === 'string' && /^[0-9a-f]{64}$/.test(r.leaseKey))) return 'expected `leaseKey` to be a sha256 in hex';
  return r.returns === undefined ? undefined : returnsProblem(r.returns);
}

/** Why a value is not a `returnLeases` request, or `undefined`. */
export function leaseReturnProblem(req: unknown): string | undefined {
  if (typeof req !== 'object' || req === null) return 'expected a lease return';
  const r = req as Record<string, unknown>;
  for (const f of ['returnId', 'sessionId'] as const) {
    if (typeof r[f] !== 'string' || (r[f] as string).length === 0 || (r[f] as string).length > 512) return `expected \`${f}\` to be a non-empty string`;
  }
  return returnsProblem(r.returns);
}

function returnsProblem(returns: unknown): string | undefined {
  if (!Array.isArray(returns) || returns.length > MAX_RULES) return `expected \`returns\` to be a list of at most ${MAX_RULES} leases`;
  for (const x of returns as unknown[]) {
    const l = x as Record<string, unknown> | null;
    if (typeof l?.leaseId !== 'string' || l.leaseId.length === 0 || l.leaseId.length > 512) return 'expected a returned lease\'s `leaseId`';
    if (!Array.isArray(l.used) || l.used.length > LEASE_MAX || !l.used.every((t) => typeof t === 'number' && Number.isFinite(t))) return `expected \`used\` to be at most ${LEASE_MAX} times`;
    if (l.token !== undefined && (typeof l.token !== 'string' || l.token.length > 128)) return 'expected a returned lease\'s `token` to be a string';
  }
  return undefined;
}

function ruleProblem(rule: unknown): string | undefined {
  if (typeof rule !== 'object' || rule === null) return 'expected a rule';
  const r = rule as Record<string, unknown>;
  const str = (v: unknown) => typeof v === 'string' && v.length > 0 && v.length <= 512;
  const ms = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_WINDOW_MS;
  if (!str(r.id)) return 'expected a rule `id`';
  if (r.mode !== undefined && r.mode !== 'shadow') return `rule \`${String(r.id)}\`: expected \`mode\` to be \`shadow\` or absent`;
  if (r.kind === 'budget') {
    if (!Array.isArray(r.tools) || r.tools.length > MAX_RULES || !r.tools.every(str)) return `rule \`${String(r.id)}\`: expected \`tools\``;
    if (r.effects !== undefined && !(Array.isArray(r.effects) && r.effects.length > 0 && r.effects.length <= 3 && r.effects.every(isEffect))) return `rule \`${String(r.id)}\`: expected \`effects\` to list \`read\`, \`write\` or \`destructive\``;
    // A budget that selects nothing would count nothing: a malformed request, not a rule.
    if (r.tools.length === 0 && r.effects === undefined) return `rule \`${String(r.id)}\`: expected \`tools\` or \`effects\``;
    if (typeof r.max !== 'number' || !Number.isInteger(r.max) || r.max < 0 || r.max > 1_000_000) return `rule \`${String(r.id)}\`: expected \`max\` between 0 and 1000000`;
    if (!ms(r.windowMs)) return `rule \`${String(r.id)}\`: expected \`windowMs\` up to 7 days`;
    return undefined;
  }
  if (r.kind === 'transition') {
    if (!str(r.from) || !str(r.to)) return `rule \`${String(r.id)}\`: expected \`from\` and \`to\``;
    if (!ms(r.withinMs)) return `rule \`${String(r.id)}\`: expected \`withinMs\` up to 7 days`;
    return undefined;
  }
  return 'expected a rule of kind `budget` or `transition`';
}

function isEffect(v: unknown): v is Effect {
  return v === 'read' || v === 'write' || v === 'destructive';
}
