// One log line for an event that may come in floods (connections refused by a limit): at the first, and
// then at most one per interval with the count since the line before. A flood that stops is still counted:
// what came after the last line is reported when its interval ends, or when the reporter is closed.

export class ThrottledReport<T> {
  readonly #intervalMs: number;
  readonly #report: (count: number, last: T) => void;
  readonly #now: () => number;
  #count = 0;
  #last: T | undefined;
  #reportedAt = Number.NEGATIVE_INFINITY;
  #timer: NodeJS.Timeout | undefined;

  /** `report(count, last)`: the events since the last report and the detail of the latest one. */
  constructor(intervalMs: number, report: (count: number, last: T) => void, now: () => number = Date.now) {
    this.#intervalMs = intervalMs;
    this.#report = report;
    this.#now = now;
  }

  add(detail: T): void {
    this.#count++;
    this.#last = detail;
    const wait = this.#reportedAt + this.#intervalMs - this.#now();
    if (wait <= 0) this.flush();
    // (the timer does not keep the process up: close() reports what is left at shutdown)
    else this.#timer ??= setTimeout(() => this.flush(), wait).unref();
  }

  /** Reports what came since the last report, if anything. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#count === 0) return;
    const [count, last] = [this.#count, this.#last as T];
    this.#count = 0;
    this.#last = undefined;
    this.#reportedAt = this.#now();
    this.#report(count, last);
  }

  /** Reports what is left; nothing is counted after. */
  close(): void {
    this.flush();
    this.add = () => {};
  }
}
