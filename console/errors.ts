/** The console's one error: an HTTP status, a stable code and a one-sentence message. */
export class ConsoleError extends Error {
  readonly type = 'ConsoleError';
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
    this.name = 'ConsoleError';
  }
}
