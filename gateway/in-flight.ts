/**
 * Requests an agent has open at once, per gateway replica. The token bucket bounds how fast an
 * agent sends; a request held open (a `?wait=` poll, an MCP call awaiting a person for up to 15
 * minutes, an SSE stream) costs a socket and a timer for as long as it lasts, so at 50 requests a
 * second an agent could hold tens of thousands open and starve every other agent. Past the bound a
 * request is refused with 429 at once; each one leaves when its response closes, however it ends.
 */
import { Problem } from './problems';

export class InFlight {
  readonly #open = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts a request of `agentId` in, or throws a 429 problem at the bound; the returned function counts it out (once). */
  enter(agentId: string): () => void {
    const open = this.#open.get(agentId) ?? 0;
    if (open >= this.limit) {
      throw new Problem('too-many-in-flight', `agent \`${agentId}\` has ${open} requests open at once, the most it may have: let one finish first`, { limit: this.limit }, 1);
    }
    this.#open.set(agentId, open + 1);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const now = (this.#open.get(agentId) ?? 1) - 1;
      if (now <= 0) this.#open.delete(agentId);
      else this.#open.set(agentId, now);
    };
  }

  /** Requests `agentId` has open now. */
  open(agentId: string): number {
    return this.#open.get(agentId) ?? 0;
  }
}
