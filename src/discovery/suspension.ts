// Orchestrators that failed a stream sit out for a number of discovery refreshes.
// go-livepeer's penalty is not offset by the current refresh count, so a suspension can lapse at once
// on long streams; here it lasts until `current refresh + penalty`.

export class Suspensions {
  private refreshes = 0;
  private readonly until = new Map<string, number>();
  private readonly reasons = new Map<string, string>();

  /** Called at every discovery refresh. */
  tick(): void {
    this.refreshes++;
    for (const [uri, until] of this.until) {
      if (until < this.refreshes) {
        this.until.delete(uri);
        this.reasons.delete(uri);
      }
    }
  }

  suspend(uri: string, penalty: number, reason: string): void {
    this.until.set(uri, this.refreshes + Math.max(1, penalty));
    this.reasons.set(uri, reason);
  }

  /** Lifts every suspension (an AI selector does this when it has no orchestrator left at all). */
  releaseAll(): void {
    this.until.clear();
    this.reasons.clear();
  }

  isSuspended(uri: string): boolean {
    const until = this.until.get(uri);
    // as go-livepeer: suspended while the counter is ≥ the refresh count
    return until !== undefined && until >= this.refreshes;
  }

  reason(uri: string): string | undefined {
    return this.isSuspended(uri) ? this.reasons.get(uri) : undefined;
  }

  /** Remaining refreshes; used to pick the least-penalised suspended orchestrator in a shortage. */
  remaining(uri: string): number {
    return this.isSuspended(uri) ? this.until.get(uri)! - this.refreshes + 1 : 0;
  }

  list(): { uri: string; reason: string; refreshesLeft: number }[] {
    return [...this.until.keys()]
      .filter((u) => this.isSuspended(u))
      .map((uri) => ({ uri, reason: this.reasons.get(uri) ?? '', refreshesLeft: this.remaining(uri) }));
  }
}
