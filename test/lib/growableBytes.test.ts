import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrowableBytes } from '../../src/lib/growableBytes.ts';

function write(g: GrowableBytes, bytes: Buffer): void {
  bytes.copy(g.reserve(bytes.length), g.length);
  g.commit(bytes.length);
}

describe('GrowableBytes', () => {
  it('keeps every byte written, in order, across growth past its first capacity', () => {
    const g = new GrowableBytes(10);
    const pieces = Array.from({ length: 50 }, (_, i) => Buffer.alloc(1 + i * 3, i));
    for (const p of pieces) write(g, p);
    const all = Buffer.concat(pieces);
    assert.equal(g.length, all.length);
    assert.ok(g.view().equals(all));
    assert.ok(g.view(5, 40).equals(all.subarray(5, 40)));
    const taken = g.copyOut();
    assert.ok(taken.equals(all));
    assert.equal(g.length, 0);
  });

  it('copyOut() gives the bytes in a buffer of their own size and writes the next ones in the same buffer', () => {
    const g = new GrowableBytes(1000);
    write(g, Buffer.alloc(300, 1));
    const first = g.copyOut();
    assert.equal(first.length, 300);
    assert.equal(first.buffer.byteLength, 300);
    assert.equal(g.length, 0);
    const room = g.reserve(1);
    write(g, Buffer.alloc(200, 2));
    assert.equal(g.reserve(1), room, 'the same buffer, not a fresh one');
    assert.equal(g.capacity, 1000);
    const second = g.copyOut();
    assert.ok(first.equals(Buffer.alloc(300, 1)), 'the first copy is not written over');
    assert.ok(second.equals(Buffer.alloc(200, 2)));
  });

  it('refuses a commit past the room reserved', () => {
    const g = new GrowableBytes(4);
    g.reserve(4);
    assert.throws(() => g.commit(5), RangeError);
    assert.throws(() => g.commit(-1), RangeError);
  });

  it('clear() starts again in the same buffer', () => {
    const g = new GrowableBytes(64);
    write(g, Buffer.from('first'));
    const before = g.view().buffer;
    g.clear();
    write(g, Buffer.from('second'));
    assert.equal(g.view().toString(), 'second');
    assert.equal(g.view().buffer, before);
  });
});

describe('GrowableBytes append() and take()', () => {
  it('take() hands over the buffer itself when it is exactly full, a copy of its own size otherwise', () => {
    const full = new GrowableBytes(8192);
    full.append(Buffer.alloc(8000, 1));
    full.append(Buffer.alloc(192, 2));
    const whole = full.take();
    assert.equal(whole.length, 8192);
    assert.equal(whole.buffer.byteLength, 8192, 'the buffer allocated, not a copy');
    assert.ok(whole.subarray(8000).equals(Buffer.alloc(192, 2)));
    assert.equal(full.length, 0);

    const part = new GrowableBytes(8192);
    part.append(Buffer.alloc(5000, 3));
    const copy = part.take();
    assert.equal(copy.buffer.byteLength, 5000);
    assert.ok(copy.equals(Buffer.alloc(5000, 3)));
  });

  it('append() grows past the first capacity and keeps the order', () => {
    const g = new GrowableBytes(3);
    for (let i = 0; i < 100; i++) g.append(Buffer.from([i]));
    assert.deepEqual(
      [...g.take()],
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});
