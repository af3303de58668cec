// Writes to an S3-compatible object store (-objectStore, -recordStore) with the official client. Every call
// is bounded: a few at a time, a timeout over all its tries, the client's own retries with backoff in
// between. A call never throws: it answers whether it worked, and failures are counted and logged
// (throttled), because a store that is down must never stop a stream or a job.
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { errorMessage } from '../lib/errors.ts';
import { startExchangeDeadline } from '../lib/exchangeDeadline.ts';
import type { Logger } from '../lib/log.ts';
import { redactSecrets } from '../lib/redact.ts';
import type { ObjectStoreTarget } from './objectStoreUrl.ts';

export interface ObjectStoreOptions {
  /** calls in flight at once (default 8); more wait their turn */
  maxConcurrent?: number;
  /** calls waiting for a turn before new ones are refused at once (default 256) */
  maxWaiting?: number;
  /** one call, all tries included (default 15 s) */
  timeoutMs?: number;
  /** tries per call, the first included (default 3) */
  maxAttempts?: number;
  /** URL readers fetch the bucket's root from (a CDN); default the store's own */
  publicUrl?: string;
}

export interface ObjectStoreStats {
  /** the store, without credentials */
  store: string;
  publicUrl: string;
  uploaded: number;
  uploadFailed: number;
  deleted: number;
  deleteFailed: number;
  /** objects not even tried: too much waiting already (a slow store), or the gateway was stopping */
  skipped: number;
  lastError?: string;
  lastErrorAt?: string;
}

const LOG_EVERY_MS = 10_000;

export class ObjectStore {
  readonly #client: S3Client;
  readonly #target: ObjectStoreTarget;
  readonly #log: Logger;
  readonly #maxConcurrent: number;
  readonly #maxWaiting: number;
  readonly #timeoutMs: number;
  readonly #closing = new AbortController();
  readonly #waiting: (() => void)[] = [];
  #inFlight = 0;
  #lastLogAt = 0;
  #unlogged = 0;
  readonly #stats: ObjectStoreStats;

  constructor(target: ObjectStoreTarget, log: Logger, opts: ObjectStoreOptions = {}) {
    this.#target = target;
    this.#log = log;
    this.#maxConcurrent = opts.maxConcurrent ?? 8;
    this.#maxWaiting = opts.maxWaiting ?? 256;
    this.#timeoutMs = opts.timeoutMs ?? 15_000;
    this.#stats = { store: target.label, publicUrl: opts.publicUrl ?? target.storeUrl, uploaded: 0, uploadFailed: 0, deleted: 0, deleteFailed: 0, skipped: 0 };
    this.#client = new S3Client({
      region: target.region,
      ...(target.endpoint ? { endpoint: target.endpoint, forcePathStyle: true } : {}),
      credentials: { accessKeyId: target.accessKeyId, secretAccessKey: target.secretAccessKey },
      maxAttempts: opts.maxAttempts ?? 3,
      // Checksums only where S3 requires them: many S3-compatible stores refuse the newer checksum headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: Math.min(5_000, this.#timeoutMs), requestTimeout: this.#timeoutMs },
    });
  }

  /** The public URL of a key (relative to the key prefix). */
  url(key: string): string {
    return `${this.#stats.publicUrl}/${this.#key(key)}`;
  }

  /** Writes an object; true once the store has it. */
  async put(key: string, body: Buffer | string, contentType: string, cacheControl?: string): Promise<boolean> {
    const command = new PutObjectCommand({
      Bucket: this.#target.bucket,
      Key: this.#key(key),
      Body: body,
      ContentType: contentType,
      ...(cacheControl ? { CacheControl: cacheControl } : {}),
    });
    return this.#call('upload', key, command);
  }

  /** Removes an object; true once the store no longer has it. */
  async delete(key: string): Promise<boolean> {
    return this.#call('delete', key, new DeleteObjectCommand({ Bucket: this.#target.bucket, Key: this.#key(key) }));
  }

  /** Counts an object its caller chose not to write (its queue was full). */
  skip(): void {
    this.#stats.skipped++;
  }

  stats(): ObjectStoreStats {
    return { ...this.#stats };
  }

  /** Stops: calls still running are cut off, new ones are not tried. */
  close(): void {
    this.#closing.abort();
    for (const wake of this.#waiting.splice(0)) wake();
    this.#client.destroy();
  }

  #key(key: string): string {
    return this.#target.keyPrefix ? `${this.#target.keyPrefix}/${key}` : key;
  }

  async #call(kind: 'upload' | 'delete', key: string, command: PutObjectCommand | DeleteObjectCommand): Promise<boolean> {
    if (this.#closing.signal.aborted || (this.#inFlight >= this.#maxConcurrent && this.#waiting.length >= this.#maxWaiting)) {
      this.#stats.skipped++;
      return false;
    }
    if (this.#inFlight >= this.#maxConcurrent) await new Promise<void>((wake) => this.#waiting.push(wake));
    if (this.#closing.signal.aborted) {
      this.#stats.skipped++;
      return false;
    }
    this.#inFlight++;
    // over by the deadline (a timer held here, docs/node.md) or at close()
    const deadline = startExchangeDeadline(this.#timeoutMs, this.#closing.signal);
    try {
      // the command's own type decides which overload; both answer nothing we need
      await deadline.within(
        (this.#client.send as (c: unknown, o: { abortSignal: AbortSignal }) => Promise<unknown>)(command, { abortSignal: deadline.signal }),
      );
      if (kind === 'upload') this.#stats.uploaded++;
      else this.#stats.deleted++;
      return true;
    } catch (err) {
      if (kind === 'upload') this.#stats.uploadFailed++;
      else this.#stats.deleteFailed++;
      this.#failed(kind, key, err);
      return false;
    } finally {
      deadline.clear();
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  /** One warning per LOG_EVERY_MS, with how many failed since the last one: a dead store must not flood the log. */
  #failed(kind: string, key: string, err: unknown): void {
    const aborted = err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
    const reason = redactSecrets(aborted ? `no answer within ${this.#timeoutMs / 1000} s` : errorMessage(err) || (err as Error).name || 'failed');
    this.#stats.lastError = `${kind} ${key}: ${reason}`;
    this.#stats.lastErrorAt = new Date().toISOString();
    const now = Date.now();
    if (now - this.#lastLogAt < LOG_EVERY_MS) {
      this.#unlogged++;
      return;
    }
    this.#log.warn({ store: this.#target.label, key, err: reason, failedSinceLastWarning: this.#unlogged }, `object store ${kind} failed`);
    this.#lastLogAt = now;
    this.#unlogged = 0;
  }
}
