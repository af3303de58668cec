// RTMP ingest (-rtmpAddr): accepts publishes, asks the caller whether to take
// each one, and plays accepted streams back over RTMP to the local segmenter.
//
// Built from node-media-server 4's RTMP protocol state machine and its
// per-stream fan-out, on our own TCP listener. Its NodeMediaServer wrapper does
// not fit a gateway: it cannot listen on port 0, exits the process when the
// port is taken, writes a store under ./data, only accepts [A-Za-z0-9_-] in
// app and stream names (so `movie/Secret/Key` keys fail) and keeps a stream
// "alive" for 30 s after its publisher left.
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import AVPacket from 'node-media-server/src/core/avpacket.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import BroadcastServer from 'node-media-server/src/server/broadcast_server.js';
import { formatHost } from '../lib/listenAddr.ts';
import { splitStreamPath, streamIdsFromPath, urlPath } from './streamPath.ts';

/** What the caller sees of a publish before deciding on it. */
export interface RtmpPublishInfo {
  /** From the URL path (random 8-hex when the path names none). */
  readonly manifestId: string;
  /** From the URL path (random 12-hex when absent). */
  readonly streamKey: string;
  /** The publish URL as the client sent it, query included (what the auth webhook gets). */
  readonly publishUrl: string;
  readonly remoteAddress: string;
}

/**
 * The caller's verdict on a publish. An accepted publish may rename the stream
 * (auth webhook answer); `context` is handed back on the RtmpStream.
 */
export type PublishDecision<C> = { accept: true; manifestId?: string; streamKey?: string; context: C } | { accept: false; reason: string };

/** Metadata the publisher announced in onMetaData (0 when not sent). */
export interface RtmpStreamMetadata {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
}

/** A live, accepted publish. */
export interface RtmpStream<C> {
  readonly manifestId: string;
  readonly streamKey: string;
  readonly publishUrl: string;
  readonly remoteAddress: string;
  /** Local RTMP play URL of this stream, for the segmenter: `rtmp://127.0.0.1:<port>/stream/<mid>/<key>`. */
  readonly playbackUrl: string;
  readonly context: C;
  readonly startedAt: Date;
  metadata(): RtmpStreamMetadata;
  /** Disconnect the publisher and end the stream (e.g. the segmenter stalled). */
  close(reason: string): void;
}

export interface RtmpServerOptions<C> {
  /** Default 127.0.0.1. A wildcard host (0.0.0.0, ::) still plays back over loopback. */
  host?: string;
  /** Default 1935; 0 picks a free port. */
  port?: number;
  /**
   * Decide on each publish: auth webhook, -maxSessions, streams live on other
   * ingests… A throw counts as a refusal. The server itself refuses a publish
   * whose manifest ID is already live here, before and after this hook.
   */
  authorize(info: RtmpPublishInfo): Promise<PublishDecision<C>>;
  onStreamStarted?(stream: RtmpStream<C>): void;
  /** Called once per started stream, when its publisher leaves or close() was called. */
  onStreamEnded?(stream: RtmpStream<C>, reason: string): void;
  log?: Logger;
  /** A connection that has neither published nor played after this long is dropped. Default 15 s. */
  handshakeTimeoutMs?: number;
  /**
   * Require the stream key for RTMP play (`/stream/<mid>/<key>`). go-livepeer
   * checks only the manifest ID; default true, so the source is not open to
   * anyone who can guess a name.
   */
  requirePlayKey?: boolean;
}

export interface RtmpServer<C> {
  readonly host: string;
  readonly port: number;
  /** `rtmp://host:port` for publishers. */
  readonly url: string;
  stream(manifestId: string): RtmpStream<C> | undefined;
  streams(): RtmpStream<C>[];
  /** Stop listening, disconnect everyone, end all streams. */
  close(): Promise<void>;
}

// A peer that opens more chunk streams than this is not a real encoder.
const MAX_CHUNK_STREAMS = 64;

// node-media-server logs to stdout through one shared logger; send its lines to ours.
let nmsLogSink: Logger | undefined;
nmsLogger.log = (message: string, level?: string) => {
  if (!nmsLogSink) return;
  if (level === 'error' || level === 'warn') nmsLogSink.debug({ nms: level }, message);
  else nmsLogSink.trace({ nms: level }, message);
};

interface LiveEntry<C> {
  stream: RtmpStream<C>;
  broadcast: BroadcastServer;
  end(reason: string): void;
}

export async function startRtmpServer<C>(opts: RtmpServerOptions<C>): Promise<RtmpServer<C>> {
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log;
  if (log) nmsLogSink = log;
  const handshakeTimeoutMs = opts.handshakeTimeoutMs ?? 15_000;
  const requirePlayKey = opts.requirePlayKey ?? true;
  const live = new Map<string, LiveEntry<C>>();
  const sockets = new Set<Socket>();
  let closed = false;
  let playbackBase = '';

  const server: Server = createServer((socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket);
  });

  /** One TCP connection: a publisher, a player, or a peer that never gets that far. */
  class Connection {
    readonly rtmp = new Rtmp();
    // Fields read by node-media-server's fan-out (BroadcastSession).
    readonly id = randomUUID();
    readonly ip: string;
    readonly protocol = 'rtmp';
    streamPath = '';
    streamQuery: Record<string, unknown> = {};
    playCount = 0;
    endTime = 0;
    videoWidth = 0;
    videoHeight = 0;
    videoFramerate = 0;
    videoCodec = 0;
    audioCodec = 0;

    role: 'none' | 'pending' | 'publisher' | 'player' = 'none';
    rawStreamName = '';
    readonly heldHeaders = new Map<number, AVPacket>();
    broadcast: BroadcastServer | undefined;
    entry: LiveEntry<C> | undefined;
    readonly handshakeTimer: NodeJS.Timeout;

    constructor(readonly socket: Socket) {
      this.ip = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
      socket.setNoDelay(true);
      const rtmp = this.rtmp;
      rtmp.onOutputCallback = (buf) => this.sendBuffer(buf);
      rtmp.onConnectCallback = () => {};
      rtmp.onPushCallback = () => void this.onPublish();
      rtmp.onPlayCallback = () => this.onPlay();
      rtmp.onPacketCallback = (p) => this.onPacket(p);
      // Keep the raw stream name (with its query) for the publish URL, and hold
      // back the "started" status until we have decided on the stream.
      const onPublish = rtmp.onPublish.bind(rtmp);
      rtmp.onPublish = (msg) => {
        this.rawStreamName = typeof msg.streamName === 'string' ? msg.streamName : '';
        onPublish(msg);
      };
      const onPlay = rtmp.onPlay.bind(rtmp);
      rtmp.onPlay = (msg) => {
        this.rawStreamName = typeof msg.streamName === 'string' ? msg.streamName : '';
        onPlay(msg);
      };
      rtmp.respondPublish = () => {};
      rtmp.respondPlay = () => {};
      rtmp.onDeleteStream = () => {
        if (this.role === 'publisher') this.entry?.end('publisher unpublished');
      };

      socket.on('data', (data) => this.onData(data));
      socket.on('error', (err) => log?.debug({ err: err.message, peer: this.ip }, 'RTMP socket error'));
      socket.on('close', () => this.onClose());
      this.handshakeTimer = setTimeout(() => {
        if (this.role === 'none') {
          log?.debug({ peer: this.ip }, 'RTMP connection did not publish or play in time; dropping it');
          socket.destroy();
        }
      }, handshakeTimeoutMs);
      this.handshakeTimer.unref();
    }

    sendBuffer(buf: Buffer): void {
      if (!this.socket.destroyed) this.socket.write(buf);
    }

    close(): void {
      this.socket.end();
    }

    onData(data: Buffer): void {
      try {
        const err = this.rtmp.parserData(data);
        if (err !== null) throw new Error(err);
        if (!(this.rtmp.inChunkSize >= 1) || this.rtmp.inPackets.size > MAX_CHUNK_STREAMS) {
          throw new Error('malformed RTMP chunk stream');
        }
      } catch (err) {
        // A peer's bytes must never take the process down.
        log?.debug({ peer: this.ip, err: (err as Error).message }, 'dropping RTMP connection with bad data');
        this.socket.destroy();
      }
    }

    /**
     * The publish URL as go-livepeer reports it: host from tcUrl, then the app
     * and stream name with empty path elements dropped, then the query.
     */
    url(): string {
      const tcUrl = this.rtmp.connectCmdObj?.tcUrl;
      const app = this.rtmp.connectCmdObj?.app;
      let origin = 'rtmp://localhost';
      const m = typeof tcUrl === 'string' ? /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)/i.exec(tcUrl) : null;
      if (m) origin = m[1]!;
      const q = this.rawStreamName.indexOf('?');
      const name = q < 0 ? this.rawStreamName : this.rawStreamName.slice(0, q);
      const query = q < 0 ? '' : this.rawStreamName.slice(q);
      const parts = `${typeof app === 'string' ? app : ''}/${name}`.split('/').filter((p) => p !== '');
      return `${origin}/${parts.join('/')}${query}`;
    }

    refuse(code: string, reason: string): void {
      try {
        this.rtmp.sendStatusMessage(this.rtmp.streamId, 'error', code, reason);
      } catch {
        // the socket may be gone already
      }
      this.socket.end();
      // Do not wait for a client that ignores the close.
      setTimeout(() => this.socket.destroy(), 2000).unref();
    }

    async onPublish(): Promise<void> {
      if (this.role !== 'none') {
        this.refuse('NetStream.Publish.BadName', 'one publish per connection');
        return;
      }
      this.role = 'pending';
      clearTimeout(this.handshakeTimer);
      const publishUrl = this.url();
      const ids = streamIdsFromPath(urlPath(publishUrl));
      const info: RtmpPublishInfo = { ...ids, publishUrl, remoteAddress: this.socket.remoteAddress ?? '' };

      if (live.has(ids.manifestId)) return this.refuseDuplicate(info.manifestId);
      let decision: PublishDecision<C>;
      try {
        decision = await opts.authorize(info);
      } catch (err) {
        decision = { accept: false, reason: `authorization failed: ${(err as Error).message}` };
      }
      if (this.socket.destroyed || closed) return;
      if (!decision.accept) {
        log?.info({ manifestId: info.manifestId, peer: this.ip, reason: decision.reason }, 'RTMP publish refused');
        this.refuse('NetStream.Publish.Rejected', decision.reason);
        return;
      }
      const manifestId = decision.manifestId || info.manifestId;
      const streamKey = decision.streamKey || info.streamKey;
      // Checked again after the (async) hook: the hook may have renamed the stream.
      if (live.has(manifestId)) return this.refuseDuplicate(manifestId);

      const broadcast = new BroadcastServer(`/stream/${manifestId}`);
      this.streamPath = broadcast.streamPath;
      broadcast.postPublish(this);
      this.broadcast = broadcast;
      this.role = 'publisher';
      for (const p of this.heldHeaders.values()) broadcast.broadcastMessage(p);
      this.heldHeaders.clear();

      let ended = false;
      const stream: RtmpStream<C> = {
        manifestId,
        streamKey,
        publishUrl,
        remoteAddress: info.remoteAddress,
        playbackUrl: `${playbackBase}/stream/${encodeURIComponent(manifestId)}/${streamKey.split('/').map(encodeURIComponent).join('/')}`,
        context: decision.context,
        startedAt: new Date(),
        metadata: () => ({ width: this.videoWidth || 0, height: this.videoHeight || 0, fps: this.videoFramerate || 0 }),
        close: (reason: string) => {
          log?.info({ manifestId, reason }, 'closing RTMP stream');
          entry.end(reason);
        },
      };
      const entry: LiveEntry<C> = {
        stream,
        broadcast,
        end: (reason: string) => {
          if (ended) return;
          ended = true;
          if (live.get(manifestId) === entry) live.delete(manifestId);
          // Players (the segmenter) get EOF now, so they can finish their last segment.
          for (const sub of [...broadcast.subscribers.values()]) sub.close();
          this.socket.end();
          setTimeout(() => this.socket.destroy(), 2000).unref();
          log?.info({ manifestId, reason }, 'RTMP stream ended');
          try {
            opts.onStreamEnded?.(stream, reason);
          } catch (err) {
            log?.error({ err, manifestId }, 'onStreamEnded handler failed');
          }
        },
      };
      this.entry = entry;
      live.set(manifestId, entry);
      // Only now does the publisher get "NetStream.Publish.Start" and begin sending media.
      Rtmp.prototype.respondPublish.call(this.rtmp);
      log?.info({ manifestId, peer: this.ip }, 'RTMP stream started');
      try {
        opts.onStreamStarted?.(stream);
      } catch (err) {
        log?.error({ err, manifestId }, 'onStreamStarted handler failed');
      }
    }

    refuseDuplicate(manifestId: string): void {
      // go-livepeer refuses the newcomer and (by accident) tears down the running
      // stream as well. We refuse only the newcomer: the live stream keeps going.
      log?.info({ manifestId, peer: this.ip }, 'RTMP publish refused: manifest ID already live');
      this.refuse('NetStream.Publish.BadName', `stream ${manifestId} is already being published`);
    }

    onPlay(): void {
      if (this.role !== 'none') {
        this.socket.destroy();
        return;
      }
      clearTimeout(this.handshakeTimer);
      const { manifestId, streamKey } = splitStreamPath(urlPath(this.url()));
      const entry = live.get(manifestId);
      if (!entry || (requirePlayKey && streamKey !== entry.stream.streamKey)) {
        this.refuse('NetStream.Play.StreamNotFound', 'no such stream');
        return;
      }
      this.role = 'player';
      this.streamPath = entry.broadcast.streamPath;
      Rtmp.prototype.respondPlay.call(this.rtmp);
      const err = entry.broadcast.postPlay(this);
      if (err !== null) {
        this.refuse('NetStream.Play.Failed', err);
        return;
      }
      this.broadcast = entry.broadcast;
      log?.debug({ manifestId, peer: this.ip }, 'RTMP play started');
    }

    onPacket(packet: AVPacket): void {
      if (this.role === 'publisher') {
        this.broadcast?.broadcastMessage(packet);
      } else if (this.role === 'pending' && (packet.flags === 0 || packet.flags === 2 || packet.flags === 5)) {
        // Encoders should wait for Publish.Start; for those that do not, keep the
        // codec headers and metadata (the parser reuses its buffer, so copy).
        const copy = Object.assign(new AVPacket(), packet, { data: Buffer.from(packet.data.subarray(0, packet.size)) });
        this.heldHeaders.set(packet.flags, copy);
      }
      // Other media before acceptance is dropped.
    }

    onClose(): void {
      clearTimeout(this.handshakeTimer);
      this.endTime = Date.now();
      if (this.role === 'publisher') this.entry?.end('publisher disconnected');
      else if (this.role === 'player') this.broadcast?.donePlay(this);
    }
  }

  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error) =>
      reject(new Error(`RTMP server cannot listen on ${formatHost(host)}:${opts.port ?? 1935}: ${err.message}. Is -rtmpAddr free?`));
    server.once('error', onError);
    server.listen(opts.port ?? 1935, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log?.error({ err }, 'RTMP server error'));
  const addr = server.address() as AddressInfo;
  const wildcard = addr.address === '0.0.0.0' || addr.address === '::';
  const playHost = wildcard ? '127.0.0.1' : addr.address;
  playbackBase = `rtmp://${formatHost(playHost)}:${addr.port}`;

  return {
    host: addr.address,
    port: addr.port,
    url: `rtmp://${formatHost(addr.address)}:${addr.port}`,
    stream: (mid) => live.get(mid)?.stream,
    streams: () => [...live.values()].map((e) => e.stream),
    async close() {
      if (closed) return;
      closed = true;
      for (const e of [...live.values()]) e.end('server closing');
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await done;
    },
  };
}
