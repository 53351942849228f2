/** Errors of intent scoring, each with a stable `type` and a `retryable` flag. */

/** Thrown when the scorer's configuration is incomplete or malformed. */
export class IntentConfigError extends Error {
  readonly type = 'IntentConfigError';
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'IntentConfigError';
  }
}

/** Thrown when the embeddings endpoint fails: retryable for network errors and 5xx/429, not for other 4xx. */
export class IntentScorerError extends Error {
  readonly type: 'EmbeddingsUnavailable' | 'EmbeddingsRejected' | 'EmbeddingsMalformed';
  readonly retryable: boolean;
  readonly status?: number;
  constructor(type: IntentScorerError['type'], message: string, opts: { retryable: boolean; status?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'IntentScorerError';
    this.type = type;
    this.retryable = opts.retryable;
    if (opts.status !== undefined) this.status = opts.status;
  }
}
