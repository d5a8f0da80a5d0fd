// The deterministic validator keys of the Eth2 interop spec ("mocked start"): secret key i is
// int.from_bytes(sha256(uint_to_bytes(i, 32 bytes little-endian)), "little") mod the BLS12-381 curve order.
// Every client derives the same keys, so devnets, tests and benchmarks can sign without key files.
import { digest } from "@chainsafe/as-sha256";
import { secretKeyFromBytes, type SecretKey } from "./bls.js";

const CURVE_ORDER = 0x73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001n;

export function interopSecretKeyBytes(index: number): Uint8Array {
  const input = new Uint8Array(32);
  new DataView(input.buffer).setBigUint64(0, BigInt(index), true);
  const h = digest(input);
  let n = 0n;
  for (let i = 31; i >= 0; i--) n = (n << 8n) | BigInt(h[i]);
  n %= CURVE_ORDER;
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out; // big-endian, as BLS secret keys are serialized
}

export function interopSecretKey(index: number): SecretKey {
  return secretKeyFromBytes(interopSecretKeyBytes(index));
}
