// Every use of node-media-server 4 is in this file. We take two of its parts, split the way it splits
// them itself: the RTMP protocol state machine (handshake, chunk streams, AMF commands; bytes in, bytes
// out, no socket) and the per-stream fan-out that copies a publisher's packets to its players with the
// codec headers and GOP cache a late player needs. Its server, sessions, global context and store are not
// used (rtmp.ts says why). They are deep imports into its src/, typed in nms.d.ts.
import AVPacket from 'node-media-server/src/core/avpacket.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import Flv from 'node-media-server/src/protocol/flv.js';
import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import BroadcastServer from 'node-media-server/src/server/broadcast_server.js';
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../lib/errors.ts';
import type { Logger } from '../lib/log.ts';
import { GrowableBytes } from '../lib/growableBytes.ts';
import { FLV_TAG_HEADER_BYTES, tagDataSize, tagTimestamp } from '../media/flvTagLayout.ts';
import { appendFlvTag, flvTag } from './flvTag.ts';
import type { RtmpStreamMetadata } from './streamRegistry.ts';

/** One audio, video or data message of a stream. */
export type MediaPacket = AVPacket;

/** A peer whose bytes make no sense as RTMP. */
export class RtmpProtocolError extends GatewayError {}

// A peer that opens more chunk streams than this is not a real encoder.
const MAX_CHUNK_STREAMS = 64;

// node-media-server allocates a message's whole payload (zero-filled) as soon as its chunk header announces
// the length, up to RTMP's 16 MiB, and keeps that room per chunk stream: a peer that never authenticated
// could ask for 61 × 16 MiB in one read. Until it asks to publish or play a connection sends only commands
// (a few kB); from then on one message may be as large as RTMP allows (an encoder that does not wait for
// Publish.Start sends frames while its publish is being authorized), and all of its chunk streams' room
// together is still bounded.
const MAX_MESSAGE_BEFORE_STREAM = 64 << 10;
const MAX_ROOM_BEFORE_STREAM = 256 << 10;
const MAX_ROOM = 32 << 20;

// The GOP kept for late RTMP players is dropped past these (node-media-server caps only the count, at the
// same 4096): a publisher that never sends a keyframe must not grow it without end. It starts again at the
// next keyframe.
const MAX_GOP_PACKETS = 4096;
const MAX_GOP_BYTES = 32 << 20;
/** The space a GOP's tags start with (a 2 s GOP at 3 Mbit/s is ~750 kB); it grows to the largest GOP seen. */
const GOP_SPACE = 1 << 20;
const VIDEO_KEYFRAME = 3;

// node-media-server logs through one process-wide logger to stdout; its lines go to ours instead.
let nmsLogSink: Logger | undefined;
nmsLogger.log = (message: string, level?: string) => {
  if (!nmsLogSink) return;
  if (level === 'error' || level === 'warn') nmsLogSink.debug({ nms: level }, message);
  else nmsLogSink.trace({ nms: level }, message);
};

/** Sends node-media-server's own log lines to `log` (debug and trace levels). */
export function routeNmsLogs(log: Logger): void {
  nmsLogSink = log;
}

/** Codec headers and metadata: what a player needs before the first frame. */
export function isStreamHeader(packet: MediaPacket): boolean {
  return packet.flags === 0 || packet.flags === 2 || packet.flags === 5;
}

/** Which header a header packet is (audio, video, metadata): a later one replaces an earlier one. */
export function headerKind(packet: MediaPacket): number {
  return packet.flags;
}

/** A packet that outlives the parser's buffer, which it reuses. */
export function copyPacket(packet: MediaPacket): MediaPacket {
  return Object.assign(new AVPacket(), packet, { data: Buffer.from(packet.data.subarray(0, packet.size)) });
}

export interface RtmpProtocolEvents {
  /** Bytes for the peer. */
  output(bytes: Buffer): void;
  /** A `publish` command; the stream name keeps its query. Answer with acceptPublish() or refuse(). */
  publish(rawStreamName: string): void;
  /** A `play` command. Answer with acceptPlay() or refuse(). */
  play(rawStreamName: string): void;
  /** The publisher's `deleteStream`. */
  unpublish(): void;
  packet(packet: MediaPacket): void;
  /**
   * Room for the messages of a connection not yet admitted grows by `bytes`: false when the room shared by
   * all such connections is spent (the connection is then dropped). Admitted connections answer true.
   */
  takeRoom(bytes: number): boolean;
}

/** One connection's RTMP protocol state. node-media-server answers publish and play at once; here the answer waits for our decision. */
export class RtmpProtocol {
  readonly #rtmp = new Rtmp();
  /** The peer asked to publish or play: media messages may come. */
  #streaming = false;
  /** Bytes of payload room allocated across the connection's chunk streams (node-media-server never shrinks it). */
  #room = 0;
  readonly #events: RtmpProtocolEvents;

  constructor(events: RtmpProtocolEvents) {
    this.#events = events;
    const rtmp = this.#rtmp;
    // its FLV file parser is never used for RTMP; its 1-MiB buffer would live as long as the connection
    rtmp.flv.parserTagData = Buffer.alloc(0);
    rtmp.flv.parserTagCapacity = 0;
    const packetAlloc = rtmp.packetAlloc.bind(rtmp);
    rtmp.packetAlloc = () => {
      this.#checkRoom();
      packetAlloc();
    };
    rtmp.onOutputCallback = (bytes) => events.output(bytes);
    rtmp.onConnectCallback = () => {};
    rtmp.onPushCallback = () => {};
    rtmp.onPlayCallback = () => {};
    rtmp.onPacketCallback = (packet) => events.packet(packet);
    rtmp.respondPublish = () => {};
    rtmp.respondPlay = () => {};
    const onPublish = rtmp.onPublish.bind(rtmp);
    rtmp.onPublish = (msg) => {
      this.#streaming = true;
      onPublish(msg);
      events.publish(typeof msg.streamName === 'string' ? msg.streamName : '');
    };
    const onPlay = rtmp.onPlay.bind(rtmp);
    rtmp.onPlay = (msg) => {
      this.#streaming = true;
      onPlay(msg);
      events.play(typeof msg.streamName === 'string' ? msg.streamName : '');
    };
    rtmp.onDeleteStream = () => events.unpublish();
  }

  /** Feeds the peer's bytes. Throws RtmpProtocolError on anything malformed (node-media-server itself may throw too). */
  feed(bytes: Buffer): void {
    const err = this.#rtmp.parserData(bytes);
    if (err !== null) throw new RtmpProtocolError(err);
    if (!(this.#rtmp.inChunkSize >= 1) || this.#rtmp.inPackets.size > MAX_CHUNK_STREAMS) {
      throw new RtmpProtocolError('malformed RTMP chunk stream');
    }
  }

  /** Throws RtmpProtocolError when the message whose header was just read would pass the connection's budget or the shared one. */
  #checkRoom(): void {
    const packet = this.#rtmp.parserPacket;
    const { length } = packet.header;
    if (!this.#streaming && length > MAX_MESSAGE_BEFORE_STREAM) {
      throw new RtmpProtocolError(`RTMP message of ${length} bytes before a publish or play`);
    }
    if (packet.capacity >= length) return; // packetAlloc keeps the room this chunk stream has
    const grows = length + 1024 - packet.capacity; // what packetAlloc adds
    const room = this.#room + grows;
    if (room > (this.#streaming ? MAX_ROOM : MAX_ROOM_BEFORE_STREAM)) throw new RtmpProtocolError(`RTMP messages of ${room} bytes in flight`);
    if (!this.#events.takeRoom(grows)) throw new RtmpProtocolError('RTMP connections not yet admitted hold all the room they may');
    this.#room = room;
  }

  /** Bytes of message room the connection holds. */
  get room(): number {
    return this.#room;
  }

  /** tcUrl and app of the connect command ('' when absent or not text). */
  connectInfo(): { tcUrl: string; app: string } {
    const obj = this.#rtmp.connectCmdObj;
    return { tcUrl: typeof obj?.tcUrl === 'string' ? obj.tcUrl : '', app: typeof obj?.app === 'string' ? obj.app : '' };
  }

  /** "NetStream.Publish.Start": the publisher may send media now. */
  acceptPublish(): void {
    Rtmp.prototype.respondPublish.call(this.#rtmp);
  }

  acceptPlay(): void {
    Rtmp.prototype.respondPlay.call(this.#rtmp);
  }

  /** An error status on the current stream (the publisher's tools print the description). */
  refuse(code: string, description: string): void {
    this.#rtmp.sendStatusMessage(this.#rtmp.streamId, 'error', code, description);
  }
}

/** A connection as the fan-out sees it. */
export interface FanoutPeer {
  /** `address:port`, for logs */
  readonly ip: string;
  send(bytes: Buffer): void;
  close(): void;
}

/** The fields node-media-server's fan-out reads and writes on a session (publisher or player). */
function fanoutSession(peer: FanoutPeer, streamPath: string) {
  return {
    id: randomUUID(),
    ip: peer.ip,
    protocol: 'rtmp',
    streamPath,
    streamQuery: {} as Record<string, unknown>,
    playCount: 0,
    endTime: 0,
    videoWidth: 0,
    videoHeight: 0,
    videoFramerate: 0,
    videoCodec: 0,
    audioCodec: 0,
    sendBuffer: (bytes: Buffer) => peer.send(bytes),
    close: () => peer.close(),
  };
}

/** A player of a fan-out; leave() when its connection closes. */
export interface FanoutPlayer {
  leave(): void;
}

/** Where an in-process FLV copy of a stream goes. */
export interface FlvSink {
  /** One tag (or the file header). The bytes are reused after the call returns: a sink that keeps them copies them. */
  send(bytes: Buffer): void;
  close(): void;
}

/**
 * One published stream copied to its players. RTMP players go through node-media-server's fan-out (codec
 * headers and GOP cache for late joiners), which builds an RTMP and an FLV message of every packet it is
 * given; it is given packets only while an RTMP player is attached (or for codec headers and metadata,
 * always). Without players the GOP is kept here instead, as the packets themselves, and replayed into the
 * fan-out when the first player joins. In-process FLV sinks (the segmenter) get one FLV tag per packet built
 * here, and the codec headers when they join.
 */
export class StreamFanout {
  readonly #broadcast: BroadcastServer;
  readonly #publisher: ReturnType<typeof fanoutSession>;
  readonly #flvSinks = new Set<FlvSink>();
  /**
   * The current GOP's tags, one after another; written from the start again at the next keyframe, when the
   * GOP they belong to is dropped. With no GOP kept, the space of just the latest tag.
   */
  #gopTags = new GrowableBytes(GOP_SPACE);
  /** The latest metadata, audio and video header as FLV tags, by header kind. */
  readonly #flvHeaders = new Map<number, Buffer>();
  /**
   * Where the tags of the packets since the last video keyframe start in #gopTags (that keyframe first);
   * undefined before one or past the caps. A late player's packets are read back from the tags when it
   * joins: a number per packet here, not a packet object and its views living as long as the GOP does.
   */
  #gop: number[] | undefined;
  #gopBytes = 0;

  constructor(streamPath: string, publisher: FanoutPeer) {
    this.#broadcast = new BroadcastServer(streamPath);
    this.#publisher = fanoutSession(publisher, streamPath);
    const err = this.#broadcast.postPublish(this.#publisher);
    if (err !== null) throw new GatewayError(`cannot publish ${streamPath}: ${err}`);
  }

  /** What the publisher announced in onMetaData (the fan-out reads it into the publisher's session). */
  metadata(): RtmpStreamMetadata {
    const p = this.#publisher;
    return { width: p.videoWidth || 0, height: p.videoHeight || 0, fps: p.videoFramerate || 0 };
  }

  send(packet: MediaPacket): void {
    let tag: Buffer;
    if (isStreamHeader(packet)) {
      // always through the fan-out: it reads the metadata and keeps the headers for players
      this.#broadcast.broadcastMessage(packet);
      // kept for the stream's life, in a buffer of its own; sinks never modify what they are sent
      tag = flvTag(packet);
      this.#flvHeaders.set(headerKind(packet), tag);
    } else {
      if (packet.flags === VIDEO_KEYFRAME) {
        this.#gop = [];
        this.#gopBytes = 0;
      }
      if (packet.flags === VIDEO_KEYFRAME || !this.#gop) this.#gopTags.clear();
      const start = this.#gopTags.length;
      tag = appendFlvTag(this.#gopTags, packet);
      this.#keepForLateJoiners(packet.size, start);
      if (this.#broadcast.subscribers.size > 0) this.#broadcast.broadcastMessage(packet);
    }
    for (const sink of this.#flvSinks) sink.send(tag);
  }

  /** The packet whose tag starts at `start` of #gopTags as part of the current GOP (the parser reuses its own buffer). */
  #keepForLateJoiners(size: number, start: number): void {
    if (!this.#gop) return;
    if (this.#gop.length >= MAX_GOP_PACKETS || this.#gopBytes + size > MAX_GOP_BYTES) {
      this.#gop = undefined;
      // the space grew with the GOP: give it back (the tag just made stays valid in the old space)
      this.#gopTags = new GrowableBytes(GOP_SPACE);
      return;
    }
    this.#gop.push(start);
    this.#gopBytes += size;
  }

  /**
   * The current GOP's packets, read back from their tags by the function node-media-server's RTMP parser
   * made them with (Flv.parserTag, from the message's type, timestamp, size and payload): the same packets.
   */
  *#gopPackets(): Generator<MediaPacket> {
    const tags = this.#gopTags.view();
    for (const start of this.#gop ?? []) {
      const tag = tags.subarray(start);
      const size = tagDataSize(tag);
      yield Flv.parserTag(tag[0]!, tagTimestamp(tag), size, tag.subarray(FLV_TAG_HEADER_BYTES, FLV_TAG_HEADER_BYTES + size));
    }
  }

  /** Adds an RTMP player: it gets the headers and the current GOP at once, then every packet. Throws when refused. */
  addPlayer(peer: FanoutPeer): FanoutPlayer {
    const session = fanoutSession(peer, this.#broadcast.streamPath);
    if (this.#broadcast.subscribers.size === 0) {
      // The fan-out saw no media while nobody played: give it the current GOP (its keyframe resets its
      // cache), so this player starts at a keyframe like any other.
      this.#broadcast.flvGopCache = null;
      this.#broadcast.rtmpGopCache = null;
      for (const packet of this.#gopPackets()) this.#broadcast.broadcastMessage(packet);
    }
    const err = this.#broadcast.postPlay(session);
    if (err !== null) throw new GatewayError(err);
    return { leave: () => this.#broadcast.donePlay(session) };
  }

  /** Adds an FLV sink: the FLV file header and the codec headers at once, then a tag per packet. */
  addFlvSink(sink: FlvSink): FanoutPlayer {
    sink.send(Flv.createHeader(true, true));
    for (const kind of [5, 0, 2]) {
      const tag = this.#flvHeaders.get(kind);
      if (tag) sink.send(tag);
    }
    this.#flvSinks.add(sink);
    return { leave: () => this.#flvSinks.delete(sink) };
  }

  /** Closes every player and sink, so each reads to the end (the segmenter finishes its last segment). */
  closePlayers(): void {
    for (const player of [...this.#broadcast.subscribers.values()]) player.close();
    for (const sink of [...this.#flvSinks]) sink.close();
    this.#flvSinks.clear();
  }
}
