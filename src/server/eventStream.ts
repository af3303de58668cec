// Server-sent events (text/event-stream) for /events and the dashboard: every event goes to every
// connected client. Bounded: a limited number of clients, and a client that stops reading (its unsent
// bytes pass a limit) is disconnected rather than buffered for.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendText } from '../lib/http.ts';

export interface EventStreamOptions {
  /** clients at most (default 32); more get 503 */
  maxClients?: number;
  /** unsent bytes one client may hold up before it is dropped (default 1 MiB) */
  maxBufferedBytes?: number;
  /** a comment line this often keeps proxies and idle sockets open (default 15 s) */
  heartbeatMs?: number;
}

export class EventStreamHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #maxClients: number;
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;
  #nextId = 0;
  #dropped = 0;

  constructor(opts: EventStreamOptions = {}) {
    this.#maxClients = opts.maxClients ?? 32;
    this.#maxBuffered = opts.maxBufferedBytes ?? 1 << 20;
    this.#heartbeat = setInterval(() => this.#broadcast(': keep-alive\n\n'), opts.heartbeatMs ?? 15_000);
    this.#heartbeat.unref();
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Clients disconnected because they did not keep up. */
  get droppedClients(): number {
    return this.#dropped;
  }

  /** Answers a GET with the event stream (the caller decided the request may have it). */
  handle(req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendText(res, 405, 'method not allowed', { Allow: 'GET' });
    if (this.#clients.size >= this.#maxClients) return sendText(res, 503, `too many event stream clients (${this.#maxClients})`);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      Connection: 'keep-alive',
    });
    if (req.method === 'HEAD') return void res.end();
    res.socket?.setNoDelay(true);
    // A browser waits this long before reconnecting.
    res.write('retry: 3000\n\n');
    this.#clients.add(res);
    const gone = () => this.#clients.delete(res);
    res.on('close', gone);
    req.on('close', gone);
  }

  /** Sends one event (its name and a JSON payload) to every client. */
  publish(event: string, payload: unknown): void {
    if (this.#clients.size === 0) return;
    this.#nextId += 1;
    // JSON.stringify leaves no raw newline in the data line; the name is ours.
    this.#broadcast(`id: ${this.#nextId}\nevent: ${event}\ndata: ${JSON.stringify(payload)}\n\n`);
  }

  #broadcast(chunk: string): void {
    for (const res of this.#clients) {
      if (res.writableLength > this.#maxBuffered) {
        this.#dropped += 1;
        this.#clients.delete(res);
        res.destroy();
        continue;
      }
      res.write(chunk);
    }
  }

  /** Ends every client's stream. */
  close(): void {
    clearInterval(this.#heartbeat);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
  }
}
