// Transcoding sessions (one per auth token's session id): the -maxSessions cap, an idle timeout, and
// a short queue so a session's segments are transcoded one after another, as go-livepeer does.
import type { Logger } from '../../../src/lib/log.ts';
import { TranscodeError } from './transcode.ts';

/** A session nobody sent a segment to for this long ends (go-livepeer's transcode loop timeout). */
export const SESSION_IDLE_MS = 70_000;
/** Segments waiting in one session beyond this are refused with OrchestratorBusy. */
export const SESSION_QUEUE = 4;

export interface TranscodeSession {
  id: string;
  pending: number;
  chain: Promise<unknown>;
  idle?: NodeJS.Timeout;
}

export class TranscodeSessions {
  private readonly sessions = new Map<string, TranscodeSession>();

  constructor(
    readonly maxSessions: number,
    private readonly log: Logger,
    /** Called when a session ends, to drop what it left behind. */
    private readonly onEnd: (id: string) => void,
  ) {}

  /** True when no new session can start; `id` names one that may already exist. */
  full(id?: string): boolean {
    if (id !== undefined && this.sessions.has(id)) return false;
    return this.sessions.size >= this.maxSessions;
  }

  /** The session, started if new, with its idle timer restarted. */
  touch(id: string): TranscodeSession {
    let s = this.sessions.get(id);
    if (!s) {
      s = { id, pending: 0, chain: Promise.resolve() };
      this.sessions.set(id, s);
    }
    if (s.idle) clearTimeout(s.idle);
    s.idle = setTimeout(() => this.end(id, 'idle'), SESSION_IDLE_MS);
    s.idle.unref();
    return s;
  }

  end(id: string, why: string): void {
    const s = this.sessions.get(id);
    if (s?.idle) clearTimeout(s.idle);
    this.sessions.delete(id);
    this.onEnd(id);
    this.log.debug({ event: 'session-end', sessionId: id, why }, 'transcoding session ended');
  }

  endAll(why: string): void {
    for (const id of [...this.sessions.keys()]) this.end(id, why);
  }

  /** Runs `job` after the session's earlier jobs; refuses when too many are waiting. */
  async run<T>(session: TranscodeSession, job: () => Promise<T>): Promise<T> {
    if (session.pending >= SESSION_QUEUE) throw new TranscodeError('OrchestratorBusy');
    session.pending++;
    const run = session.chain.then(job);
    session.chain = run.catch(() => {});
    try {
      return await run;
    } finally {
      session.pending--;
    }
  }
}
