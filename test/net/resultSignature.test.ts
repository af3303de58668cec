import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keccak256, concat } from 'viem';
import { bytesToHex, hexToBytes } from '../../src/lib/bytes.ts';
import { privateKeySigner } from '../../src/pm/signer.ts';
import { transcodeResultHash, verifyTranscodeResult } from '../../src/net/resultSignature.ts';

describe('orchestrator result signature (docs/wire.md §5.5)', () => {
  const o = privateKeySigner('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a');
  const renditions = [new TextEncoder().encode('rendition 240p'), new TextEncoder().encode('rendition 360p')];
  it('hashes keccak256 of the concatenated per-rendition hashes, in profile order', () => {
    const expected = keccak256(concat(renditions.map((r) => keccak256(r))));
    assert.equal(bytesToHex(transcodeResultHash(renditions)), expected);
  });
  it('accepts the orchestrator signature, refuses another key, swapped order or changed bytes', () => {
    const sig = hexToBytes(o.signHash(transcodeResultHash(renditions)));
    assert.equal(verifyTranscodeResult(renditions, sig, o.address), true);
    const other = privateKeySigner(`0x${'42'.repeat(32)}`);
    assert.equal(verifyTranscodeResult(renditions, hexToBytes(other.signHash(transcodeResultHash(renditions))), o.address), false);
    assert.equal(verifyTranscodeResult([...renditions].reverse(), sig, o.address), false);
    assert.equal(verifyTranscodeResult([renditions[0]!, new Uint8Array(3)], sig, o.address), false);
    assert.equal(verifyTranscodeResult(renditions, new Uint8Array(0), o.address), false);
  });
});
