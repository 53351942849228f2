/** Errors of intent scoring, each with a stable `type` and a `retryable` flag. */

/** Base class: a stable `type` (what the activity's failure carries) and whether a retry can succeed. */
export abstract class IntentError extends Error {
  abstract readonly type: string;
  abstract readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Thrown when the scorer's configuration is incomplete or malformed. */
export class IntentConfigError extends IntentError {
  readonly type = 'IntentConfigError';
  readonly retryable = false;
}

/** Thrown when the embeddings endpoint fails: retryable for network errors and 5xx/429, not for other 4xx. */
export class IntentScorerError extends IntentError {
  readonly type: 'EmbeddingsUnavailable' | 'EmbeddingsRejected' | 'EmbeddingsMalformed';
  readonly retryable: boolean;
  readonly status?: number;
  constructor(type: IntentScorerError['type'], message: string, opts: { retryable: boolean; status?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.type = type;
    this.retryable = opts.retryable;
    if (opts.status !== undefined) this.status = opts.status;
  }
}
