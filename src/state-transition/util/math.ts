// Spec "Math" helpers plus the integer conversions the spec writes as uint_to_bytes / bytes_to_uint64.

/** integer_square_root: largest x with x*x <= n. Exact for n < 2^53 via a float estimate corrected by one step. */
export function integerSquareRoot(n: number): number {
  if (n < 0) throw new Error("integerSquareRoot of a negative number");
  let x = Math.floor(Math.sqrt(n));
  while (x * x > n) x--;
  while ((x + 1) * (x + 1) <= n) x++;
  return x;
}

export function intDiv(a: number, b: number): number {
  return Math.floor(a / b);
}

export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** uint_to_bytes for a uint64 (little-endian, 8 bytes). */
export function uint64ToBytes(n: number): Uint8Array {
  const out = new Uint8Array(8);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, n >>> 0, true);
  dv.setUint32(4, Math.floor(n / 2 ** 32), true);
  return out;
}

/** bytes_to_uint64 of the first 8 bytes (little-endian). Exact below 2^53. */
export function bytesToUint64(b: Uint8Array, offset = 0): number {
  const dv = new DataView(b.buffer, b.byteOffset + offset, 8);
  return dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32;
}

// Kept for the chain modules that still import them from here; new code imports src/util/bytes.ts.
export { bytesEqual, fromHex, toHex } from "../../util/bytes.js";
