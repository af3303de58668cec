// Types for the parts of node-media-server 4 (plain JavaScript) that the RTMP
// ingest uses: the RTMP protocol state machine, the per-stream fan-out and the
// shared logger. Only what we touch is declared.

declare module 'node-media-server/src/core/avpacket.js' {
  class AVPacket {
    codec_id: number;
    /** 8 audio, 9 video, 18 data. */
    codec_type: number;
    /** 0 audio header, 1 audio, 2 video header, 3 keyframe, 4 inter frame, 5 metadata. */
    flags: number;
    pts: number;
    dts: number;
    size: number;
    data: Buffer;
  }
  export = AVPacket;
}

declare module 'node-media-server/src/protocol/rtmp.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';

  interface RtmpConnectRequest {
    app: string;
    name: string;
    host: string;
    query: Record<string, unknown>;
  }

  interface RtmpInvokeMessage {
    cmd: string;
    transId: number;
    cmdObj?: Record<string, unknown> | null;
    streamName?: string;
  }

  class Rtmp {
    onConnectCallback: (req: RtmpConnectRequest) => void;
    onPlayCallback: () => void;
    onPushCallback: () => void;
    onPacketCallback: (packet: AVPacket) => void;
    onOutputCallback: (buffer: Buffer) => void;
    /** Feed socket bytes; returns an error text or null. May throw on malformed input. */
    parserData(buffer: Buffer): string | null;
    onPublish(msg: RtmpInvokeMessage): void;
    onPlay(msg: RtmpInvokeMessage): void;
    onDeleteStream(msg: RtmpInvokeMessage): void;
    respondPublish(): void;
    respondPlay(): void;
    sendStatusMessage(sid: number, level: string, code: string, description: string): void;
    connectCmdObj?: { tcUrl?: unknown; app?: unknown };
    streamApp: string;
    streamName: string;
    streamId: number;
    inChunkSize: number;
    inPackets: Map<number, RtmpChunkPacket>;
    /** The message being read: its header is parsed when packetAlloc() is called. */
    parserPacket: RtmpChunkPacket;
    /** Sizes parserPacket's payload buffer for header.length (grows only; zero-filled). */
    packetAlloc(): void;
    /** An FLV file parser with a 1-MiB buffer, made for every connection and never used by RTMP. */
    flv: { parserTagData: Buffer; parserTagCapacity: number };
  }
  /** A chunk stream's message being assembled. */
  interface RtmpChunkPacket {
    header: { fmt: number; cid: number; length: number; type: number };
    /** Bytes of payload room allocated. */
    capacity: number;
    payload: Buffer;
  }
  export = Rtmp;
}

declare module 'node-media-server/src/server/broadcast_server.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';

  /** The session fields the fan-out reads and writes. */
  interface BroadcastSession {
    id: string;
    ip: string;
    protocol: string;
    streamPath: string;
    streamQuery: Record<string, unknown>;
    playCount: number;
    endTime: number;
    videoWidth: number;
    videoHeight: number;
    videoFramerate: number;
    videoCodec: number;
    audioCodec: number;
    sendBuffer(buffer: Buffer): void;
    close(): void;
  }

  class BroadcastServer {
    constructor(streamPath: string);
    streamPath: string;
    publisher: BroadcastSession | null;
    subscribers: Map<string, BroadcastSession>;
    /** Returns an error text, or null when accepted. */
    postPublish(session: BroadcastSession): string | null;
    postPlay(session: BroadcastSession): string | null;
    donePlay(session: BroadcastSession): void;
    broadcastMessage(packet: AVPacket): void;
    rtmpGopCache: Set<Buffer> | null;
    flvGopCache: Set<Buffer> | null;
  }
  export = BroadcastServer;
}

declare module 'node-media-server/src/protocol/flv.js' {
  import type AVPacket from 'node-media-server/src/core/avpacket.js';

  const Flv: {
    /** The 13-byte FLV file header (with PreviousTagSize0). */
    createHeader(hasAudio: boolean, hasVideo: boolean): Buffer;
    /** One FLV tag with its PreviousTagSize. */
    createMessage(packet: AVPacket): Buffer;
    /** The packet of a tag (or of an RTMP message: its parser calls this): codec, flags and PTS read from `data`. */
    parserTag(type: number, time: number, size: number, data: Buffer): AVPacket;
  };
  export = Flv;
}

declare module 'node-media-server/src/core/logger.js' {
  interface NmsLogger {
    level: string;
    log(message: string, level?: string): void;
  }
  const logger: NmsLogger;
  export = logger;
}
