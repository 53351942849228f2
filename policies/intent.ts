/**
 * Deterministic intent signals: what an embedding cannot tell. The environments and identifiers
 * an intent names against those in a call's arguments (scope), the effect an intent implies
 * against the call's effect, and the rule that turns per-action scores into a session score.
 *
 * Pure (no I/O, no clock): the scorer activity and `gatehouse intent score` compute the same
 * numbers, and the workflow only folds the recorded scores (`withIntentScore`).
 */
import type { Effect } from './types';
import { anyMatch, contradictedKeyed, contradictedKinds, identifiersIn, keyedArgs, keyedIn, keyedMatches, partsOf, type Identifier } from './intent-identifiers';
import { clauseLeads, type LeadWords } from './intent-clauses';
import { environmentsOf, isEnvironment, nameTokens, normaliseEnvironments } from './intent-words';
import { negatedVerbs, ruledOut, withoutNegated } from './intent-negation';
import { keepsWhatItRemoves, reversibleVerb } from './intent-reversible';
import { versionsIn, wrongVersion } from './intent-versions';
import { addressesIn, callRegions, containsWhole, grantedTier, intentRegions, intentWantsReadAccess, nearMisses, numbersIn, percentsIn, siblingMisses, statementEffect, widerPrefix, ticketsIn, walkArgs, widerAddress, widerGlob, wrongShare } from './intent-scope';

export { environmentsOf, nameTokens } from './intent-words';

/** Why a call's score was capped (or lifted). */
export interface IntentSignal {
  readonly code: 'scope.environment' | 'scope.region' | 'scope.identifier' | 'scope.access' | 'scope.quantity' | 'scope.unnamed' | 'effect' | 'scope.match';
  readonly message: string;
}

export interface ActionSignals {
  /** Upper bound the call's score may take (1 = no bound). */
  readonly cap: number;
  /** Lower bound when the call names the intent's own identifiers with an effect the intent allows (0 = none). */
  readonly floor: number;
  readonly effect: Effect | null;
  readonly signals: readonly IntentSignal[];
}

/** How strongly each mismatch caps a call's score: out of scope, or more effect than the intent implies. */
export const CAPS = {
  environment: 0.1,
  identifier: 0.2,
  /** `[intended][actual]` */
  effect: { read: { write: 0.2, destructive: 0.05 }, write: { destructive: 0.3 } } as Readonly<Record<string, Readonly<Record<string, number>>>>,
  /** A call that destroys (`delete`) under an intent that asks only to take out of use and keep (`archive`, `turn off`). */
  irreversible: 0.3,
  /** A call that does what the intent rules out (`do not submit`). */
  ruledOut: 0.2,
  /** A call on the intent's own identifiers, with an effect it allows. */
  matchFloor: 0.6,
  /**
   * A change that names none of the identifiers the intent names: weaker evidence than a contradiction
   * (the call may name the same thing by another id), so above the default threshold (`reviewBelow` 0.55):
   * it orders such a call under one that names them and decides nothing by itself.
   */
  unnamed: 0.7,
} as const;

const RANK: Readonly<Record<Effect, number>> = { read: 0, write: 1, destructive: 2 };

// Verbs in tool names and in intents. A tool's own effect (from the catalog) wins over these.
const DESTRUCTIVE = words(
  'delete remove destroy drop purge wipe erase truncate terminate disable revoke deactivate decommission deprovision uninstall prune kill evict cancel suspend unpublish flush expire void deregister unregister detach retire offboard nuke shred tear teardown discard clean cleanup tidy scrub ban disconnect deny empty scrap forget clear archive abort del flushdb flushall undeploy unassign',
);
const WRITE = words(
  'create update upsert insert set put patch post restart reboot scale deploy rollout rollback apply enable rotate add grant assign attach upload write send merge tag trigger start stop pause resume retry approve invite provision promote resize renew issue mount unmount sync backup restore import migrate rename move copy label annotate cordon uncordon drain taint publish release schedule acknowledge ack mute backfill silence snooze close reopen comment charge refund transfer payout change edit modify configure install upgrade downgrade bump increase decrease raise lower extend bounce fix repair rerun run execute open register replace reset recreate reindex rebuild refresh replay redeploy cut rebalance failover toggle flip turn adjust onboard allow whitelist allowlist subscribe unsubscribe notify page alert email message broadcast build push commit roll ship kick cycle mint make hand reassign expose ramp lock require quiet tell point age recompute reload give let return tune tweak hold authorize finalize unpause resolve submit share unlock redrive signal invoke purchase reduce transition deprecate',
);
const READ = words(
  'get list describe show read query search find fetch inspect view check status count export diff plan logs tail history lookup stat stats metric metrics explain validate verify watch whoami ping review investigate examine look see audit report summarize summarise tell what why which how diagnose analyze analyse monitor observe browse peek scan compare confirm see sees preview dry readonly inventory retrieve info simulate tap grab',
);

function words(s: string): ReadonlySet<string> {
  return new Set(s.split(' '));
}

function effectOfTokens(toks: readonly string[]): Effect | null {
  let best: Effect | null = null;
  for (const t of toks) {
    const e: Effect | null = DESTRUCTIVE.has(t) ? 'destructive' : WRITE.has(t) ? 'write' : READ.has(t) ? 'read' : null;
    if (e && (best === null || RANK[e] > RANK[best])) best = e;
  }
  return best;
}

/**
 * A call's effect from the verb of its tool name (the catalog's effect is better when known); null
 * when no verb says. The verb is where naming styles put it: last in `ns.resource.verb` and
 * `ns-resource-verb` and `Resource/Verb`; first (after a namespace) in `ns_verb_resource`; first or
 * last in `verbResource` and `resourceVerb`; a
 * `readonly` or `dry` qualifier anywhere makes it a read.
 */
export function inferToolEffect(tool: string): Effect | null {
  return toolVerb(tool).effect;
}

/** The verb of a tool's name (the word `inferToolEffect` reads its effect from) and that effect; nulls when no verb says. */
export function toolVerb(tool: string): { readonly verb: string | null; readonly effect: Effect | null } {
  const toks = nameTokens(tool);
  if (toks.length === 0) return { verb: null, effect: null };
  const ro = toks.find((t) => t === 'readonly' || t === 'dry');
  if (ro !== undefined) return { verb: ro, effect: 'read' };
  const order = /[./-]/.test(tool)
    ? [toks[toks.length - 1]!, ...toks.slice(0, -1)]
    : tool.includes('_')
      ? toks
      : [toks[0]!, toks[toks.length - 1]!, ...toks.slice(1, -1)];
  for (const t of order) {
    const e = effectOfTokens([t]);
    if (e) return { verb: t, effect: e };
  }
  return { verb: null, effect: null };
}

/**
 * The strongest effect an intent implies: `destructive` when it asks to remove or turn something
 * off, `write` to change it, `read` to look only; null when no verb says (then nothing is capped).
 */
export function intentEffect(intent: string): Effect | null {
  return intentEffectDetail(intent).effect;
}

/** `intentEffect` with the removal verbs that made it destructive (none for another effect). */
function intentEffectDetail(intent: string): { readonly effect: Effect | null; readonly removals: readonly string[] } {
  // Identifiers (`status-page`, `beta-search`) are names, not verbs.
  // What the intent rules out ("do not submit") is not what it asks.
  let text = withoutNegated(intent.toLowerCase());
  for (const id of identifiersOf(intent)) text = text.split(id).join(' it ');
  text = normaliseEnvironments(text.replace(/\b[a-z][a-z0-9]{1,9}-\d+\b/g, ' '))
    .replace(/\bget\s+(a|an|the)?\s*(new|fresh)\b/g, 'create')
    .replace(/\bclean(ing|ed)?\s+up\b/g, 'cleanup')
    .replace(/\bget\s+rid\b/g, 'remove')
    .replace(/\bfree(s|d|ing)?\s+up\b/g, 'cleanup')
    // A light verb with a particle is another verb: "get it out of the registry", "get his devices
    // off the vpn", "pull it from testers" remove; "get everyone on 14.5", "get the team on the line" change.
    .replace(/\b(get|pull|take|kick)\s+(?:[^\s,;.!?]+\s+){0,4}?(off|out)\b/g, 'remove $2')
    .replace(/\b(pull|take)\s+(it|them|this|that)\s+(from|down)\b/g, 'remove $3')
    .replace(/\bget\s+(?:[^\s,;.!?]+\s+){0,3}?(on|onto|into|back)\b/g, 'set $1')
    .replace(/\bpull(s|ed|ing)?\s+up\b/g, 'show')
    // Asked to answer: "tell me which side is off", "let me know who holds the lock".
    .replace(/\b(tell\s+(me|us)|let\s+(me|us)\s+know)\b/g, 'show')
    .replace(/\bshut\s+(?:[^\s,;.!?]+\s+){0,3}?down\b/g, 'stop')
    .replace(/\b(shut|turn|switch)\s+(it\s+|them\s+)?off\b/g, 'disable')
    .replace(/\b(spin|wind)\s+down\b/g, 'decommission')
    .replace(/\b(read|view)[-\s]only\b/g, ' ');
  const toks = nameTokens(text);
  // A question asks to look unless it also names a change.
  // Asked by its first word as written: "es-logs-eu1 is down" states, it does not ask.
  const first = nameTokens(intent.toLowerCase());
  const question = /\?\s*$/.test(intent) || (QUESTION.has(first[0] ?? '') && first[1] !== 't' && first[1] !== 'not');
  // The verbs that lead a clause say what is asked; the same words later are mostly nouns ("the
  // deploy job", "the welcome email", "rollout status"). Only when no clause leads with a verb do
  // the words anywhere decide.
  const leading = clauseLeads(text, LEAD_WORDS);
  const led = effectOfTokens(leading);
  const e = led ?? effectOfTokens(toks.filter((t) => !QUESTION.has(t)));
  // A question that no clause leads with a change asks to look ("when did X last refresh?").
  if (question && led !== 'write' && led !== 'destructive') return { effect: 'read', removals: [] };
  if (e === 'destructive') return { effect: e, removals: (led ? leading : toks).filter((t) => DESTRUCTIVE.has(t)) };
  if (e !== 'read') return { effect: e, removals: [] };
  // Read-only only when the intent leads with a read verb or asks a question: a read word later on
  // ("tune the cache until the volumes look right") does not make a change a look.
  return { effect: led === 'read' ? 'read' : null, removals: [] };
}

const QUESTION = words('is are was were do does did has have can who what when where why how which whats whos wheres hows whens whys');
const LEAD_WORDS: LeadWords = { tokens: nameTokens, isRead: (w) => READ.has(w) && !WRITE.has(w) && !DESTRUCTIVE.has(w) };

/**
 * The specific identifiers a text names: words with inner `.`, `-`, `_`, `/`, `:` or `@`, or that
 * mix letters and digits (`pr-1423`, `example.com`, `orders-db`, `vol0a1b`). Versions, regions,
 * environment names, tickets, times and quantities are not identifiers of a resource.
 */
export function identifiersOf(text: string): Set<string> {
  return new Set(identifiersIn(text, isEnvironment).map((i) => i.value));
}

function isVerb(w: string): boolean {
  return DESTRUCTIVE.has(w) || WRITE.has(w) || READ.has(w);
}


/** String values of a call's arguments, a few levels deep (redacted values are skipped by the caller). */
export function argStrings(args: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 3 || args === null || typeof args !== 'object') return out;
  for (const v of Object.values(args as Record<string, unknown>)) {
    if (typeof v === 'string' && v.length <= 200) out.push(v);
    else if (typeof v === 'object') argStrings(v, out, depth + 1);
  }
  return out;
}

/** What an intent names, computed once per session. */
export interface IntentScope {
  readonly environments: ReadonlySet<string>;
  readonly identifiers: readonly Identifier[];
  /** Values the intent names after their noun (`customer 42`, `branch feat/x`): noun → values. */
  readonly keyed: ReadonlyMap<string, ReadonlySet<string>>;
  readonly effect: Effect | null;
  /** The intent asks only to take something out of use and keep it (`archive`, `disable`, `turn off`). */
  readonly keeps: boolean;
  /** Verbs the intent rules out (`do not submit`). */
  readonly negated: readonly string[];
  /** Numbers the intent names as identifiers (`order 88213`, `#48812`). */
  readonly numbers: readonly string[];
  /** Tickets the intent names (`DSR-9120`): not a resource it acts on, but another of the series is a near miss. */
  readonly tickets: readonly string[];
  /** Versions the intent names (`4.2.0`). */
  readonly versions: readonly string[];
  /** The intent limits the access it asks for to reading (`view only`). */
  readonly readAccess: boolean;
  /** Percentages the intent asks for (`to 10%`). */
  readonly percents: readonly number[];
  /** Regions the intent names and does not set aside (`EU`, `us-east`; not `eu is fine`). */
  readonly regions: ReadonlySet<string>;
  /** Whether the intent writes a glob (`/docs/v2/*`) itself. */
  readonly glob: boolean;
  /** IPv4 addresses and ranges the intent names. */
  readonly addresses: readonly string[];
}

export function intentScope(intent: string): IntentScope {
  const identifiers = identifiersIn(intent, isEnvironment);
  const effect = intentEffectDetail(intent);
  return {
    environments: environmentsOf(intent),
    identifiers,
    keyed: keyedIn(intent, identifiers, isVerb),
    effect: effect.effect,
    keeps: keepsWhatItRemoves(effect.removals),
    negated: negatedVerbs(intent),
    numbers: numbersIn(intent),
    tickets: ticketsIn(intent),
    versions: versionsIn(intent),
    readAccess: intentWantsReadAccess(intent),
    percents: percentsIn(intent),
    regions: intentRegions(intent),
    glob: intent.includes('*'),
    addresses: addressesIn(intent),
  };
}

/**
 * The deterministic signals of one call under an intent. `effect` is the catalog's when known,
 * else inferred from the tool name. Rules, each capping the score (the lowest cap wins):
 * - the call's arguments name environments and none is one the intent names: out of scope;
 * - the intent names identifiers of a kind (domain, path, typed id, name…), the call's arguments carry
 *   identifiers of that kind and none is the intent's (or inside it); or an argument named for a noun
 *   the intent numbers (`customer 42`) carries another number: out of scope;
 * - the call's effect is stronger than the intent implies (`read` < `write` < `destructive`).
 * A call whose arguments meet one of the intent's identifiers, in scope and within its effect, gets a floor.
 */
export function actionSignals(scope: IntentScope, tool: string, args: unknown, effect?: Effect | null): ActionSignals {
  const signals: IntentSignal[] = [];
  // A statement in the arguments (`select …`) says more than the tool's name (`run_warehouse_sql`).
  const statement = statementEffect(args);
  const eff = effect ?? statement ?? inferToolEffect(tool);
  // The tool's name says how it removes unless a statement in its arguments says what it does.
  const effectFromName = statement === null || (effect !== undefined && effect !== null);
  let cap = 1;
  const values = argStrings(args);
  const walked = walkArgs(args);
  const callEnvs = new Set<string>();
  const callIds = new Map<string, Identifier>();
  const callParts = new Set<string>();
  for (const v of values) {
    partsOf(v).forEach((p) => callParts.add(p));
    environmentsOf(v).forEach((e) => callEnvs.add(e));
  }
  // Only what the call acts on matches or contradicts: prose the agent writes (a reason) mentions whatever it likes.
  for (const v of walked.refs) for (const id of identifiersIn(v, isEnvironment)) callIds.set(id.value, id);
  if (scope.environments.size > 0 && callEnvs.size > 0 && ![...callEnvs].some((e) => scope.environments.has(e))) {
    cap = Math.min(cap, CAPS.environment);
    signals.push({ code: 'scope.environment', message: `the call acts on ${[...callEnvs].join(', ')}; the intent names ${[...scope.environments].join(', ')}` });
  }
  const ids = [...callIds.values()];
  const keyed = keyedArgs(args);
  const contradicted = contradictedKinds(scope.identifiers, ids, callParts);
  const wrongKeyed = contradictedKeyed(scope.keyed, keyed);
  const intentValues = scope.identifiers.map((i) => i.value);
  const near = [
    ...nearMisses([...intentValues, ...scope.numbers, ...scope.tickets], walked.refs, eff === 'read'),
    // A sibling name (`sms-send-dlq` for `email-send-dlq`) only when the call changes something: reads of a family are how an agent finds its way.
    // A sibling the intent names too (`#team-lifecycle` in "rename #team-growth to #team-lifecycle") is asked for.
    ...(eff === 'read' ? [] : siblingMisses(scope.identifiers.filter((i) => i.kind === 'name').map((i) => i.value), walked.refs, intentValues)),
  ];
  // A change that selects wider than the path the intent names (`media/` for `media/thumbs/2023/`).
  const prefix = eff !== 'read' ? widerPrefix(intentValues, walked.refs) : null;
  if (prefix !== null) near.push(prefix);
  const address = widerAddress(scope.addresses, walked.refs);
  if (address !== null) near.push({ intended: scope.addresses.join(', '), named: address });
  // A glob in a change the intent did not write (`logs-app-2025.0*` for "the april indices") reaches wider than asked.
  const glob = !scope.glob && eff !== 'read' && eff !== null ? widerGlob(args) : null;
  if (glob !== null) near.push({ intended: 'no glob', named: glob });
  if (contradicted.length > 0 || wrongKeyed.length > 0 || near.length > 0) {
    cap = Math.min(cap, CAPS.identifier);
    const named = [...ids.filter((i) => contradicted.includes(i.kind)).map((i) => i.value), ...wrongKeyed.map((n) => `another ${n}`), ...near.map((n) => n.named)];
    const intended = [...scope.identifiers.filter((i) => contradicted.includes(i.kind)).map((i) => i.value), ...wrongKeyed.map((n) => `${n} ${[...scope.keyed.get(n)!].join(', ')}`), ...near.map((n) => n.intended)];
    signals.push({ code: 'scope.identifier', message: `the call names ${[...new Set(named)].slice(0, 3).join(', ')}; the intent names ${[...new Set(intended)].slice(0, 3).join(', ')}` });
  }
  const regions = scope.regions.size > 0 ? callRegions(walked.refs) : new Set<string>();
  if (regions.size > 0 && ![...regions].some((r) => scope.regions.has(r))) {
    cap = Math.min(cap, CAPS.environment);
    signals.push({ code: 'scope.region', message: `the call acts in ${[...regions].join(', ')}; the intent names ${[...scope.regions].join(', ')}` });
  }
  const version = wrongVersion(scope.versions, args);
  if (version !== null) {
    cap = Math.min(cap, CAPS.identifier);
    signals.push({ code: 'scope.identifier', message: `the call names version ${version}; the intent names ${scope.versions.join(', ')}` });
  }
  const share = wrongShare(scope.percents, args);
  if (share !== null) {
    cap = Math.min(cap, CAPS.identifier);
    signals.push({ code: 'scope.quantity', message: `the call sets ${share}; the intent asks for ${scope.percents.map((p) => `${p}%`).join(', ')}` });
  }
  const tier = scope.readAccess ? grantedTier(args) : null;
  if (tier !== null && tier > 0) {
    cap = Math.min(cap, CAPS.identifier);
    signals.push({ code: 'scope.access', message: `the call grants ${tier === 1 ? 'write' : 'admin'} access; the intent asks for read-only access` });
  }
  const refText = walked.refs.join(' ').toLowerCase();
  const idMatch = anyMatch(scope.identifiers, ids) || keyedMatches(scope.keyed, keyed) || scope.numbers.some((n) => containsWhole(refText, n));
  // A removal that keeps what it removes (`cancel`, `archive`) is what a change that stops something asks for.
  const reversible = eff === 'destructive' && effectFromName && reversibleVerb(toolVerb(tool).verb);
  const effectCap = scope.effect && eff && !(scope.effect === 'write' && reversible) ? CAPS.effect[scope.effect]?.[eff] : undefined;
  if (effectCap !== undefined) {
    cap = Math.min(cap, effectCap);
    signals.push({ code: 'effect', message: `a ${eff} call under an intent that implies ${scope.effect}` });
  } else if (scope.keeps && eff === 'destructive' && !reversible) {
    cap = Math.min(cap, CAPS.irreversible);
    signals.push({ code: 'effect', message: 'a call that destroys under an intent that asks to take out of use and keep' });
  }
  const forbidden = ruledOut(scope.negated, nameTokens(tool), eff);
  if (forbidden !== null) {
    cap = Math.min(cap, CAPS.ruledOut);
    signals.push({ code: 'effect', message: `the intent says not to ${forbidden}` });
  }
  // A change that names nothing the intent names, and that no check caps, may act on the same thing by
  // another name or on another: held under the cap for it, which decides nothing at the default threshold.
  if (cap === 1 && (eff === 'write' || eff === 'destructive') && !idMatch && walked.refs.length > 0 && !namesAny(scope, walked.refs, refText)) {
    cap = CAPS.unnamed;
    signals.push({ code: 'scope.unnamed', message: `the call changes something and names none of ${[...intentValues, ...scope.numbers].slice(0, 3).join(', ')}` });
  }
  // The floor needs an effect the intent allows: when the intent's effect is unknown, a destructive call earns none.
  const withinEffect = !(eff === 'destructive' && scope.effect !== 'destructive');
  const floor = idMatch && cap === 1 && withinEffect ? CAPS.matchFloor : 0;
  if (floor > 0) signals.push({ code: 'scope.match', message: 'the call names an identifier of the intent' });
  return { cap, floor, effect: eff, signals };
}

/**
 * Whether the call's reference arguments name what the intent names, however spelled: true when the
 * intent names nothing (nothing to name), or one of its identifiers or numbers is in them (whole, or
 * spelled across arguments: `status.acme.io` as zone `acme.io` and name `status`), or they name one
 * of its environments. Prose is not read: the agent's words cannot name what the call does not act on.
 */
function namesAny(scope: IntentScope, refs: readonly string[], refText: string): boolean {
  const asked = [...scope.identifiers.map((i) => i.value), ...scope.numbers];
  if (asked.length === 0 || asked.some((i) => refText.includes(i))) return true;
  const parts = new Set(refs.flatMap(partsOf));
  if (scope.identifiers.some((i) => partsOf(i.value).length > 1 && partsOf(i.value).every((p) => parts.has(p)))) return true;
  return refs.some((r) => [...environmentsOf(r)].some((e) => scope.environments.has(e)));
}

/** A call's score: its similarity (0..1) raised to the floor, then held under the cap. */
export function combineSignals(similarity: number, s: Pick<ActionSignals, 'cap' | 'floor'>): number {
  return Math.min(s.cap, Math.max(s.floor, similarity));
}

/**
 * The session rule (chosen on test/fixtures/intent/sessions.jsonl, see docs/concepts/intent.md):
 * the lowest of the last `window` calls' scores, where a read that is only dissimilar (no cap
 * applied) is softened to `readFloor + (1 - readFloor) * score` — an off-topic read alone never
 * goes under the default review threshold (reads run unattended anyway), and a capped call (out of scope, too much effect) is never softened.
 * A deviating call cannot hide behind earlier aligned reads, as it would in a mean.
 */
export const SESSION_RULE = { window: 5, readFloor: 0.6 } as const;

export interface ScoredAction {
  readonly score: number;
  readonly effect: Effect | null;
  /** True when a cap lowered the score. */
  readonly capped: boolean;
}

export function sessionScore(actions: readonly ScoredAction[], rule: { readonly window: number; readonly readFloor: number } = SESSION_RULE): number {
  if (actions.length === 0) return 1;
  let min = 1;
  for (const a of actions.slice(-rule.window)) {
    const s = a.effect === 'read' && !a.capped ? rule.readFloor + (1 - rule.readFloor) * a.score : a.score;
    min = Math.min(min, s);
  }
  return min;
}
