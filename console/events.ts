/**
 * The inbox pushed to every open page (server-sent events): one reader re-reads the inbox while
 * anyone listens — every second, and at once after a vote — and sends it only when it changed.
 * The person never presses reload; the browser's EventSource reconnects by itself.
 */
export class InboxFeed {
  #listeners = new Set<(json: string) => void>();
  #last = '';
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;

  constructor(private readonly read: () => Promise<unknown>, private readonly everyMs = 1000) {}

  /** Sends the current inbox at once, then every change; returns the unsubscribe. */
  subscribe(send: (json: string) => void): () => void {
    this.#listeners.add(send);
    if (this.#last) send(this.#last);
    this.#timer ??= setInterval(() => this.nudge(), this.everyMs);
    this.nudge(true);
    return () => {
      this.#listeners.delete(send);
      if (this.#listeners.size === 0 && this.#timer) {
        clearInterval(this.#timer);
        this.#timer = undefined;
      }
    };
  }

  /** Re-reads now (one read at a time); `force` sends even when nothing changed. */
  nudge(force = false): void {
    if (this.#reading || this.#listeners.size === 0) return;
    this.#reading = (async () => {
      try {
        const json = JSON.stringify(await this.read());
        if (json !== this.#last || force) {
          this.#last = json;
          for (const l of this.#listeners) l(json);
        }
      } catch {
        // A failed read (Temporal or the database briefly away) is retried on the next tick.
      } finally {
        this.#reading = undefined;
      }
    })();
  }

  /** Stops the ticks and waits for a read in flight, so nothing calls Temporal after its connection closes. */
  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#listeners.clear();
    await this.#reading;
  }
}
