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
