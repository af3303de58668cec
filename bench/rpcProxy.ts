// A loopback TCP proxy in front of the chain's JSON-RPC, for bench/chaos.ts: it can cut the link. While
// cut, live connections are reset and new ones are accepted but never answered (a hung endpoint, the
// worst case for a client: it learns only from its own time-outs); restore() resets the held ones.
import { connect, createServer, type Socket } from 'node:net';

export interface RpcProxy {
  /** http://127.0.0.1:port */
  url: string;
  cut(): void;
  restore(): void;
  readonly stats: { connections: number; heldWhileCut: number; resetByCut: number };
  close(): Promise<void>;
}

export async function startRpcProxy(target: string): Promise<RpcProxy> {
  const { hostname, port } = new URL(target);
  const live = new Set<Socket>();
  const held = new Set<Socket>();
  const stats = { connections: 0, heldWhileCut: 0, resetByCut: 0 };
  let isCut = false;
  const server = createServer((client) => {
    client.on('error', () => {});
    if (isCut) {
      stats.heldWhileCut++;
      client.pause();
      held.add(client);
      client.once('close', () => held.delete(client));
      return;
    }
    stats.connections++;
    const upstream = connect(Number(port), hostname);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
    client.pipe(upstream).pipe(client);
    for (const s of [client, upstream]) {
      live.add(s);
      s.once('close', () => {
        live.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    stats,
    cut() {
      isCut = true;
      for (const s of live) {
        stats.resetByCut++;
        s.resetAndDestroy();
      }
    },
    restore() {
      isCut = false;
      for (const s of held) s.resetAndDestroy();
    },
    close() {
      for (const s of [...live, ...held]) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
