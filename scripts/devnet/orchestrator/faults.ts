// The fault switches: deliberate misbehaviour for testing how broadcasters cope. Each switch is one
// method the request handlers call at the point where the fault bites; all of them off by default.
import type { Http2ServerResponse } from 'node:http2';
import { HttpError } from '../../../src/lib/errors.ts';
import type { Logger } from '../../../src/lib/log.ts';
import { privateKeySigner, type Signer } from '../../../src/pm/signer.ts';
import type { TranscodedSegmentData } from '../../../src/wire/lpRpc.ts';
import type { HostileTicketParams } from './recipient.ts';

export interface OrchestratorFaults {
  /** Every nth segment gets a TranscodeResult error instead of renditions. */
  failEvery?: number;
  /** The error text of failEvery (default OrchestratorBusy, which broadcasters retry elsewhere). */
  failError?: string;
  /** Hold every /segment this long before answering. */
  stallMs?: number;
  /** Answer 400 to every payment. */
  refusePayment?: boolean;
  /** Quote this price instead of the configured one. */
  priceOverride?: { pricePerUnit: bigint; pixelsPerUnit: bigint };
  /** Hand out broken ticket params. */
  hostileTicketParams?: HostileTicketParams;
  /** Answer /segment with 200 and a body that is not a TranscodeResult. */
  malformedResponse?: boolean;
  /** Shut down after answering this many segments. */
  dieAfter?: number;
  /** Report (and bill) this many times the pixels actually encoded. */
  overbillFactor?: number;
  /** Sign the results with a key that is not the orchestrator's. */
  forgeResultSignature?: boolean;
  /** List this URL (e.g. the gateway's control API) for every rendition instead of our own. */
  renditionUrl?: string;
  /** List this many more rendition URLs (short ones, so a million fit in 16 MB) after the real ones. */
  extraRenditions?: number;
  /** Encode every rendition at this size whatever the profile asks, and bill for it honestly. */
  renditionSize?: { width: number; height: number };
  /** Append this many zero bytes to every rendition served (a rendition far above its bitrate). */
  renditionPadBytes?: number;
}

// A body that fails protobuf decoding on every parser: a length-delimited field whose length runs off the end.
const GARBAGE_BODY = Buffer.from([0x1a, 0xff, 0xff, 0xff, 0x0f, 0x01, 0x02]);
const FORGED_RESULT_KEY = `0x${'42'.repeat(32)}` as const;
/** dieAfter waits this long for the broadcaster to fetch the last renditions. */
const DIE_GRACE_MS = 4000;

export class FaultSwitches {
  private transcodes = 0;
  private answered = 0;
  // dieAfter: the rendition paths still to be served before shutting down
  private dying: { pending: Set<string>; grace: NodeJS.Timeout } | undefined;
  private died = false;

  constructor(
    readonly config: OrchestratorFaults,
    private readonly log: Logger,
    /** What dieAfter does once it fires. */
    private readonly die: () => void,
  ) {}

  /** refusePayment: every payment is answered 400. */
  checkPayment(): void {
    if (this.config.refusePayment) throw new HttpError(400, 'payment refused by this orchestrator (fault injection)');
  }

  /** stallMs: hold the answer. */
  async stall(): Promise<void> {
    const ms = this.config.stallMs;
    if (ms) await new Promise((resolve) => setTimeout(resolve, ms).unref());
  }

  /** malformedResponse: the bytes to answer with instead of a TranscodeResult, if any. */
  malformedBody(): Buffer | undefined {
    return this.config.malformedResponse ? GARBAGE_BODY : undefined;
  }

  /** failEvery: counts a transcode and returns the error text when this one is to fail. */
  nextTranscodeFailure(): string | undefined {
    this.transcodes++;
    const every = this.config.failEvery;
    return every && this.transcodes % every === 0 ? (this.config.failError ?? 'OrchestratorBusy') : undefined;
  }

  /** overbillFactor: the pixels reported for a rendition. */
  billedPixels(pixels: bigint): bigint {
    return this.config.overbillFactor ? pixels * BigInt(this.config.overbillFactor) : pixels;
  }

  /** renditionUrl: the rendition list the broadcaster gets. */
  renditionList(segments: TranscodedSegmentData[]): TranscodedSegmentData[] {
    const { renditionUrl } = this.config;
    return renditionUrl ? segments.map((s) => ({ ...s, url: renditionUrl })) : segments;
  }

  /**
   * extraRenditions: bytes appended to an encoded TranscodeResult. A second `data` field merges into the
   * first, so its segments join the list. Written by hand: encoding a million messages takes too long.
   */
  extraRenditionBytes(): Buffer | undefined {
    const n = this.config.extraRenditions;
    if (!n) return undefined;
    const url = Buffer.from('http://x/');
    // TranscodedSegmentData { url = 1; pixels = 2 } as one `segments` entry (field 1 of TranscodeData)
    const inner = Buffer.concat([Buffer.from([0x0a, url.length]), url, Buffer.from([0x10, 0x01])]);
    const entry = Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
    const data = Buffer.alloc(entry.length * n);
    for (let i = 0; i < n; i++) entry.copy(data, i * entry.length);
    return Buffer.concat([Buffer.from([0x1a]), varintBytes(data.length), data]);
  }

  /** renditionPadBytes: the bytes served for a rendition. */
  servedRendition(data: Buffer): Buffer {
    const pad = this.config.renditionPadBytes;
    return pad ? Buffer.concat([data, Buffer.alloc(pad)]) : data;
  }

  /** forgeResultSignature: who signs the results. */
  resultSigner(own: Signer | undefined): Signer | undefined {
    return this.config.forgeResultSignature ? privateKeySigner(FORGED_RESULT_KEY) : own;
  }

  /** dieAfter: a /segment was answered (any status); `renditionPaths` are what the broadcaster will fetch next. */
  segmentAnswered(renditionPaths: readonly string[]): void {
    this.answered++;
    if (!this.config.dieAfter || this.answered !== this.config.dieAfter) return;
    const grace = setTimeout(() => this.dieNow(), DIE_GRACE_MS);
    grace.unref();
    this.dying = { pending: new Set(renditionPaths), grace };
    if (this.dying.pending.size === 0) this.dieNow();
  }

  /** dieAfter: a rendition was requested; once the last one is sent, die. */
  renditionServed(path: string, res: Http2ServerResponse): void {
    if (this.dying?.pending.delete(path) && this.dying.pending.size === 0) res.once('finish', () => this.dieNow());
  }

  /** The switches that are on, for the ready log line. */
  describe(): Record<string, unknown> | undefined {
    if (Object.keys(this.config).length === 0) return undefined;
    return JSON.parse(JSON.stringify(this.config, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  }

  private dieNow(): void {
    if (!this.dying || this.died) return;
    this.died = true;
    clearTimeout(this.dying.grace);
    this.log.warn({ event: 'die', after: this.answered }, 'shutting down after the configured number of segments (fault injection)');
    setImmediate(this.die);
  }
}

function varintBytes(n: number): Buffer {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}
