// Runs async tasks one at a time, in the order they were handed in. A failed task does not stop the ones
// queued behind it; its caller gets the failure.

export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Starts `task` once every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Settles once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.#tail.then(() => undefined);
  }
}
