// A deadline for an answer from a peer that is not missed because this process was late. Node runs due
// timers before it reads the sockets in each turn of its event loop: after a long stretch of work (a busy
// core, a garbage collection) a timer whose time has passed fires before the answer that came in time is
// read, and a peer that answered on time would be failed, its work paid for and redone elsewhere. Here
// the expiry waits for the turn's socket reads (setImmediate runs after them) and is dropped if the answer
// was among them. A peer that did not answer still fails within one turn of its deadline.

export interface Deadline {
  /** The answer came: the deadline will not expire (idempotent). */
  clear(): void;
}

/** Calls `onExpire` once `ms` have passed and the sockets ready by then have been read, unless cleared first. */
export function startDeadline(ms: number, onExpire: () => void): Deadline {
  let cleared = false;
  let pending: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    pending = setImmediate(() => {
      pending = undefined;
      if (!cleared) onExpire();
    });
  }, ms);
  return {
    clear: () => {
      cleared = true;
      clearTimeout(timer);
      if (pending) clearImmediate(pending);
    },
  };
}
