// A deadline for one exchange with a peer over fetch (webhooks, a remote signer): every wait of it is raced
// against a timer this module holds. `AbortSignal.timeout` given to fetch alone did not always end it:
// Node's timer holds that signal only weakly, and against a signer that sent its headers and then never
// ended the body, about one call in thirty never settled (docs/node.md, "Deadlines on fetch are our own
// timers").

export interface ExchangeDeadline {
  /** Aborted when the deadline passes or the caller's signal aborts: the signal to give fetch. */
  readonly signal: AbortSignal;
  /**
   * `p`, or the deadline's error if the deadline comes first. A value `p` brings after that goes to
   * `late` (a response that came anyway is closed there, not left to the peer).
   */
  within<T>(p: Promise<T>, late?: (value: T) => void): Promise<T>;
  /** The exchange is over: the timer and the listener on the caller's signal go. */
  clear(): void;
}

/** Starts the deadline: `timeoutMs` from now (none when undefined), or sooner if `callerSignal` aborts. */
export function startExchangeDeadline(timeoutMs: number | undefined, callerSignal?: AbortSignal): ExchangeDeadline {
  const controller = new AbortController();
  let fail: (err: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {});
  let over = false;
  const end = (err: unknown) => {
    if (over) return;
    over = true;
    controller.abort(err);
    fail(err);
  };
  const timer =
    timeoutMs === undefined ? undefined : setTimeout(() => end(new DOMException(`no complete answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  const onCallerAbort = () => end(callerSignal?.reason);
  if (callerSignal?.aborted) end(callerSignal.reason);
  else callerSignal?.addEventListener('abort', onCallerAbort, { once: true });
  const bounded = timer !== undefined || callerSignal !== undefined;
  return {
    signal: controller.signal,
    within: <T>(p: Promise<T>, late?: (value: T) => void): Promise<T> =>
      bounded
        ? Promise.race([p, failed]).catch((err: unknown) => {
            if (over && late) p.then(late, () => {});
            throw err;
          })
        : p,
    clear: () => {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onCallerAbort);
    },
  };
}
