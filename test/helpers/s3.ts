// A local S3-protocol server (s3rver, on loopback, files in a temp dir) and the official client to read it back.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/** s3rver knows one access key; the secret is not checked (allowMismatchedSignatures), so tests may use their own. */
export const S3_ACCESS_KEY = 'S3RVER';

export interface LocalS3 {
  port: number;
  endpoint: string;
  /** `s3+http://KEY:SECRET@127.0.0.1:PORT/BUCKET[/prefix]` */
  url(secret: string, prefix?: string): string;
  /** Every key in the bucket. */
  keys(): Promise<string[]>;
  /** An object's bytes and headers, or undefined when there is none. */
  get(key: string): Promise<{ data: Buffer; contentType?: string; cacheControl?: string } | undefined>;
  /** Stops answering (the port then refuses connections); `start` brings it back on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startLocalS3(bucket = 'live'): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  let port = 0;
  let server: S3rver | undefined;
  const start = async (): Promise<void> => {
    server = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory,
      allowMismatchedSignatures: true,
      configureBuckets: [{ name: bucket, configs: [] }],
    });
    port = (await server.run()).port;
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: S3_ACCESS_KEY, secretAccessKey: S3_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const stop = async (): Promise<void> => {
    await server?.close();
    server = undefined;
  };
  return {
    port,
    endpoint,
    url: (secret, prefix) => `s3+http://${S3_ACCESS_KEY}:${encodeURIComponent(secret)}@127.0.0.1:${port}/${bucket}${prefix ? `/${prefix}` : ''}`,
    async keys() {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
        out.push(...(page.Contents ?? []).map((o) => o.Key!));
        token = page.NextContinuationToken;
      } while (token);
      return out.sort();
    },
    async get(key) {
      try {
        const o = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return {
          data: Buffer.from(await o.Body!.transformToByteArray()),
          ...(o.ContentType ? { contentType: o.ContentType } : {}),
          ...(o.CacheControl ? { cacheControl: o.CacheControl } : {}),
        };
      } catch (err) {
        if ((err as Error).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    stop,
    start,
    async close() {
      await stop();
      client.destroy();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/** A TCP server that accepts connections and never answers: a store that hangs. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
    s.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}
