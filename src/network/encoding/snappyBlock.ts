// Raw snappy blocks (no framing): what gossip messages carry, and what each compressed frame chunk holds.
import snappy from "snappy";
import { EncodingError, isEncodingError } from "./errors.js";
import { decodeVarint } from "./varint.js";

/** snappy.cc MaxCompressedLength: the worst case an encoder may produce for `n` input bytes. */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/**
 * The uncompressed length a raw block declares in its header (a varint of at most 5 bytes, a uint32). Read
 * without decompressing, so a caller can refuse a block before the decompressor allocates that much.
 */
export function snappyUncompressedLength(block: Uint8Array): number {
  try {
    return decodeVarint(block, 0, 5).value;
  } catch (e) {
    if (isEncodingError(e)) throw new EncodingError("BAD_SNAPPY", `snappy: bad block header (${e.message})`);
    throw e;
  }
}

export function compressBlock(bytes: Uint8Array): Uint8Array {
  return snappy.compressSync(bytes);
}

/** Decompresses a raw block whose declared length is at most `maxSize`; the length is checked before decompressing. */
export function uncompressBlock(block: Uint8Array, maxSize: number): Uint8Array {
  const declared = snappyUncompressedLength(block);
  if (declared > maxSize) {
    throw new EncodingError("UNCOMPRESSED_TOO_LARGE", `snappy: block declares ${declared} bytes, more than the ${maxSize} allowed`);
  }
  let out: Uint8Array;
  try {
    out = snappy.uncompressSync(block, { asBuffer: true }) as Uint8Array;
  } catch (e) {
    throw new EncodingError("BAD_SNAPPY", `snappy: corrupt block (${(e as Error).message})`);
  }
  if (out.length !== declared) throw new EncodingError("BAD_SNAPPY", `snappy: block decodes to ${out.length} bytes, declared ${declared}`);
  return out;
}
