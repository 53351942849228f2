/**
 * Calls of one MCP session that are waiting for a person: the approval id, and the Temporal
 * update whose result is the call's final outcome (the update keeps running in Temporal
 * whatever happens to the HTTP request that started it).
 */
import type { ProposeResult } from '../../workflows/contract';

export interface HeldCall {
  readonly approvalId: string;
  readonly tool: string;
  /** Settles with the proposal's final outcome; never rejects (a failure is kept in `error`). */
  readonly outcome: Promise<{ readonly result?: ProposeResult; readonly error?: unknown }>;
  settled: boolean;
}

export class HeldCalls {
  readonly #calls = new Map<string, HeldCall>();

  add(approvalId: string, tool: string, result: Promise<ProposeResult>): HeldCall {
    const call: HeldCall = {
      approvalId,
      tool,
      settled: false,
      outcome: result.then(
        (r) => ({ result: r }),
        (error: unknown) => ({ error }),
      ),
    };
    void call.outcome.then(() => {
      call.settled = true;
    });
    this.#calls.set(approvalId, call);
    return call;
  }

  get(approvalId: string): HeldCall | undefined {
    return this.#calls.get(approvalId);
  }

  /** The held call that has no outcome yet, if any (a session handles its proposals in order). */
  open(): HeldCall | undefined {
    for (const c of this.#calls.values()) if (!c.settled) return c;
    return undefined;
  }
}
