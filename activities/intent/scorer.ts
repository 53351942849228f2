/**
 * Intent alignment: how close the actions a session executed are to the intent it declared.
 * Each action is described as text (tool name, description, salient arguments) and compared
 * with the intent (similarity); deterministic signals (`policies/intent`: scope and effect) cap
 * or lift that; the session score is the lowest of the recent calls' scores, an off-topic read
 * softened (`sessionScore`). 1 = aligned, 0 = unrelated.
 *
 * Two similarity backends: `openai` (any OpenAI-compatible embeddings endpoint: by default the
 * local model server `gatehouse start` runs, see worker/embeddings) and `local` (the named
 * fallback: word and trigram cosine over a small operations vocabulary, no model).
 */
import {
  DEFAULT_HALF_LIFE_MS,
  EMBEDDINGS_CALIBRATION,
  intentConfigFromEnv,
  LOCAL_CALIBRATION,
  type Calibration,
  type IntentScorerConfig,
} from './config';
import { createEmbeddingsClient } from './embeddings';
import { IntentConfigError } from './errors';
import { calibrate, denseCosine, textSimilarity } from './text';
import { withoutRedactedLengths } from '../tools/redact';
import { isRedactionMarker } from '../../approvals/redaction';
import { actionSignals, combineSignals, intentScope, sessionScore, type IntentScope, type IntentSignal } from '../../policies/intent';
import { isProse } from '../../policies/intent-scope';
import { selectingArgs } from './declared-args';
import type { Effect } from '../../policies/types';

/** One executed action, as the workflow reports it. */
export interface IntentAction {
  readonly tool: string;
  /** What the tool does (the catalog description); the activity fills it in when it knows the catalog. */
  readonly description?: string;
  /** Redacted arguments; short string values and flags set to true add to the action's text. */
  readonly args?: Readonly<Record<string, unknown>>;
  /** When it ran: ISO 8601 or epoch ms. */
  readonly at: string | number;
  /** The tool's effect from the catalog; inferred from the tool name when absent. */
  readonly effect?: Effect;
  /** The argument names the tool declares (the activity fills them in from the catalog); others can lower the score, never raise it. */
  readonly declared?: readonly string[];
}

export interface ScoreIntentInput {
  readonly intent: string;
  readonly actions: readonly IntentAction[];
  /** Workflow time of the scoring: ISO 8601 or epoch ms. */
  readonly now: string | number;
}

export interface IntentScore {
  /** 0..1; 1 when there are no actions yet. */
  readonly score: number;
  /** Each action's score (calibrated similarity, capped or lifted by scope and effect), in input order. */
  readonly perAction: readonly number[];
  readonly scorer: IntentScorerConfig['kind'];
  /** The deterministic signals of each action that capped or lifted it (omitted when there were none). */
  readonly signals?: readonly (readonly IntentSignal[])[];
}

export interface IntentScorer {
  readonly kind: IntentScorerConfig['kind'];
  readonly halfLifeMs: number;
  score(input: ScoreIntentInput): Promise<IntentScore>;
  /** Calibrated similarity of two intents (a sub-agent's and its parent's), 0..1. */
  compare(a: string, b: string): Promise<number>;
}

/** (intent, action text) pairs whose local similarity a worker remembers. */
const SIMILARITY_MEMO_SIZE = 20_000;
/** Intents whose scope (`intentScope`) a worker remembers: a session's is the same on every call. */
const SCOPE_MEMO_SIZE = 1_000;

/** `compute()` for `key`, remembered in `memo` (the oldest forgotten beyond `max` entries). */
function remembered<V>(memo: Map<string, V>, max: number, key: string, compute: () => V): V {
  let value = memo.get(key);
  if (value === undefined) {
    value = compute();
    if (memo.size >= max) memo.delete(memo.keys().next().value as string);
    memo.set(key, value);
  }
  return value;
}

/** Calibrated similarity of `intent` with each of `texts`, 0..1. */
type Similarity = (intent: string, texts: readonly string[]) => Promise<number[]>;

/** Builds the scorer `config` selects (default: from the environment, see `intentConfigFromEnv`). */
export function createIntentScorer(config: IntentScorerConfig = intentConfigFromEnv()): IntentScorer {
  const halfLifeMs = config.halfLifeMs ?? DEFAULT_HALF_LIFE_MS;
  if (!(halfLifeMs > 0)) throw new IntentConfigError(`invalid halfLifeMs \`${halfLifeMs}\`: expected a positive number`);
  let similarity: Similarity;
  if (config.kind === 'local') {
    const cal = checkCalibration(config.calibration ?? LOCAL_CALIBRATION);
    // Pure in (intent, text): a session's recent actions are scored again on every call, so the
    // worker keeps each pair's similarity (bounded) instead of tokenising them all again.
    const memo = new Map<string, number>();
    similarity = async (intent, texts) => texts.map((t) => remembered(memo, SIMILARITY_MEMO_SIZE, `${intent}\u0000${t}`, () => calibrate(textSimilarity(intent, t), cal)));
  } else if (config.kind === 'openai') {
    const cal = checkCalibration(config.calibration ?? EMBEDDINGS_CALIBRATION);
    const embed = createEmbeddingsClient(config);
    similarity = async (intent, texts) => {
      if (texts.length === 0) return [];
      const [iv, ...vs] = await embed([intent, ...texts]);
      return vs.map((v) => calibrate(denseCosine(iv!, v), cal));
    };
  } else {
    throw new IntentConfigError(`unknown intent scorer kind \`${(config as { kind: string }).kind}\``);
  }

  // Pure in the intent, and a session scores against the same intent on every call.
  const scopes = new Map<string, IntentScope>();
  return {
    kind: config.kind,
    halfLifeMs,
    async score(input) {
      if (input.actions.length === 0) return { score: 1, perAction: [], scorer: config.kind };
      // Each action as sent and with only its selecting arguments (declared by its tool, not a note):
      // the lower score counts, so an undeclared argument or a note can lower a call's score, never raise it.
      const views = input.actions.map(agentViews);
      const similarities = await agentProofSimilarity(similarity, input.intent, views.flat());
      const scope = remembered(scopes, SCOPE_MEMO_SIZE, input.intent, () => intentScope(input.intent));
      let k = 0;
      const scored = views.map((vs) =>
        vs
          .map((v) => {
            const sig = actionSignals(scope, v.tool, v.args, v.effect);
            const sim = similarities[k++]!;
            return { score: combineSignals(sim, sig), effect: sig.effect, capped: sig.cap < 1 && sig.cap < sim, signals: sig.signals };
          })
          .reduce((a, b) => (b.score < a.score ? b : a)),
      );
      const signals = scored.map((s) => s.signals);
      return {
        score: round(sessionScore(scored)),
        perAction: scored.map((s) => round(s.score)),
        scorer: config.kind,
        ...(signals.some((s) => s.length > 0) ? { signals } : {}),
      };
    },
    async compare(a, b) {
      const [s] = await similarity(a, [b]);
      return round(s ?? 0);
    },
  };
}

/** An action as sent, and with only its selecting arguments (declared, not notes) when it has others. */
function agentViews(action: IntentAction): IntentAction[] {
  // A redacted value's length (`[REDACTED: 5 characters]`) is for the person approving: it says nothing of the intent.
  const a = action.args ? { ...action, args: withoutRedactedLengths(action.args) } : action;
  const selecting = a.args ? selectingArgs(a.args, a.declared) : undefined;
  return selecting ? [a, { ...a, args: selecting }] : [a];
}

/**
 * Each action's similarity, where the prose the agent wrote into its arguments (a reason, a comment:
 * values of three words or more) may lower the score and never raise it: the lower of the action's
 * text with its prose and without it. An agent cannot talk a call into its intent.
 */
async function agentProofSimilarity(similarity: Similarity, intent: string, actions: readonly IntentAction[]): Promise<number[]> {
  const full = actions.map((a) => actionText(a));
  const bare = actions.map((a) => actionText(a, { prose: false }));
  const extra = bare.flatMap((t, i) => (t === full[i] ? [] : [t]));
  const sims = await similarity(intent, [...full, ...extra]);
  let k = full.length;
  return full.map((t, i) => (bare[i] === t ? sims[i]! : Math.min(sims[i]!, sims[k++]!)));
}

/** The text an action is compared by: tool name, description, and salient arguments (`prose: false` leaves out prose values). */
export function actionText(a: IntentAction, opts: { readonly prose: boolean } = { prose: true }): string {
  const parts = [restText(a.tool), a.description ?? ''];
  if (a.args) collectSalient(a.args, parts, 0, opts.prose);
  return parts.join(' ').trim();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const METHOD_VERBS: Readonly<Record<string, string>> = { GET: 'get', POST: 'create', PUT: 'set', PATCH: 'update', DELETE: 'delete' };

/**
 * A REST-style tool (`PATCH /v1/pages/{page_id}/components/{component_id}`) in words: its method as
 * a verb and its path's resources (`update pages components`); the model reads words, not routes.
 */
export function restText(tool: string): string {
  const m = /^(GET|POST|PUT|PATCH|DELETE)\s+(\/\S*)$/.exec(tool);
  if (!m) return tool;
  const words = m[2]!
    .replace(/\{[^}]*\}/g, ' ')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w.length > 0 && !/^(v\d+|api)$/i.test(w));
  return [METHOD_VERBS[m[1]!]!, ...words].join(' ');
}

function collectSalient(value: unknown, parts: string[], depth: number, prose: boolean): void {
  if (depth > 2 || value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (v === true) parts.push(k); // a flag like testOnly says what the call is about
    else if (typeof v === 'string' && v.length <= 80 && !isRedactionMarker(v) && !UUID.test(v) && (prose || !isProse(v))) parts.push(v);
    else if (typeof v === 'object') collectSalient(v, parts, depth + 1, prose);
  }
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function checkCalibration(c: Calibration): Calibration {
  if (!(c.high > c.low)) throw new IntentConfigError(`invalid calibration: high \`${c.high}\` must be above low \`${c.low}\``);
  return c;
}
