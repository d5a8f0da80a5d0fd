// Aggregate signatures of interop validators at the cost of one signing: BLS signatures are linear in the secret
// key, so the aggregate of the members' signatures over one message is the signature by the sum of their secret
// keys (mod r, the order of the BLS12-381 groups). The benchmarks use it to sign a whole committee at once.
import { secretKeyFromBytes, sign } from "../../src/crypto/bls.js";
import { interopSecretKeyBytes } from "../../src/crypto/interop.js";

/** r, the order of the BLS12-381 groups (secret keys are integers mod r). */
export const BLS_CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

function bytesToBigInt(b: Uint8Array): bigint {
  let n = 0n;
  for (const x of b) n = (n << 8n) | BigInt(x);
  return n;
}

function bigIntToBytes32(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** The interop secret keys as integers, derived once each (a chain signs with the same committees' keys often). */
export class InteropAggregateSigner {
  private readonly keys = new Map<number, bigint>();

  private key(index: number): bigint {
    let k = this.keys.get(index);
    if (k === undefined) {
      k = bytesToBigInt(interopSecretKeyBytes(index));
      this.keys.set(index, k);
    }
    return k;
  }

  /** The secret key whose signatures are the aggregates of `signers`' signatures (big-endian, 32 bytes). */
  sumSecretKey(signers: ArrayLike<number>): Uint8Array {
    if (signers.length === 0) throw new Error("no signers: an empty aggregate has no secret key");
    let sum = 0n;
    for (let i = 0; i < signers.length; i++) sum += this.key(signers[i]);
    const key = sum % BLS_CURVE_ORDER;
    // a zero sum is not a valid secret key; with hash-derived keys it does not happen in practice
    if (key === 0n) throw new Error("the signers' secret keys sum to zero mod r");
    return bigIntToBytes32(key);
  }

  /** The aggregate signature of `signers` over `message`. */
  sign(signers: ArrayLike<number>, message: Uint8Array): Uint8Array {
    return sign(secretKeyFromBytes(this.sumSecretKey(signers)), message);
  }
}
