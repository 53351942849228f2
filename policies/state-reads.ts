/**
 * What the session state keeps for two rules of the seed articles: the reads per resource family
 * (`resourceWrites`: a write after `afterReads` reads of its resource needs approval) and the effect
 * the declared intent implies (`intent.writesNeedWriteIntent`). Bounded by the catalog's resources
 * and `afterReads`. Pure.
 */
import type { CompiledPolicy } from './compile';
import { intentEffect } from './intent';
import type { InheritedTransitions, SessionState } from './state';
import type { Effect, ToolInfo } from './types';

/** Per resource family, the times (epoch ms, oldest first) of its last performed reads. */
export type ResourceReads = Readonly<Record<string, readonly number[]>>;

/** Effects from weakest to strongest: a declared effect covers the calls of its rank and below. */
export const EFFECT_RANK: Readonly<Record<Effect, number>> = { read: 0, write: 1, destructive: 2 };

/** The effect an intent implies, held to the parent's when one is inherited (a child asks for no more than its parent did). */
export function declaredEffectOf(intent: string, inherited: InheritedTransitions | undefined): Effect | null {
  const own = intentEffect(intent);
  if (inherited === undefined || !('declaredEffect' in inherited)) return own;
  const parent = inherited.declaredEffect;
  if (parent === null || own === null) return null;
  if (parent !== 'read' && parent !== 'write' && parent !== 'destructive') return null;
  return EFFECT_RANK[parent] < EFFECT_RANK[own] ? parent : own;
}

/**
 * Reads kept for `resourceWrites`: only resource families of the catalog, each at most `afterReads`
 * times (the latest), none at or before the window's start. Also cleans an inherited record, which
 * reaches a child as JSON: anything that is not a list of finite times is dropped.
 */
export function keptReads(policy: CompiledPolicy, reads: unknown, now: number): ResourceReads {
  const rule = policy.resourceWrites;
  if (!rule || reads === null || typeof reads !== 'object' || Array.isArray(reads)) return {};
  const from = rule.withinMs !== undefined ? now - rule.withinMs : -Infinity;
  const resources = catalogResources(policy);
  const out: [string, readonly number[]][] = [];
  for (const [resource, times] of Object.entries(reads as Record<string, unknown>)) {
    if (!resources.has(resource) || !Array.isArray(times)) continue;
    const kept = times.filter((t): t is number => typeof t === 'number' && Number.isFinite(t) && t > from).sort((a, b) => a - b).slice(-rule.afterReads);
    if (kept.length > 0) out.push([resource, kept]);
  }
  // fromEntries defines own keys: a resource named `__proto__` stays a key like any other.
  return Object.fromEntries(out);
}

/** The reads of `resource` kept in `reads` (own keys only). */
function readTimes(reads: ResourceReads | undefined, resource: string): readonly number[] {
  const times = reads !== undefined && Object.prototype.hasOwnProperty.call(reads, resource) ? reads[resource] : undefined;
  return Array.isArray(times) ? times : [];
}

const resourcesOf = new WeakMap<object, ReadonlySet<string>>();

/** The resource families of the policy's catalog (a transparent cache: one set per compiled policy). */
function catalogResources(policy: CompiledPolicy): ReadonlySet<string> {
  let set = resourcesOf.get(policy);
  if (!set) {
    set = new Set(policy.catalog.map((t) => t.resource));
    resourcesOf.set(policy, set);
  }
  return set;
}

/**
 * How many times the session read `resource` inside the `resourceWrites` window ending at `now`
 * (at most `afterReads`: no more are kept); 0 without the rule.
 */
export function readsOf(policy: CompiledPolicy, state: SessionState, resource: string, now: number): number {
  const rule = policy.resourceWrites;
  if (!rule) return 0;
  const from = rule.withinMs !== undefined ? now - rule.withinMs : -Infinity;
  return readTimes(state.reads, resource).filter((t) => t > from).length;
}

/**
 * The reads kept after a call: `performed` is the tool of a call that ran (executed or failed: it
 * may have returned data), undefined for one denied or expired, which read nothing.
 */
export function readsAfter(policy: CompiledPolicy, reads: ResourceReads | undefined, performed: ToolInfo | undefined, now: number): ResourceReads {
  const seen = reads ?? {};
  const read = performed !== undefined && performed.effect === 'read';
  return keptReads(policy, read ? { ...seen, [performed.resource]: [...readTimes(seen, performed.resource), now] } : seen, now);
}
