// Byte helpers for tests that compare and build wire bytes by hand (snappy frames, varints, keys).
import { toHex } from "../../src/util/bytes.js";

/** Hex without the 0x prefix, as byte-level test vectors are written. */
export function plainHex(b: Uint8Array): string {
  return toHex(b).slice(2);
}

export function cat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

export function u32le(v: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

/** A raw snappy frame chunk: type, 3-byte little-endian length, body. */
export function frameChunk(type: number, body: Uint8Array): Uint8Array {
  return cat(Uint8Array.of(type, body.length & 0xff, (body.length >> 8) & 0xff, body.length >> 16), body);
}
