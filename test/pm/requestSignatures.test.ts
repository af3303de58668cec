import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashMessage, keccak256, toHex } from 'viem';
import { orchestratorRequestSignature, profileIdHex, segDataPreimage, segDataSignature } from '../../src/pm/requestSignatures.ts';
import { privateKeySigner, recoverPersonalSigner } from '../../src/pm/signer.ts';

const key1 = privateKeySigner('0x0000000000000000000000000000000000000000000000000000000000000001');

describe('broadcaster authentication signatures (docs/wire.md §5 vectors)', () => {
  it('OrchestratorRequest: personal-sign of keccak256 of the EIP-55 address text', () => {
    assert.equal(key1.address, '0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf');
    const inner = keccak256(toHex('0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf'));
    assert.equal(inner, '0x4d5a49db91080e655190d37cddc99ea26046572ad0796bb34bdaba86f6b74672');
    assert.equal(hashMessage({ raw: inner }), '0x58656fe8bd0c2b186542f829f6c5de387b108a917b38013f297aa26ca32b18b1');
    const sig = orchestratorRequestSignature(key1);
    assert.equal(recoverPersonalSigner(inner, sig), key1.address);
  });

  it('SegData: manifestId ‖ uint256(seq) ‖ hash ‖ hex text of profile ids', () => {
    assert.equal(profileIdHex('P240p30fps16x9'), 'c0a6517a');
    assert.equal(profileIdHex('P360p30fps16x9'), '93c717e7');
    const hash = Buffer.from(keccak256(toHex('hello')).slice(2), 'hex');
    assert.equal(hash.toString('hex'), '1c8aff950685c2ed4bc3174f3472287b56d9517b9c948127319a09a7a36deac8');
    const fields = { manifestId: 'abc', seq: 5n, hash, profileNames: ['P240p30fps16x9', 'P360p30fps16x9'] };
    const pre = segDataPreimage(fields);
    assert.equal(pre.length, 83);
    assert.equal(keccak256(pre), '0xb4473aaa35499843177192292c40d8e52c5c04cd44663c585d608905ee9eb998');
    assert.equal(hashMessage({ raw: keccak256(pre) }), '0xfe05dd84dde37662d20ddfadab7cdba303d3d79c3417b4512c00eb767177eb91');
    assert.equal(recoverPersonalSigner(keccak256(pre), segDataSignature(key1, fields)), key1.address);
  });
});
