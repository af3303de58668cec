// A deadline for an answer from a peer that is not missed because this process was late. Node runs due
// timers before it reads the sockets in each turn of its event loop: after a long stretch of work (a busy
// core, a garbage collection) a timer whose time has passed fires before the answer that came in time is
// read, and a peer that answered on time would be failed, its work paid for and redone elsewhere. Here
// the expiry waits for the turn's socket reads (setImmediate runs after them) and is dropped if the answer
// was among them. A peer that did not answer still fails within one turn of its deadline. A caller may also
// say when what is late is its own work (an upload this process had no time to send): the deadline then
// looks again later instead of expiring.

export interface Deadline {
  /** The answer came: the deadline will not expire (idempotent). */
  clear(): void;
}

export interface DeadlineOptions {
  /**
   * Asked when the deadline is due: true while what is late is this process's own work, not the peer's
   * answer; the deadline is then looked at again every `recheckMs`. Another deadline must bound it.
   */
  lateByUs?: () => boolean;
  /** ms between those looks (default 250) */
  recheckMs?: number;
}

/**
 * Calls `onExpire` once `ms` have passed and the sockets ready by then have been read, unless cleared first
 * (or, with `lateByUs`, while the lateness is ours).
 */
export function startDeadline(ms: number, onExpire: () => void, opts: DeadlineOptions = {}): Deadline {
  let cleared = false;
  let timer: NodeJS.Timeout | undefined;
  let pending: NodeJS.Immediate | undefined;
  const arm = (after: number): void => {
    timer = setTimeout(() => {
      pending = setImmediate(() => {
        pending = undefined;
        if (cleared) return;
        if (opts.lateByUs?.()) return arm(opts.recheckMs ?? 250);
        onExpire();
      });
    }, after);
  };
  arm(ms);
  return {
    clear: () => {
      cleared = true;
      clearTimeout(timer);
      if (pending) clearImmediate(pending);
    },
  };
}
