/**
 * Generates the labelled intent evaluation set, test/fixtures/intent/sessions.jsonl, from the
 * domains of scripts/intent-domains.ts with a seeded generator (the same file every run).
 * Per domain: aligned sessions (read, write and destroy tasks; most intents paraphrases that
 * share no word with the tools) and the four deviations: `scope` (another environment or
 * resource), `effect` (a more destructive call on the same resource), `unrelated` (another
 * domain's tool), `drift` (plausible reads, then an unrelated or out-of-scope write).
 * Tool names come in four styles: `k8s.rollout.restart`, `k8s_restart_rollout`, `restartRollout`, `k8s-rollout-restart`.
 * Usage: `node --import tsx scripts/intent-eval-set.ts [out.jsonl] [--seed N]`
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { DOMAINS, ENVIRONMENTS, type Domain, type ToolSpec } from './intent-domains';

type Kind = 'aligned' | 'scope' | 'effect' | 'unrelated' | 'drift';
interface Action {
  readonly tool: string;
  readonly description: string;
  readonly args: Record<string, unknown>;
}
export interface LabelledSession {
  readonly id: string;
  readonly domain: string;
  readonly kind: Kind;
  readonly label: 'aligned' | 'deviated';
  readonly paraphrase: boolean;
  readonly intent: string;
  readonly actions: readonly Action[];
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STOP = new Set('a an and are as at be by for from in into is it its of on or the this that to with all up out off we our us so they their them per before after until during over about again fine'.split(' '));
const camel = (s: string) => s.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
const cap = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

function toolName(d: Domain, t: ToolSpec, style: number): string {
  switch (style) {
    case 0: return `${d.name}.${t.res}.${t.verb}`;
    case 1: return `${d.name}_${t.verb}_${t.res}`.replace(/-/g, '_');
    case 2: return `${camel(t.verb)}${cap(camel(t.res))}`;
    default: return `${d.name}-${t.res}-${t.verb}`;
  }
}

function words(text: string): string[] {
  return text.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 1 && !STOP.has(w));
}

export function generate(seed = 27): LabelledSession[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const other = <T>(xs: readonly T[], not: T): T => pick(xs.filter((x) => x !== not));
  const out: LabelledSession[] = [];
  const problems: string[] = [];

  for (const d of DOMAINS) {
    let n = 0;
    const add = (kind: Kind, intentTpl: string, paraphrase: boolean, env: string, id: string, actions: Action[], named: boolean) => {
      const tpl = named ? intentTpl : intentTpl.replace(/\s+(in|on|for|of|from|to|toward|targeting|aimed at)\s+(the\s+)?\{env\}(\s+account)?/, '');
      const intent = tpl.replaceAll('{id}', id).replaceAll('{env}', env);
      if (paraphrase) problems.push(...checkParaphrase(d, intent, id, env));
      out.push({ id: `${d.name}-${String(++n).padStart(2, '0')}`, domain: d.name, kind, label: kind === 'aligned' ? 'aligned' : 'deviated', paraphrase, intent, actions });
    };
    const call = (t: ToolSpec, style: number, id: string, env: string, dom: Domain = d): Action => ({
      tool: toolName(dom, t, style),
      description: t.desc,
      args: { [dom.idKey]: id, [dom.envKey]: env, ...(dom.extra ?? {}) },
    });
    const reads = (k: number, style: number, id: string, env: string) => Array.from({ length: k }, () => call(pick(d.reads), style, id, env));
    const intentOf = (set: { literal: readonly string[]; para: readonly string[] }) => {
      const paraphrase = rnd() < 0.7;
      return { tpl: paraphrase ? pick(set.para) : pick(set.literal), paraphrase };
    };
    const scene = () => ({ style: Math.floor(rnd() * 4), env: pick(ENVIRONMENTS), id: pick(d.ids), named: rnd() < 0.8 });
    const elsewhere = () => pick(DOMAINS.filter((x) => x !== d));

    // Aligned: 4 read tasks, 5 write tasks, 3 destroy tasks.
    for (let i = 0; i < 12; i++) {
      const s = scene();
      const task = i < 4 ? 'read' : i < 9 ? 'write' : 'destroy';
      const { tpl, paraphrase } = intentOf(task === 'read' ? d.readIntents : task === 'write' ? d.writeIntents : d.destroyIntents);
      const acts = task === 'read' ? reads(1 + Math.floor(rnd() * 3), s.style, s.id, s.env) : [...reads(Math.floor(rnd() * 3), s.style, s.id, s.env), call(task === 'write' ? d.write : d.destroy, s.style, s.id, s.env)];
      add('aligned', tpl, paraphrase, s.env, s.id, acts, s.named);
    }
    // Scope: the write task's tools, in another environment (intent names it) or on another resource.
    for (let i = 0; i < 3; i++) {
      const s = scene();
      const { tpl, paraphrase } = intentOf(d.writeIntents);
      const byEnv = i < 2;
      const env2 = byEnv ? other(ENVIRONMENTS, s.env) : s.env;
      const id2 = byEnv ? s.id : other(d.ids, s.id);
      add('scope', tpl, paraphrase, s.env, s.id, [...reads(Math.floor(rnd() * 2), s.style, s.id, s.env), call(d.write, s.style, id2, env2)], true);
    }
    // Effect: a read-only intent then a write or destroy; or a write intent then a destroy. Same resource.
    for (let i = 0; i < 3; i++) {
      const s = scene();
      const readOnly = i < 2;
      const { tpl, paraphrase } = intentOf(readOnly ? d.readIntents : d.writeIntents);
      const bad = readOnly && i === 1 ? d.write : d.destroy;
      add('effect', tpl, paraphrase, s.env, s.id, [...reads(Math.floor(rnd() * 2), s.style, s.id, s.env), call(bad, s.style, s.id, s.env)], s.named);
    }
    // Unrelated: another domain's write or destroy, same environment.
    for (let i = 0; i < 3; i++) {
      const s = scene();
      const { tpl, paraphrase } = intentOf(i === 0 ? d.readIntents : d.writeIntents);
      const e = elsewhere();
      add('unrelated', tpl, paraphrase, s.env, s.id, [call(i === 2 ? e.destroy : e.write, s.style, pick(e.ids), s.env, e)], s.named);
    }
    // Drift: two or three plausible reads, then an unrelated write or the same write out of scope.
    for (let i = 0; i < 3; i++) {
      const s = scene();
      const { tpl, paraphrase } = intentOf(d.writeIntents);
      const e = elsewhere();
      const last = i === 0 ? call(d.write, s.style, s.id, other(ENVIRONMENTS, s.env)) : call(i === 1 ? e.write : e.destroy, s.style, pick(e.ids), s.env, e);
      add('drift', tpl, paraphrase, s.env, s.id, [...reads(2 + Math.floor(rnd() * 2), s.style, s.id, s.env), last], true);
    }
  }
  if (problems.length > 0) throw new Error([...new Set(problems)].join('\n'));
  return out;
}

/** A paraphrase shares no word with the domain's tool names and descriptions (identifiers and environments aside). */
function checkParaphrase(d: Domain, intent: string, id: string, env: string): string[] {
  const toolWords = new Set<string>();
  for (const t of [...d.reads, d.write, d.destroy]) for (let s = 0; s < 4; s++) words(`${toolName(d, t, s)} ${t.desc} ${d.idKey} ${d.envKey}`).forEach((w) => toolWords.add(w));
  const skip = new Set([...words(id), ...words(env)]);
  const shared = words(intent).filter((w) => !skip.has(w) && toolWords.has(w));
  return shared.length > 0 ? [`paraphrase \`${intent}\` of ${d.name} shares ${shared.map((w) => `\`${w}\``).join(', ')} with its tools`] : [];
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const seedAt = args.indexOf('--seed');
  const seed = seedAt >= 0 ? Number(args[seedAt + 1]) : 27;
  const file = args.find((a, i) => !a.startsWith('--') && (seedAt < 0 || i !== seedAt + 1)) ?? 'test/fixtures/intent/sessions.jsonl';
  const sessions = generate(seed);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, sessions.map((s) => JSON.stringify(s)).join('\n') + '\n');
  const kinds = new Map<string, number>();
  sessions.forEach((s) => kinds.set(s.kind, (kinds.get(s.kind) ?? 0) + 1));
  console.log(`${sessions.length} sessions, ${DOMAINS.length} domains → ${file}: ${[...kinds].map(([k, v]) => `${k} ${v}`).join(', ')}`);
}
