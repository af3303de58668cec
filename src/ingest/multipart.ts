// The multipart/mixed answer to an HTTP push: one part per rendition, in profile order, headers as
// go-livepeer writes them (sorted by name). The source is not included.
import { randomBytes } from 'node:crypto';
import type { VideoFormat } from '../media/profiles.ts';

export interface PushRendition {
  /** Profile name. */
  readonly name: string;
  readonly format: VideoFormat;
  /** Segment bytes; when absent, `url` is sent as an `application/vnd+livepeer.uri` part. */
  readonly data?: Buffer;
  readonly url?: string;
}

/** A random boundary that cannot occur by chance in the parts. */
export function multipartBoundary(): string {
  return randomBytes(10).toString('hex');
}

export function encodeMultipart(boundary: string, seq: number, renditions: readonly PushRendition[]): Buffer {
  const out: Buffer[] = [];
  renditions.forEach((r, i) => {
    const inline = r.data !== undefined && r.data.length > 0;
    const type = !inline ? 'application/vnd+livepeer.uri' : r.format === 'mp4' ? 'video/mp4' : 'video/mp2t';
    const ext = !inline ? '.txt' : r.format === 'mp4' ? '.mp4' : '.ts';
    const body = inline ? r.data! : Buffer.from(r.url ?? '');
    const fname = `"${r.name}_${seq}${ext}"`;
    const head =
      `${i === 0 ? '' : '\r\n'}--${boundary}\r\n` +
      `Content-Disposition: attachment; filename=${fname}\r\n` +
      `Content-Length: ${body.length}\r\n` +
      `Content-Type: ${type}; name=${fname}\r\n` +
      `Rendition-Name: ${r.name}\r\n\r\n`;
    out.push(Buffer.from(head), body);
  });
  out.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  return Buffer.concat(out);
}
