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
  readonly #done = (): void => {
    this.#open -= 1;
  };

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

  /**
   * `run` with fewer workflow promises (the SDK captures a stack trace for each): an idle queue
   * starts `task` at once, and its value is not wrapped. Starting a task earlier moves the commands
   * it issues relative to concurrent handlers, so only runs that took the `patched` lean path call it.
   */
  runNow<T>(task: () => T | Promise<T>): Promise<T> {
    const idle = this.#open === 0;
    this.#open += 1;
    let ran: Promise<T>;
    if (idle) {
      try {
        ran = Promise.resolve(task());
      } catch (err) {
        ran = Promise.reject(err);
      }
    } else {
      ran = this.#tail.then(task);
    }
    this.#tail = ran.then(this.#done, this.#done);
    return ran;
  }
}
