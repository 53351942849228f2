/**
 * Configuration of the intent scorer, and how to read it from the environment:
 * `GATEHOUSE_INTENT_SCORER` (`local`, the default, or `openai`), `GATEHOUSE_EMBEDDINGS_URL` (base
 * URL, e.g. `https://api.openai.com/v1`; `/embeddings` is appended), `GATEHOUSE_EMBEDDINGS_MODEL`
 * (default `text-embedding-3-small`), `GATEHOUSE_EMBEDDINGS_API_KEY`, and
 * `GATEHOUSE_INTENT_HALF_LIFE_MS` (default 15 minutes).
 */
import { IntentConfigError } from './errors';

/** Raw similarity → 0..1 alignment: `low` and below is 0, `high` and above is 1, linear between. */
export interface Calibration {
  readonly low: number;
  readonly high: number;
}

interface Common {
  /**
   * Age at which an action weighs half as much as one taken now.
   * @default 900000 (15 minutes)
   */
  readonly halfLifeMs?: number;
  readonly calibration?: Calibration;
}

export interface LocalScorerConfig extends Common {
  readonly kind: 'local';
}

export interface OpenAIScorerConfig extends Common {
  readonly kind: 'openai';
  /** Base URL of an OpenAI-compatible API; requests go to `${baseUrl}/embeddings`. */
  readonly baseUrl: string;
  /** @default 'text-embedding-3-small' */
  readonly model?: string;
  readonly apiKey?: string;
  /** @default 10000 */
  readonly timeoutMs?: number;
}

export type IntentScorerConfig = LocalScorerConfig | OpenAIScorerConfig;

export const DEFAULT_HALF_LIFE_MS = 15 * 60_000;
/** Calibrated on the sample catalog (see test/intent/local.test.ts): unrelated tools score ≤ 0.05 raw, the same task ≥ 0.5. */
export const LOCAL_CALIBRATION: Calibration = { low: 0.1, high: 0.55 };
/** Typical for general-purpose embedding models, whose unrelated texts still sit around 0.1–0.2. */
export const EMBEDDINGS_CALIBRATION: Calibration = { low: 0.2, high: 0.7 };
/**
 * all-MiniLM-L6-v2 (the local model, worker/embeddings): raw cosine 0.5 and above is the same task;
 * below, linear down to 0. Chosen on all four labelled sets (issue 27, session 12): 0.2–0.55 left
 * aligned sessions in slang (lowest cosine ≈ 0.37) under the threshold and tied every cosine under
 * 0.2 at 0; the scope and effect caps, not the cosine, now catch most deviations.
 */
export const MINILM_CALIBRATION: Calibration = { low: 0, high: 0.5 };
export const DEFAULT_EMBEDDINGS_MODEL = 'text-embedding-3-small';

/** Reads the scorer configuration from the environment; throws `IntentConfigError` when it is incomplete. */
export function intentConfigFromEnv(env: NodeJS.ProcessEnv = process.env): IntentScorerConfig {
  const kind = (env.GATEHOUSE_INTENT_SCORER ?? 'local').trim() || 'local';
  let halfLifeMs: number | undefined;
  if (env.GATEHOUSE_INTENT_HALF_LIFE_MS) {
    halfLifeMs = Number(env.GATEHOUSE_INTENT_HALF_LIFE_MS);
    if (!(Number.isFinite(halfLifeMs) && halfLifeMs > 0)) {
      throw new IntentConfigError(`invalid GATEHOUSE_INTENT_HALF_LIFE_MS \`${env.GATEHOUSE_INTENT_HALF_LIFE_MS}\`: expected a positive number of milliseconds`);
    }
  }
  const common = halfLifeMs === undefined ? {} : { halfLifeMs };
  if (kind === 'local') return { kind: 'local', ...common };
  if (kind !== 'openai') throw new IntentConfigError(`unknown GATEHOUSE_INTENT_SCORER \`${kind}\`: expected \`local\` or \`openai\``);
  const baseUrl = env.GATEHOUSE_EMBEDDINGS_URL;
  if (!baseUrl) throw new IntentConfigError('GATEHOUSE_INTENT_SCORER is `openai` but GATEHOUSE_EMBEDDINGS_URL is not set');
  try {
    new URL(baseUrl);
  } catch {
    // Not echoed: text that is no URL may still hold a key.
    throw new IntentConfigError('invalid GATEHOUSE_EMBEDDINGS_URL: not a URL');
  }
  return {
    kind: 'openai',
    baseUrl,
    model: env.GATEHOUSE_EMBEDDINGS_MODEL || DEFAULT_EMBEDDINGS_MODEL,
    ...(env.GATEHOUSE_EMBEDDINGS_API_KEY ? { apiKey: env.GATEHOUSE_EMBEDDINGS_API_KEY } : {}),
    ...common,
  };
}
