// One TCP connection on the RTMP port: a publisher, a player (the local segmenter), or a peer that never
// gets that far. The socket is on this side; the RTMP protocol state and the fan-out are in nodeMediaServer.ts.
import type { Socket } from 'node:net';
import { errorMessage, GatewayError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { copyPacket, headerKind, isStreamHeader, RtmpProtocol, StreamFanout, type FanoutPeer, type FanoutPlayer, type MediaPacket } from './nodeMediaServer.ts';
import type { RtmpAdmission } from './rtmpAdmission.ts';
import { rtmpPublishUrl, splitStreamPath, streamIdsFromPath, urlPath } from './streamPath.ts';
import { PublishRefusedError, type IngestStream, type StreamAttachment, type StreamRegistry } from './streamRegistry.ts';

/** What every connection of one RTMP listener shares. */
export interface RtmpFace<C> {
  readonly registry: StreamRegistry<C>;
  /** The fan-out of each live RTMP stream, by manifest ID: where players attach. */
  readonly fanouts: Map<string, StreamFanout>;
  /** `rtmp://<loopback or bound host>:<port>`, where the segmenter plays streams back. */
  playbackBase(): string;
  /** A connection that has neither published nor played after this long is dropped. */
  readonly handshakeTimeoutMs: number;
  /** Require the stream key for RTMP play (go-livepeer checks only the manifest ID). */
  readonly requirePlayKey: boolean;
  /** Counts connections until they are admitted; each connection here was let in by its enter(). */
  readonly admission: RtmpAdmission;
  readonly log: Logger;
}

/** A peer that ignores our close gets this long before the socket is destroyed. */
const CLOSE_GRACE_MS = 2000;

export class RtmpConnection<C> {
  readonly #protocol: RtmpProtocol;
  readonly #peer: string;
  #role: 'none' | 'pending' | 'publisher' | 'player' = 'none';
  /** Codec headers a publisher sent before it was accepted; the fan-out gets them first. */
  readonly #heldHeaders = new Map<number, MediaPacket>();
  #stream: IngestStream<C> | undefined;
  #fanout: StreamFanout | undefined;
  #player: FanoutPlayer | undefined;
  readonly #handshakeTimer: NodeJS.Timeout;
  /** Still counted by the admission: neither an accepted publisher nor a player, nor closed. */
  #unadmitted = true;

  constructor(
    private readonly socket: Socket,
    private readonly face: RtmpFace<C>,
    /** The peer's address as the admission counted it (read at accept: a closed socket no longer has one). */
    private readonly address: string,
  ) {
    this.#peer = `${address || '?'}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    this.#protocol = new RtmpProtocol({
      output: (bytes) => this.#send(bytes),
      publish: (name) => void this.#onPublish(name),
      play: (name) => this.#onPlay(name),
      unpublish: () => {
        if (this.#role === 'publisher' && this.#stream) face.registry.end(this.#stream, 'publisher unpublished');
      },
      packet: (packet) => this.#onPacket(packet),
      takeRoom: (bytes) => !this.#unadmitted || face.admission.takeRoom(bytes),
    });
    socket.on('error', (err) => face.log.debug({ err: err.message, peer: this.#peer }, 'RTMP socket error'));
    socket.on('close', () => this.#onClose());
    this.#handshakeTimer = setTimeout(() => {
      if (this.#role !== 'none') return;
      face.log.debug({ peer: this.#peer }, 'RTMP connection did not publish or play in time; dropping it');
      socket.destroy();
    }, face.handshakeTimeoutMs);
    this.#handshakeTimer.unref();
  }

  #send(bytes: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(bytes);
  }

  /** The peer's bytes, from the listener's reads (a view of its buffer: the protocol copies what it keeps). */
  feed(data: Buffer): void {
    try {
      this.#protocol.feed(data);
    } catch (err) {
      // A peer's bytes must never take the process down.
      this.face.log.debug({ peer: this.#peer, err: errorMessage(err) }, 'dropping RTMP connection with bad data');
      this.socket.destroy();
    }
  }

  #publishUrl(rawStreamName: string): string {
    const { tcUrl, app } = this.#protocol.connectInfo();
    return rtmpPublishUrl(tcUrl, app, rawStreamName);
  }

  async #onPublish(rawStreamName: string): Promise<void> {
    if (this.#role !== 'none') return this.#refuse('NetStream.Publish.BadName', 'one publish per connection');
    this.#role = 'pending';
    clearTimeout(this.#handshakeTimer);
    const url = this.#publishUrl(rawStreamName);
    const ids = streamIdsFromPath(urlPath(url));
    const request = { ingest: 'rtmp', urlId: ids.manifestId, streamKey: ids.streamKey, url, remoteAddress: this.address } as const;
    try {
      // attach() runs synchronously inside open() and nothing but promise jobs runs before open() resolves,
      // so no socket event can see a publisher without its stream.
      this.#stream = await this.face.registry.open(request, (accepted) => this.#attach(accepted));
      this.face.log.info({ manifestId: this.#stream.manifestId, peer: this.#peer }, 'RTMP publish accepted');
    } catch (err) {
      if (this.socket.destroyed) return;
      const duplicate = err instanceof PublishRefusedError && err.code === 'STREAM_ALREADY_LIVE';
      this.#refuse(duplicate ? 'NetStream.Publish.BadName' : 'NetStream.Publish.Rejected', errorMessage(err));
    }
  }

  /** The publish was accepted: set up its fan-out, then tell the publisher to start sending media. */
  #attach({ manifestId, streamKey }: { manifestId: string; streamKey: string }): StreamAttachment {
    if (this.socket.destroyed) throw new GatewayError('the publisher left while it was being authorized');
    const fanout = new StreamFanout(`/stream/${manifestId}`, this.#fanoutPeer());
    for (const packet of this.#heldHeaders.values()) fanout.send(packet);
    this.#heldHeaders.clear();
    this.#fanout = fanout;
    this.face.fanouts.set(manifestId, fanout);
    this.#role = 'publisher';
    this.#leaveAdmission();
    this.#protocol.acceptPublish();
    const key = streamKey.split('/').map(encodeURIComponent).join('/');
    return {
      rtmp: {
        playbackUrl: `${this.face.playbackBase()}/stream/${encodeURIComponent(manifestId)}/${key}`,
        metadata: () => fanout.metadata(),
        playFlv: (sink) => fanout.addFlvSink(sink),
      },
      close: () => this.#stopPublishing(manifestId),
    };
  }

  #stopPublishing(manifestId: string): void {
    // Players (the segmenter) get EOF now, so they can finish their last segment.
    this.#fanout?.closePlayers();
    if (this.face.fanouts.get(manifestId) === this.#fanout) this.face.fanouts.delete(manifestId);
    this.#closeSocket();
  }

  #onPlay(rawStreamName: string): void {
    if (this.#role !== 'none') {
      this.socket.destroy();
      return;
    }
    clearTimeout(this.#handshakeTimer);
    const { manifestId, streamKey } = splitStreamPath(urlPath(this.#publishUrl(rawStreamName)));
    const stream = this.face.registry.get(manifestId);
    const fanout = stream?.ingest === 'rtmp' ? this.face.fanouts.get(manifestId) : undefined;
    if (!stream || !fanout || (this.face.requirePlayKey && streamKey !== stream.streamKey)) {
      this.#refuse('NetStream.Play.StreamNotFound', 'no such stream');
      return;
    }
    this.#role = 'player';
    this.#leaveAdmission();
    this.#protocol.acceptPlay();
    try {
      this.#player = fanout.addPlayer(this.#fanoutPeer());
    } catch (err) {
      this.#refuse('NetStream.Play.Failed', errorMessage(err));
      return;
    }
    this.face.log.debug({ manifestId, peer: this.#peer }, 'RTMP play started');
  }

  #onPacket(packet: MediaPacket): void {
    if (this.#role === 'publisher') this.#fanout?.send(packet);
    // Encoders should wait for Publish.Start; for those that do not, keep the codec headers and metadata.
    // Other media before acceptance is dropped.
    else if (this.#role === 'pending' && isStreamHeader(packet)) this.#heldHeaders.set(headerKind(packet), copyPacket(packet));
  }

  #onClose(): void {
    clearTimeout(this.#handshakeTimer);
    this.#leaveAdmission();
    if (this.#role === 'publisher' && this.#stream) this.face.registry.end(this.#stream, 'publisher disconnected');
    else if (this.#role === 'player') this.#player?.leave();
  }

  /** Admitted, or closed: the connection's place and its message room leave the admission's count. */
  #leaveAdmission(): void {
    if (!this.#unadmitted) return;
    this.#unadmitted = false;
    this.face.admission.leave(this.address, this.#protocol.room);
  }

  #fanoutPeer(): FanoutPeer {
    return { ip: this.#peer, send: (bytes) => this.#send(bytes), close: () => this.socket.end() };
  }

  #refuse(code: string, reason: string): void {
    try {
      this.#protocol.refuse(code, reason);
    } catch {
      // the socket may be gone already
    }
    this.#closeSocket();
  }

  #closeSocket(): void {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}
