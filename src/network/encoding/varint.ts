// Unsigned LEB128 ("protobuf varint"), the length prefix of ssz_snappy payloads and the header of a raw snappy block.
import { EncodingError } from "./errors.js";

/** A uint64 needs at most 10 groups of 7 bits; the spec rejects longer prefixes. */
export const MAX_VARINT_BYTES = 10;

export function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Encodes a non-negative safe integer (lengths never come near 2^53). */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint: not a non-negative safe integer: ${value}`);
  const out = new Uint8Array(varintLength(value));
  let i = 0;
  while (value >= 0x80) {
    out[i++] = (value % 128) | 0x80;
    value = Math.floor(value / 128);
  }
  out[i] = value;
  return out;
}

/**
 * Incremental varint reader: push one byte at a time, so a streaming decoder can validate the prefix as soon as
 * its bytes arrive. `maxBytes` caps the encoding length (10 for uint64, 5 for snappy's uint32 header).
 */
export class VarintReader {
  private value = 0;
  private scale = 1;
  private count = 0;
  private finished = false;

  constructor(private readonly maxBytes: number = MAX_VARINT_BYTES) {}

  /** Returns the value once its last byte was pushed, otherwise null. Throws on an invalid encoding. */
  push(byte: number): number | null {
    if (this.finished) throw new Error("VarintReader: already finished");
    this.count++;
    const group = byte & 0x7f;
    const more = (byte & 0x80) !== 0;
    if (this.count === MAX_VARINT_BYTES && (more || group > 1)) {
      // the 10th byte holds bit 63 only
      throw new EncodingError(more ? "VARINT_TOO_LONG" : "VARINT_OVERFLOW", "varint: longer than 10 bytes or above 2^64");
    }
    if (more && this.count >= this.maxBytes) throw new EncodingError("VARINT_TOO_LONG", `varint: longer than ${this.maxBytes} bytes`);
    // a final zero group after others is a padded (non-minimal) encoding: reject so each length has one encoding
    if (!more && group === 0 && this.count > 1) throw new EncodingError("VARINT_NON_MINIMAL", "varint: non-minimal encoding");
    // stays exact below 2^53; anything larger saturates to an unsafe number the caller's bound check rejects
    this.value += group * this.scale;
    this.scale *= 128;
    if (more) return null;
    this.finished = true;
    return this.value;
  }

  get bytesRead(): number {
    return this.count;
  }
}

/** Decodes a varint at `offset`; throws if the input ends inside it. */
export function decodeVarint(bytes: Uint8Array, offset = 0, maxBytes: number = MAX_VARINT_BYTES): { value: number; length: number } {
  const r = new VarintReader(maxBytes);
  for (let i = offset; i < bytes.length; i++) {
    const v = r.push(bytes[i]!);
    if (v !== null) return { value: v, length: r.bytesRead };
  }
  throw new EncodingError("TRUNCATED", "varint: input ends inside the varint");
}
