// The snappy framing format (github.com/google/snappy/blob/main/framing_format.txt), written out by hand on top of
// raw block compression: a stream identifier, then chunks of at most 65536 uncompressed bytes, each with the
// masked CRC-32C of its uncompressed data.
import { maskedCrc32c } from "./crc32c.js";
import { compressBlock } from "./snappyBlock.js";

export const ChunkType = {
  compressed: 0x00,
  uncompressed: 0x01,
  padding: 0xfe,
  streamIdentifier: 0xff,
} as const;

/** The payload of the stream identifier chunk: "sNaPpY". */
export const STREAM_IDENTIFIER_BODY = Uint8Array.from([0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]);
/** The whole stream identifier chunk (type, 3-byte length, body). */
export const STREAM_IDENTIFIER_CHUNK = Uint8Array.from([ChunkType.streamIdentifier, 0x06, 0x00, 0x00, ...STREAM_IDENTIFIER_BODY]);
export const MAX_UNCOMPRESSED_CHUNK_DATA = 65536;
/** chunk type (1) + length (3) */
export const CHUNK_HEADER_SIZE = 4;
export const CHECKSUM_SIZE = 4;

function chunkHeader(type: number, length: number): Uint8Array {
  return Uint8Array.of(type, length & 0xff, (length >>> 8) & 0xff, (length >>> 16) & 0xff);
}

function u32le(v: number): Uint8Array {
  return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
}

/** Frames `data` as one snappy stream; chunks that would not shrink by 1/8 are stored uncompressed (as Go's writer does). */
export function encodeSnappyFrames(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [STREAM_IDENTIFIER_CHUNK];
  for (let off = 0; off < data.length; off += MAX_UNCOMPRESSED_CHUNK_DATA) {
    const slice = data.subarray(off, Math.min(off + MAX_UNCOMPRESSED_CHUNK_DATA, data.length));
    const crc = u32le(maskedCrc32c(slice));
    const compressed = compressBlock(slice);
    const useCompressed = compressed.length < slice.length - Math.floor(slice.length / 8);
    const body = useCompressed ? compressed : slice;
    parts.push(chunkHeader(useCompressed ? ChunkType.compressed : ChunkType.uncompressed, CHECKSUM_SIZE + body.length), crc, body);
  }
  return concatBytes(parts);
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
