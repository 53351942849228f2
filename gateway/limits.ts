/**
 * Per-agent limits: a token bucket of requests (a burst of `burst`, refilled at `perSecond`), held
 * by each gateway replica (N replicas admit at most N × burst at once), and the numbers of the cap
 * on a root agent's open sessions, which `admissions.ts` reserves across every replica. Both
 * answer 429 with `Retry-After`.
 */
import { Problem } from './problems';

export interface GatewayLimits {
  /** Requests per second per agent, sustained. @default 50 */
  readonly requestsPerSecond: number;
  /** Requests per agent allowed at once above the sustained rate. @default 100 */
  readonly burst: number;
  /** Open (running) sessions per root agent, HTTP and MCP together. @default 20 */
  readonly openSessions: number;
  /** Largest request body in bytes (a proposal is capped at 64 KiB by the workflow too). @default 65536 */
  readonly bodyBytes: number;
  /** An MCP session unused this long is closed and its Gatehouse session ended (freeing its slot). @default 1800 */
  readonly mcpIdleSeconds: number;
  /** Requests per agent open at once (long polls, held MCP calls, SSE streams), per replica. @default 200 */
  readonly requestsInFlight: number;
}

export const DEFAULT_LIMITS: GatewayLimits = { requestsPerSecond: 50, burst: 100, openSessions: 20, bodyBytes: 64 * 1024, mcpIdleSeconds: 30 * 60, requestsInFlight: 200 };

interface Bucket {
  tokens: number;
  at: number;
}

/** One token bucket per agent. */
export class RateLimiter {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly perSecond: number,
    private readonly burst: number,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /**
   * Takes `count` tokens for `agentId`, all or none (a JSON-RPC batch is `count` requests); throws
   * a 429 problem with the seconds until there are enough.
   */
  take(agentId: string, count = 1): void {
    const now = this.now();
    const b = this.#buckets.get(agentId) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    this.#buckets.set(agentId, b);
    if (b.tokens < count) {
      const retryAfter = Math.max(1, Math.ceil((count - b.tokens) / this.perSecond));
      const what = count === 1 ? '' : `: a batch of ${count} requests is over what is left`;
      throw new Problem('rate-limited', `agent \`${agentId}\` is over ${this.perSecond} requests per second${what}`, { limit: this.perSecond, burst: this.burst }, retryAfter);
    }
    b.tokens -= count;
    if (this.#buckets.size > 100_000) this.#forgetFull(now);
  }

  /** How many agents' buckets are held: bounded, since full ones are dropped once there are more than 100,000. */
  get tracked(): number {
    return this.#buckets.size;
  }

  /** Drops buckets that have refilled completely (they hold no information). */
  #forgetFull(now: number): void {
    for (const [agent, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.perSecond >= this.burst) this.#buckets.delete(agent);
    }
  }
}
