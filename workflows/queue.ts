/**
 * A workflow-level serial queue. Temporal runs update handlers concurrently (they interleave at
 * every `await`); proposals of one session must be handled one at a time, in the order they were
 * accepted, because sequence rules (forbidden transitions, budgets, rate windows) need an order.
 *
 * Workflow-safe: plain promises, which the sandbox schedules deterministically.
 */

/** What one queued task yields: the value returned to its caller. */
export interface QueueStep<T> {
  readonly value: T;
}

export class SerialQueue {
  #tail: Promise<void> = Promise.resolve();
  #open = 0;

  /** True when no task is queued or running (continue-as-new happens only then). */
  get idle(): boolean {
    return this.#open === 0;
  }

  /** Queues `task`; resolves with its value once every earlier task has finished. */
  run<T>(task: () => Promise<QueueStep<T>>): Promise<T> {
    this.#open += 1;
    return new Promise<T>((resolve, reject) => {
      this.#tail = this.#tail.then(async () => {
        try {
          const step = await task();
          resolve(step.value);
        } catch (err) {
          reject(err);
        } finally {
          this.#open -= 1;
        }
      });
    });
  }
}
