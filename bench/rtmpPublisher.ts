// A lean RTMP publisher for the load rig: an FLV file's tags sent as RTMP messages, paced by their
// timestamps and looped (as `ffmpeg -re -stream_loop -1 -c copy -f flv`). ffmpeg as a publisher echoes the
// chunk size the server announces, and bare ffmpeg's listener announces 128 bytes: each publisher then made
// about 6,600 system calls a second, and at 62 streams the publishers took 88 % of core 1 in the floor phase
// against 32 % toward the gateway (node-media-server announces 60000), so the floor's knee measured the
// rig. This one announces 4096-byte chunks (as OBS does) and writes each message in one call, whatever the
// server announces. Its media clock starts at the server's NetStream.Publish.Start, as OBS's and ffmpeg's do.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

export interface FlvTag {
  /** 8 audio, 9 video, 18 script data */
  type: number;
  timestampMs: number;
  data: Buffer;
  /** an AVC or AAC sequence header: sent once, not on every loop */
  header: boolean;
}

/** The tags of an FLV file, in file order. */
export function readFlv(path: string): FlvTag[] {
  const b = readFileSync(path);
  if (b.toString('latin1', 0, 3) !== 'FLV') throw new Error(`${path} is not FLV`);
  const tags: FlvTag[] = [];
  for (let at = b.readUInt32BE(5) + 4; at + 11 <= b.length; ) {
    const type = b[at]! & 0x1f;
    const size = b.readUIntBE(at + 1, 3);
    const timestampMs = b.readUIntBE(at + 4, 3) | (b[at + 7]! << 24);
    const data = b.subarray(at + 11, at + 11 + size);
    if (data.length < size) break;
    const header = (type === 9 && (data[0]! & 0x0f) === 7 && data[1] === 0) || (type === 8 && data[0]! >> 4 === 10 && data[1] === 0);
    tags.push({ type, timestampMs, data, header });
    at += 11 + size + 4;
  }
  return tags;
}

/**
 * When the keyframe that starts each segment goes out, in ms after NetStream.Publish.Start, for `seconds`
 * of media looped as publishFlv() sends it, with the gateway's rule (src/media/flvTsSegmenter.ts): a cut at
 * the first keyframe whose PTS is at or after (cuts so far + 1) × `segmentMs` from the first frame. A loop
 * is not a whole number of segments (it ends past the last audio frame, e.g. 10.075 s for a 10 s file), so
 * after the first loop the cuts are off the 2 s grid and are found here rather than taken as n × 2 s.
 */
export function segmentStartsMs(tags: readonly FlvTag[], seconds: number, segmentMs: number): number[] {
  const loopMs = loopDurationMs(tags);
  const media = tags.filter((t) => (t.type === 8 || t.type === 9) && !t.header);
  if (media.length === 0 || loopMs <= 0) return [];
  // an AVC video tag's composition time (PTS − DTS) is a signed 24-bit value after its first two bytes
  const ptsOf = (t: FlvTag) => t.timestampMs + (t.type === 9 && t.data.length >= 5 ? (t.data.readIntBE(2, 3) as number) : 0);
  const first = Math.min(...media.slice(0, 16).map(ptsOf));
  const starts: number[] = [];
  for (let loop = 0; ; loop++) {
    for (const t of media) {
      const at = t.timestampMs + loop * loopMs;
      if (at >= seconds * 1000) return starts;
      // a keyframe's NAL units (AVC packet type 1), not an end-of-sequence tag that carries the key flag
      const keyframe = t.type === 9 && t.data[0]! >> 4 === 1 && t.data[1] === 1;
      if (keyframe && (starts.length === 0 || ptsOf(t) + loop * loopMs - first >= starts.length * segmentMs)) starts.push(at);
    }
  }
}

/** Where the next loop's timestamps start: past each track's last frame by that track's frame interval. */
function loopDurationMs(tags: readonly FlvTag[]): number {
  let end = 0;
  for (const type of [8, 9]) {
    const ts = tags.filter((t) => t.type === type && !t.header).map((t) => t.timestampMs);
    if (ts.length > 1) end = Math.max(end, ts.at(-1)! + Math.ceil((ts.at(-1)! - ts[0]!) / (ts.length - 1)));
  }
  return end;
}

// ---- AMF0, only what the commands need
type Amf = number | string | null | { [key: string]: string | number };
function amf(values: Amf[]): Buffer {
  const parts: Buffer[] = [];
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(2);
    len.writeUInt16BE(b.length);
    return Buffer.concat([len, b]);
  };
  const value = (v: Amf): void => {
    if (v === null) parts.push(Buffer.from([0x05]));
    else if (typeof v === 'number') {
      const b = Buffer.alloc(9);
      b[0] = 0x00;
      b.writeDoubleBE(v, 1);
      parts.push(b);
    } else if (typeof v === 'string') parts.push(Buffer.from([0x02]), str(v));
    else {
      parts.push(Buffer.from([0x03]));
      for (const [k, x] of Object.entries(v)) {
        parts.push(str(k));
        value(x);
      }
      parts.push(Buffer.from([0x00, 0x00, 0x09]));
    }
  };
  for (const v of values) value(v);
  return Buffer.concat(parts);
}

/**
 * The server's side of the connection, reassembled into messages: enough to see its answer to `publish`
 * (OBS, like ffmpeg, sends no media before NetStream.Publish.Start). Chunk sizes the server sets are followed.
 */
class ServerMessages {
  #buf: Buffer = Buffer.alloc(0);
  #chunkSize = 128;
  readonly #streams = new Map<number, { length: number; type: number; extended: boolean; parts: Buffer[]; got: number }>();

  feed(d: Buffer): Array<{ type: number; payload: Buffer }> {
    this.#buf = this.#buf.length > 0 ? Buffer.concat([this.#buf, d]) : d;
    const out: Array<{ type: number; payload: Buffer }> = [];
    for (;;) {
      const b = this.#buf;
      if (b.length < 1) break;
      const fmt = b[0]! >> 6;
      let csid = b[0]! & 0x3f;
      let at = 1;
      if (csid === 0) {
        if (b.length < 2) break;
        csid = 64 + b[1]!;
        at = 2;
      } else if (csid === 1) {
        if (b.length < 3) break;
        csid = 64 + b[1]! + b[2]! * 256;
        at = 3;
      }
      const headerLength = [11, 7, 3, 0][fmt]!;
      if (b.length < at + headerLength) break;
      const st = this.#streams.get(csid) ?? { length: 0, type: 0, extended: false, parts: [], got: 0 };
      // (re-read in full when the chunk is not all here yet: the fields set below come out the same)
      if (fmt <= 2) st.extended = b.readUIntBE(at, 3) === 0xffffff;
      if (fmt <= 1) {
        st.length = b.readUIntBE(at + 3, 3);
        st.type = b[at + 6]!;
      }
      at += headerLength + (st.extended ? 4 : 0);
      const want = Math.min(this.#chunkSize, st.length - st.got);
      if (b.length < at + want) break;
      st.parts.push(b.subarray(at, at + want));
      st.got += want;
      this.#streams.set(csid, st);
      this.#buf = b.subarray(at + want);
      if (st.got === st.length) {
        const payload = Buffer.concat(st.parts);
        st.parts = [];
        st.got = 0;
        if (st.type === 1 && payload.length >= 4) this.#chunkSize = payload.readUInt32BE(0) & 0x7fffffff;
        out.push({ type: st.type, payload });
      }
    }
    return out;
  }
}

const CHUNK_SIZE = 4096;
/** The stream id the first createStream gets from node-media-server and ffmpeg alike; replies are not awaited. */
const STREAM_ID = 1;

/** One RTMP message, cut into chunks of CHUNK_SIZE: a full header first, one-byte continuation headers after. */
function message(csid: number, type: number, streamId: number, timestampMs: number, payload: Buffer): Buffer {
  const extended = timestampMs >= 0xffffff;
  const head = Buffer.alloc(12 + (extended ? 4 : 0));
  head[0] = csid; // fmt 0; chunk stream ids 2–63 fit in the basic header
  head.writeUIntBE(extended ? 0xffffff : timestampMs, 1, 3);
  head.writeUIntBE(payload.length, 4, 3);
  head[7] = type;
  head.writeUInt32LE(streamId, 8);
  if (extended) head.writeUInt32BE(timestampMs, 12);
  const parts: Buffer[] = [head];
  for (let at = 0; at < payload.length; at += CHUNK_SIZE) {
    if (at > 0) parts.push(extended ? Buffer.concat([Buffer.from([0xc0 | csid]), head.subarray(12)]) : Buffer.from([0xc0 | csid]));
    parts.push(payload.subarray(at, at + CHUNK_SIZE));
  }
  return Buffer.concat(parts);
}

export interface Publication {
  /** resolves once every tag of the stream was written (or the connection failed): ms behind schedule then */
  readonly finished: Promise<number>;
}

/**
 * Publishes `tags` to `url` (rtmp://host:port/app/key) for `seconds` of media, each message written when
 * its timestamp is due. A server that does not take the bytes in time (TCP pushes back) makes it late.
 * The stream ends just before the first segment cut (segments of `segmentMs`) at or after `seconds`, so its
 * last segment is a whole one, of a length the load mode's orchestrators encoded in the warm-up: a shorter
 * last segment made each of them encode that length while every stream's last segments waited, with the
 * rig's core at 100 % for seconds and the gateway's uploads timing out behind it.
 */
export function publishFlv(tags: readonly FlvTag[], url: string, seconds: number, segmentMs: number): Publication {
  const u = new URL(url);
  const [, app = '', ...key] = u.pathname.split('/');
  const streamKey = key.join('/');
  const loopMs = loopDurationMs(tags);
  const endMs = segmentStartsMs(tags, seconds + (2 * segmentMs) / 1000, segmentMs).find((at) => at >= seconds * 1000) ?? seconds * 1000;
  const socket: Socket = connect({ host: u.hostname, port: Number(u.port || 1935) });
  socket.setNoDelay(true);
  const finished = new Promise<number>((resolve) => {
    let got = Buffer.alloc(0);
    let handshaken = false;
    let startedAt = 0;
    let i = 0;
    let loop = 0;
    let timer: NodeJS.Timeout | undefined;
    const done = (lateMs: number) => {
      clearTimeout(timer);
      clearTimeout(refused);
      resolve(lateMs);
    };
    /** ms behind schedule when the last tag went out; unset until then */
    let lateMs: number | undefined;
    socket.once('error', () => done(Number.POSITIVE_INFINITY));
    socket.once('close', () => done(lateMs ?? Number.POSITIVE_INFINITY));
    socket.on('connect', () => {
      const c1 = Buffer.alloc(1536);
      randomBytes(1528).copy(c1, 8);
      socket.write(Buffer.concat([Buffer.from([3]), c1]));
    });
    const HANDSHAKE = 1 + 1536 + 1536; // S0, S1, S2
    const server = new ServerMessages();
    let publishing = false;
    const refused = setTimeout(() => socket.destroy(), 10_000); // no answer to publish: a failed stream
    socket.on('data', (d: Buffer) => {
      if (publishing) return; // acknowledgements and pings: not needed once media flows
      let rest = d;
      if (got.length < HANDSHAKE) {
        got = Buffer.concat([got, d]);
        if (!handshaken && got.length >= 1 + 1536) {
          handshaken = true;
          sendCommands(got.subarray(1, 1 + 1536));
        }
        if (got.length <= HANDSHAKE) return;
        rest = got.subarray(HANDSHAKE);
      }
      for (const m of server.feed(rest)) {
        if (m.type !== 20) continue;
        const text = m.payload.toString('latin1');
        if (text.includes('NetStream.Publish.Start')) {
          publishing = true;
          clearTimeout(refused);
          startedAt = Date.now();
          send();
          return;
        }
        if (text.includes('_error') || text.includes('NetStream.Publish.BadName')) socket.destroy();
      }
    });
    const sendCommands = (s1: Buffer): void => {
      const tcUrl = `rtmp://${u.host}/${app}`;
      socket.write(
        Buffer.concat([
          s1, // C2: the server's S1 echoed
          message(2, 1, 0, 0, Buffer.from([0, 0, CHUNK_SIZE >> 8, CHUNK_SIZE & 0xff])), // Set Chunk Size
        ]),
      );
      // commands pipelined, as OBS does: servers handle them in order
      socket.write(
        Buffer.concat([
          message(3, 20, 0, 0, amf(['connect', 1, { app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; lpbench)', tcUrl }])),
          message(3, 20, 0, 0, amf(['releaseStream', 2, null, streamKey])),
          message(3, 20, 0, 0, amf(['FCPublish', 3, null, streamKey])),
          message(3, 20, 0, 0, amf(['createStream', 4, null])),
          message(4, 20, STREAM_ID, 0, amf(['publish', 5, null, streamKey, 'live'])),
        ]),
      );
    };
    const send = (): void => {
      const elapsed = Date.now() - startedAt;
      const out: Buffer[] = [];
      for (;;) {
        if (i === tags.length) {
          i = 0;
          loop++;
        }
        const tag = tags[i]!;
        const ts = tag.timestampMs + loop * loopMs;
        if (ts >= endMs) {
          if (out.length > 0) socket.write(Buffer.concat(out));
          socket.end(message(3, 20, 0, 0, amf(['deleteStream', 6, null, STREAM_ID])), () => {
            lateMs = Date.now() - startedAt - endMs;
            // a server that keeps its side open after ours closed is not waited for
            setTimeout(() => socket.destroy(), 5000).unref();
          });
          return;
        }
        if (ts > elapsed) break;
        i++;
        if (loop > 0 && (tag.header || tag.type === 18)) continue;
        const payload = tag.type === 18 ? Buffer.concat([amf(['@setDataFrame']), tag.data]) : tag.data;
        out.push(message(tag.type === 9 ? 6 : tag.type === 8 ? 5 : 4, tag.type, STREAM_ID, ts, payload));
      }
      const flushed = out.length === 0 || socket.write(Buffer.concat(out));
      const next = tags[i]!.timestampMs + loop * loopMs;
      if (flushed) timer = setTimeout(send, Math.max(0, next - (Date.now() - startedAt)));
      else socket.once('drain', send);
    };
  });
  return { finished };
}
