// Results of image-to-video requests sent with `Prefer: respond-async`: 202 {"request_id"} at once,
// then POST /image-to-video/result {"request_id"} polls. Bounded in count and kept for an hour.

export type AsyncResult = { status: 'processing' } | { status: 'complete'; result: unknown };

export class AsyncResults {
  private readonly entries = new Map<string, { value: AsyncResult; at: number }>();

  constructor(
    private readonly max = 1000,
    private readonly maxAgeMs = 3600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** false when the store is full of requests still processing (the client gets a 503). */
  start(id: string): boolean {
    this.expire();
    if (this.entries.size >= this.max) {
      const done = [...this.entries].find(([, e]) => e.value.status === 'complete');
      if (!done) return false;
      this.entries.delete(done[0]);
    }
    this.entries.set(id, { value: { status: 'processing' }, at: this.now() });
    return true;
  }

  complete(id: string, result: unknown): void {
    this.entries.set(id, { value: { status: 'complete', result }, at: this.now() });
  }

  get(id: string): AsyncResult | undefined {
    this.expire();
    return this.entries.get(id)?.value;
  }

  private expire(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [id, e] of this.entries) if (e.at < cutoff) this.entries.delete(id);
  }
}
