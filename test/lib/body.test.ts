import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { BodyCollector, BodyTooLargeError, MAX_PREALLOCATED, readBody } from '../../src/lib/body.ts';

const pieces = (n: number, size: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.alloc(size, i));

describe('BodyCollector', () => {
  it('with a declared length, the buffer allocated for it is the body: no copy at the end', () => {
    const parts = pieces(10, 10_000);
    const body = new BodyCollector(1 << 20, '100000');
    for (const p of parts) body.add(p);
    const out = body.take();
    assert.ok(out.equals(Buffer.concat(parts)));
    // a buffer of its own (not a slice of a larger one) that is exactly the declared size
    assert.equal(out.buffer.byteLength, 100_000);
    assert.equal(out.byteOffset, 0);
  });

  it('a body shorter than declared, or with no length declared, comes out at its own size', () => {
    for (const declared of ['200000', undefined, '', 'abc', '-1', '1.5', '1e3']) {
      const parts = pieces(30, 7_001);
      const body = new BodyCollector(1 << 20, declared);
      for (const p of parts) body.add(p);
      assert.equal(body.length, 210_030);
      const out = body.take();
      assert.ok(out.equals(Buffer.concat(parts)), `declared ${declared}`);
      assert.equal(out.buffer.byteLength, out.length, `declared ${declared}: no unused room kept`);
    }
  });

  it('a declared length past the cap is refused before any byte', () => {
    assert.throws(() => new BodyCollector(1000, '1001'), BodyTooLargeError);
    assert.throws(() => new BodyCollector(1000, 5_000_000_000), BodyTooLargeError);
    assert.doesNotThrow(() => new BodyCollector(1000, '1000'));
  });

  it('bytes past the cap are refused, whatever was declared, and nothing of them is kept', () => {
    for (const declared of [undefined, '10']) {
      const body = new BodyCollector(1000, declared);
      body.add(Buffer.alloc(600));
      assert.throws(() => body.add(Buffer.alloc(401)), BodyTooLargeError);
      assert.equal(body.length, 600);
      body.add(Buffer.alloc(400));
      assert.equal(body.take().length, 1000);
    }
  });

  it('a large declared length costs no more than MAX_PREALLOCATED until its bytes come', () => {
    const before = process.memoryUsage().arrayBuffers;
    const held = Array.from({ length: 50 }, () => new BodyCollector(300_000_000, '300000000'));
    const grew = process.memoryUsage().arrayBuffers - before;
    assert.ok(grew <= 50 * MAX_PREALLOCATED + (1 << 20), `50 bodies declared at 300 MB took ${grew} bytes`);
    // and such a body still arrives whole
    const body = held[0]!;
    const parts = pieces(3, MAX_PREALLOCATED);
    for (const p of parts) body.add(p);
    assert.ok(body.take().equals(Buffer.concat(parts)));
  });

  it('a length declared after the first bytes (HTTP/2 emits headers a tick after data read with them) is still checked, and the bytes kept', () => {
    const late = new BodyCollector(1000);
    late.add(Buffer.alloc(300, 1));
    assert.throws(() => late.expect('1001'), BodyTooLargeError);
    const ok = new BodyCollector(1000);
    ok.add(Buffer.alloc(300, 1));
    ok.expect('500');
    ok.add(Buffer.alloc(200, 2));
    assert.ok(ok.take().equals(Buffer.concat([Buffer.alloc(300, 1), Buffer.alloc(200, 2)])));
  });

  it('an empty body is an empty buffer', () => {
    assert.equal(new BodyCollector(10, '0').take().length, 0);
    assert.equal(new BodyCollector(10).take().length, 0);
  });
});

describe('readBody', () => {
  it('reads strings, Buffers and Uint8Arrays into one buffer', async () => {
    const out = await readBody(Readable.from(['ab', Buffer.from('cd'), new Uint8Array([0x65, 0x66])], { objectMode: true }), 100);
    assert.equal(out.toString(), 'abcdef');
  });

  it('stops at the cap, and refuses a declared length past it without reading', async () => {
    let read = 0;
    async function* source() {
      for (let i = 0; i < 100; i++) {
        read++;
        yield Buffer.alloc(100);
      }
    }
    await assert.rejects(readBody(source(), 1000), BodyTooLargeError);
    assert.equal(read, 11);
    read = 0;
    await assert.rejects(readBody(source(), 1000, { declaredLength: '1001' }), BodyTooLargeError);
    assert.equal(read, 0);
  });
});
