// Shutdown without dropping work: once draining, the HTTP faces refuse new jobs and pushes (503, so a
// load balancer retries elsewhere; /healthz says 503 too) while requests already running finish, up to a
// bound. Reads (playlists, segments, outputs) are still served until the listener closes.
import type { ServerResponse } from 'node:http';
import type { HttpRoute } from '../lib/http.ts';

function refuse(res: ServerResponse): void {
  const data = Buffer.from(`${JSON.stringify({ error: { message: 'the gateway is shutting down; retry on another instance', code: 'SHUTTING_DOWN' } })}\n`);
  res.writeHead(503, { 'Content-Type': 'application/json', 'Content-Length': String(data.length), 'Retry-After': '1', Connection: 'close' });
  res.end(data);
}

export class DrainGate {
  #draining = false;
  #inFlight = 0;
  #idle: (() => void)[] = [];

  get draining(): boolean {
    return this.#draining;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  wrap(route: HttpRoute): HttpRoute {
    return async (req, res) => {
      const write = req.method !== 'GET' && req.method !== 'HEAD';
      if (this.#draining && write) {
        req.resume();
        refuse(res);
        return true;
      }
      if (!write) return route(req, res);
      this.#inFlight += 1;
      try {
        return await route(req, res);
      } finally {
        this.#inFlight -= 1;
        if (this.#inFlight === 0) for (const wake of this.#idle.splice(0)) wake();
      }
    };
  }

  /** Stops taking new work; resolves true once running requests finished, false when `boundMs` passed first. */
  async drain(boundMs: number): Promise<boolean> {
    this.#draining = true;
    if (this.#inFlight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      new Promise<true>((resolve) => this.#idle.push(() => resolve(true))),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), boundMs);
      }),
    ]);
    clearTimeout(timer);
    return done;
  }
}
