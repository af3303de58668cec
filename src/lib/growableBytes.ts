// A byte buffer written at its end and grown when full. Writers that produce many small pieces of one
// result (the transport packets of a segment) write them in place here, instead of allocating a buffer per
// piece and concatenating at the end: allocating a buffer outside Node's small-buffer pool costs far more
// than copying the bytes into it.

export class GrowableBytes {
  #buf: Buffer;
  #length = 0;

  /** `capacity`: the size expected; writing past it grows the buffer by half (one copy). */
  constructor(capacity: number) {
    this.#buf = Buffer.allocUnsafe(Math.max(1, Math.ceil(capacity)));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Room for `n` more bytes: returns the buffer to write into at `length` .. `length + n`; commit(n)
   * afterwards. The buffer returned may change on the next call, so nothing keeps it across calls.
   */
  reserve(n: number): Buffer {
    const need = this.#length + n;
    if (need > this.#buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(need, this.#buf.length + (this.#buf.length >> 1)));
      this.#buf.copy(grown, 0, 0, this.#length);
      this.#buf = grown;
    }
    return this.#buf;
  }

  /** The `n` bytes written after reserve() are part of the result. */
  commit(n: number): void {
    if (n < 0 || this.#length + n > this.#buf.length) throw new RangeError(`commit(${n}) past the reserved room`);
    this.#length += n;
  }

  /** The bytes from `start` to `end` (default: the end) as written so far; valid until the next reserve(). */
  view(start = 0, end = this.#length): Buffer {
    return this.#buf.subarray(start, end);
  }

  /** Copies `bytes` in at the end. */
  append(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.#length);
    this.#length += bytes.length;
  }

  /** Start again from empty, keeping the buffer (for scratch space reused piece after piece). */
  clear(): void {
    this.#length = 0;
  }

  /** Room for this many bytes before the next reserve() grows the buffer. */
  get capacity(): number {
    return this.#buf.length;
  }

  /**
   * Everything written, copied into a buffer of its own size, and this one emptied for reuse: the buffer
   * written is already in memory the next time, and what is kept holds no room it does not use.
   */
  copyOut(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.#length);
    this.#buf.copy(out, 0, 0, this.#length);
    this.#length = 0;
    return out;
  }

  /**
   * Everything written, as a buffer of its own size, for a writer that is done with this one: the buffer
   * itself when it is exactly full (a body whose length was declared), otherwise a copy.
   */
  take(): Buffer {
    const out = this.#length === this.#buf.length ? this.#buf : this.copyOut();
    this.#buf = Buffer.alloc(0);
    this.#length = 0;
    return out;
  }
}
