/** Intent alignment: scorers (local by default, OpenAI-compatible embeddings by configuration) and their activities. */
export { createIntentScorer, actionText } from './scorer';
export type { IntentAction, IntentScore, IntentScorer, ScoreIntentInput } from './scorer';
export { intentConfigFromEnv, DEFAULT_HALF_LIFE_MS, LOCAL_CALIBRATION, EMBEDDINGS_CALIBRATION, MINILM_CALIBRATION, DEFAULT_EMBEDDINGS_MODEL } from './config';
export type { Calibration, IntentScorerConfig, LocalScorerConfig, OpenAIScorerConfig } from './config';
export { createIntentActivities } from './activities';
export type { IntentActivities } from './activities';
export { IntentConfigError, IntentError, IntentScorerError } from './errors';
