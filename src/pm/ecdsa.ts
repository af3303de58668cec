// secp256k1 ECDSA with recovery, on libsecp256k1 (the `secp256k1` package's native binding) when it
// loads, else on @noble/curves. Both sign in constant time with RFC 6979 nonces and low s, so the two
// give the same bytes; libsecp256k1 is about 8× faster. The package's own fallback (elliptic, not
// constant-time) is never used: only its native binding is loaded.
import { createRequire } from 'node:module';
import { secp256k1 as noble } from '@noble/curves/secp256k1';

export interface RecoverableSignature {
  /** r ‖ s, 64 bytes, s in the lower half of the curve order */
  signature: Uint8Array;
  recovery: number;
}

export interface EcdsaBackend {
  readonly name: 'libsecp256k1' | '@noble/curves';
  sign(digest: Uint8Array, key: Uint8Array): RecoverableSignature;
  /** The uncompressed public key (65 bytes, 0x04 ‖ x ‖ y); throws on a signature that does not parse or recover. */
  recover(signature: Uint8Array, recovery: number, digest: Uint8Array): Uint8Array;
}

interface NativeSecp256k1 {
  ecdsaSign(msg32: Uint8Array, seckey: Uint8Array): { signature: Uint8Array; recid: number };
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

const nobleBackend: EcdsaBackend = {
  name: '@noble/curves',
  sign(digest, key) {
    const sig = noble.sign(digest, key, { lowS: true });
    return { signature: sig.toCompactRawBytes(), recovery: sig.recovery };
  },
  recover(signature, recovery, digest) {
    return noble.Signature.fromCompact(signature).addRecoveryBit(recovery).recoverPublicKey(digest).toRawBytes(false);
  },
};

function nativeBackend(): EcdsaBackend | undefined {
  if (process.env.LIVEPEER_GATEWAY_NOBLE_ECDSA === '1') return undefined;
  let lib: NativeSecp256k1;
  try {
    lib = createRequire(import.meta.url)('secp256k1/bindings') as NativeSecp256k1;
  } catch {
    return undefined; // no prebuilt binding for this platform: @noble/curves
  }
  return {
    name: 'libsecp256k1',
    sign(digest, key) {
      const { signature, recid } = lib.ecdsaSign(digest, key);
      return { signature, recovery: recid };
    },
    recover(signature, recovery, digest) {
      return lib.ecdsaRecover(signature, recovery, digest, false);
    },
  };
}

export const ecdsa: EcdsaBackend = nativeBackend() ?? nobleBackend;
export const nobleEcdsa: EcdsaBackend = nobleBackend;
