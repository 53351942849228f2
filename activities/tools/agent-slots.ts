/**
 * Connections of the catalog's pool that one root agent's upstream calls hold at once. A call holds
 * a connection for as long as it runs (the ledger's row lock spans the handler, and an upstream
 * call can take minutes), so one agent's slow upstream calls could take every connection and stall
 * every other agent's calls on the worker. An agent past its share waits here, holding no
 * connection, in the order it asked; a slot freed goes straight to the next one waiting.
 */
export class AgentSlots {
  readonly #held = new Map<string, number>();
  readonly #waiting = new Map<string, (() => void)[]>();

  constructor(readonly perAgent: number) {}

  /** Takes one of the agent's slots (waiting for one while `signal` allows); call the result to give it back. */
  async acquire(agent: string, signal?: AbortSignal): Promise<() => void> {
    const held = this.#held.get(agent) ?? 0;
    if (held < this.perAgent) this.#held.set(agent, held + 1);
    else await this.#wait(agent, signal);
    let given = false;
    return () => {
      if (given) return;
      given = true;
      this.#release(agent);
    };
  }

  #wait(agent: string, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      signal?.throwIfAborted();
      const queue = this.#waiting.get(agent) ?? [];
      this.#waiting.set(agent, queue);
      const onAbort = () => {
        const at = queue.indexOf(wake);
        if (at >= 0) queue.splice(at, 1);
        if (queue.length === 0) this.#waiting.delete(agent);
        reject(signal!.reason);
      };
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      queue.push(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #release(agent: string): void {
    const queue = this.#waiting.get(agent);
    const next = queue?.shift();
    if (queue?.length === 0) this.#waiting.delete(agent);
    // Handed over: the slot stays counted for the one that waited.
    if (next) return next();
    const held = (this.#held.get(agent) ?? 1) - 1;
    if (held > 0) this.#held.set(agent, held);
    else this.#held.delete(agent);
  }
}
