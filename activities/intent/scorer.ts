/**
 * Intent alignment: how close the actions a session executed are to the intent it declared.
 * Each action is described as text (tool name, description, salient arguments), compared with
 * the intent, and the similarities are averaged with exponential decay, so an action one
 * half-life old weighs half as much as one taken now. 1 = aligned, 0 = unrelated.
 *
 * Two similarity backends: `local` (default; word and trigram cosine over an operations
 * vocabulary, no network, no model) and `openai` (any OpenAI-compatible embeddings endpoint).
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
import { REDACTED } from '../tools/redact';

/** One executed action, as the workflow reports it. */
export interface IntentAction {
  readonly tool: string;
  /** What the tool does (the catalog description); the activity fills it in when it knows the catalog. */
  readonly description?: string;
  /** Redacted arguments; short string values and flags set to true add to the action's text. */
  readonly args?: Readonly<Record<string, unknown>>;
  /** When it ran: ISO 8601 or epoch ms. */
  readonly at: string | number;
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
  /** Calibrated similarity of each action, in input order. */
  readonly perAction: readonly number[];
  readonly scorer: IntentScorerConfig['kind'];
}

export interface IntentScorer {
  readonly kind: IntentScorerConfig['kind'];
  readonly halfLifeMs: number;
  score(input: ScoreIntentInput): Promise<IntentScore>;
  /** Calibrated similarity of two intents (a sub-agent's and its parent's), 0..1. */
  compare(a: string, b: string): Promise<number>;
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
    similarity = async (intent, texts) => texts.map((t) => calibrate(textSimilarity(intent, t), cal));
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

  return {
    kind: config.kind,
    halfLifeMs,
    async score(input) {
      if (input.actions.length === 0) return { score: 1, perAction: [], scorer: config.kind };
      const perAction = await similarity(input.intent, input.actions.map(actionText));
      const now = toMs(input.now);
      let num = 0;
      let den = 0;
      input.actions.forEach((a, i) => {
        const age = Math.max(0, now - toMs(a.at));
        const w = Math.pow(0.5, age / halfLifeMs);
        num += w * perAction[i]!;
        den += w;
      });
      // All weights can underflow to 0 for very old actions: then they count equally.
      const score = den > 0 ? num / den : perAction.reduce((s, x) => s + x, 0) / perAction.length;
      return { score: round(score), perAction: perAction.map(round), scorer: config.kind };
    },
    async compare(a, b) {
      const [s] = await similarity(a, [b]);
      return round(s ?? 0);
    },
  };
}

/** The text an action is compared by: tool name, description, and salient arguments. */
export function actionText(a: IntentAction): string {
  const parts = [a.tool, a.description ?? ''];
  if (a.args) collectSalient(a.args, parts, 0);
  return parts.join(' ').trim();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function collectSalient(value: unknown, parts: string[], depth: number): void {
  if (depth > 2 || value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (v === true) parts.push(k); // a flag like testOnly says what the call is about
    else if (typeof v === 'string' && v.length <= 80 && v !== REDACTED && !UUID.test(v)) parts.push(v);
    else if (typeof v === 'object') collectSalient(v, parts, depth + 1);
  }
}

function toMs(t: string | number): number {
  const ms = typeof t === 'number' ? t : Date.parse(t);
  return Number.isFinite(ms) ? ms : 0;
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function checkCalibration(c: Calibration): Calibration {
  if (!(c.high > c.low)) throw new IntentConfigError(`invalid calibration: high \`${c.high}\` must be above low \`${c.low}\``);
  return c;
}
