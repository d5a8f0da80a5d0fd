// ssz_snappy (p2p-interface.md, "SSZ-snappy encoding strategy"): <varint SSZ length><snappy frames of the SSZ bytes>.
// The decoder is a push state machine: it validates the length prefix as soon as its last byte arrives, checks
// every chunk header before buffering the chunk, and every compressed chunk's declared size before decompressing,
// so a peer can make it hold at most one chunk (< 77 KB) plus the payload it declared (<= MAX_CHUNK_SIZE).
import { MAX_CHUNK_SIZE } from "../../params/index.js";
import { maskedCrc32c } from "./crc32c.js";
import { EncodingError } from "./errors.js";
import { maxCompressedLength, snappyUncompressedLength, uncompressBlock } from "./snappyBlock.js";
import {
  CHECKSUM_SIZE,
  CHUNK_HEADER_SIZE,
  ChunkType,
  MAX_UNCOMPRESSED_CHUNK_DATA,
  STREAM_IDENTIFIER_BODY,
  concatBytes,
  encodeSnappyFrames,
} from "./snappyFrames.js";
import { VarintReader, encodeVarint } from "./varint.js";

/** Size bounds of the SSZ payload a reader accepts: the type's min/max SSZ size (and never above MAX_CHUNK_SIZE). */
export interface PayloadBounds {
  minSize: number;
  maxSize: number;
}

/** The bounds of an SSZ type (anything with minSize/maxSize, as @chainsafe/ssz types have). */
export function boundsOf(type: { minSize: number; maxSize: number }): PayloadBounds {
  return { minSize: type.minSize, maxSize: Math.min(type.maxSize, MAX_CHUNK_SIZE) };
}

/**
 * `<varint length><frames>`. An empty payload is the bare prefix 0: readers that read "exactly 0 bytes" then
 * need nothing more (ours also accepts a stream identifier after it).
 */
export function encodeSszSnappy(ssz: Uint8Array): Uint8Array {
  const prefix = encodeVarint(ssz.length);
  if (ssz.length === 0) return prefix;
  return concatBytes([prefix, encodeSnappyFrames(ssz)]);
}

type State = "header" | "chunkHeader" | "chunkBody" | "skip";

export class SszSnappyDecoder {
  private state: State = "header";
  private readonly varint = new VarintReader();
  private sszLength = -1;
  /** max_encoded_len(n): the spec's cap on the bytes a reader takes after the prefix */
  private budget = 0;
  private encodedRead = 0;
  private readonly chunkHead = new Uint8Array(CHUNK_HEADER_SIZE);
  private chunkHeadFill = 0;
  private chunkType = 0;
  private chunkBody: Uint8Array = new Uint8Array(0);
  private chunkBodyFill = 0;
  private skipLeft = 0;
  private sawStreamIdentifier = false;
  private readonly parts: Uint8Array[] = [];
  private collected = 0;

  constructor(private readonly bounds: PayloadBounds) {}

  /** The SSZ length from the prefix, once read. */
  get declaredLength(): number | null {
    return this.sszLength < 0 ? null : this.sszLength;
  }

  /** All declared bytes are in, and no chunk is half read. */
  get done(): boolean {
    return this.sszLength >= 0 && this.collected === this.sszLength && this.state === "chunkHeader" && this.chunkHeadFill === 0;
  }

  /**
   * Feeds bytes; returns how many were consumed. Stops at the end of the payload (the rest belongs to whatever
   * follows, e.g. the next response chunk). Throws an EncodingError on invalid input.
   */
  push(bytes: Uint8Array): number {
    let i = 0;
    while (i < bytes.length) {
      // an empty payload may be followed by a stream identifier (or padding) chunk: keep consuming frames then
      if (this.done && this.sszLength > 0) return i;
      switch (this.state) {
        case "header": {
          const v = this.varint.push(bytes[i++]!);
          if (v !== null) this.onLength(v);
          break;
        }
        case "chunkHeader": {
          const take = Math.min(CHUNK_HEADER_SIZE - this.chunkHeadFill, bytes.length - i);
          this.chunkHead.set(bytes.subarray(i, i + take), this.chunkHeadFill);
          this.chunkHeadFill += take;
          this.encodedRead += take;
          i += take;
          if (this.chunkHeadFill === CHUNK_HEADER_SIZE) this.onChunkHeader();
          break;
        }
        case "chunkBody": {
          const take = Math.min(this.chunkBody.length - this.chunkBodyFill, bytes.length - i);
          this.chunkBody.set(bytes.subarray(i, i + take), this.chunkBodyFill);
          this.chunkBodyFill += take;
          this.encodedRead += take;
          i += take;
          if (this.chunkBodyFill === this.chunkBody.length) this.onChunkBody();
          break;
        }
        case "skip": {
          const take = Math.min(this.skipLeft, bytes.length - i);
          this.skipLeft -= take;
          this.encodedRead += take;
          i += take;
          if (this.skipLeft === 0) this.state = "chunkHeader";
          break;
        }
      }
    }
    return i;
  }

  /** Call at end of input: returns the SSZ bytes, or throws TRUNCATED if the input ended early. */
  finish(): Uint8Array {
    if (this.sszLength < 0) throw new EncodingError("TRUNCATED", "ssz_snappy: input ends before the length prefix is complete");
    if (!this.done) {
      throw new EncodingError("TRUNCATED", `ssz_snappy: input ends after ${this.collected} of ${this.sszLength} declared bytes`);
    }
    return this.parts.length === 1 ? this.parts[0]! : concatBytes(this.parts);
  }

  private onLength(n: number): void {
    const max = Math.min(this.bounds.maxSize, MAX_CHUNK_SIZE);
    if (n > max || n < this.bounds.minSize) {
      throw new EncodingError("LENGTH_OUT_OF_BOUNDS", `ssz_snappy: declared length ${n} outside [${this.bounds.minSize}, ${max}]`);
    }
    this.sszLength = n;
    this.budget = maxCompressedLength(n);
    this.state = "chunkHeader";
  }

  private onChunkHeader(): void {
    const h = this.chunkHead;
    const type = h[0]!;
    const len = h[1]! | (h[2]! << 8) | (h[3]! << 16);
    this.chunkHeadFill = 0;
    if (!this.sawStreamIdentifier && type !== ChunkType.streamIdentifier) {
      throw new EncodingError("MISSING_STREAM_IDENTIFIER", `snappy frames: first chunk has type 0x${type.toString(16)}, not a stream identifier`);
    }
    // a data chunk may carry no more than what is still expected: anything else is a bomb or trailing data
    const expected = Math.min(MAX_UNCOMPRESSED_CHUNK_DATA, this.sszLength - this.collected);
    if (type === ChunkType.streamIdentifier) {
      if (len !== STREAM_IDENTIFIER_BODY.length) throw new EncodingError("BAD_STREAM_IDENTIFIER", `snappy frames: stream identifier of length ${len}`);
    } else if (type === ChunkType.compressed) {
      if (len <= CHECKSUM_SIZE) throw new EncodingError("BAD_SNAPPY", "snappy frames: compressed chunk without data");
      if (len - CHECKSUM_SIZE > maxCompressedLength(expected)) {
        throw new EncodingError("CHUNK_TOO_LARGE", `snappy frames: compressed chunk of ${len} bytes, ${expected} uncompressed bytes expected`);
      }
    } else if (type === ChunkType.uncompressed) {
      if (len < CHECKSUM_SIZE) throw new EncodingError("BAD_SNAPPY", "snappy frames: uncompressed chunk shorter than its checksum");
      if (len - CHECKSUM_SIZE > expected) {
        throw new EncodingError("UNCOMPRESSED_TOO_LARGE", `snappy frames: chunk of ${len - CHECKSUM_SIZE} bytes, ${expected} expected`);
      }
    } else if (type >= 0x02 && type <= 0x7f) {
      throw new EncodingError("RESERVED_CHUNK", `snappy frames: reserved unskippable chunk type 0x${type.toString(16)}`);
    } else {
      // 0x80-0xfd reserved skippable, 0xfe padding: drop the body without buffering it
      this.checkBudget(len);
      this.skipLeft = len;
      if (len > 0) this.state = "skip";
      return;
    }
    this.checkBudget(len);
    this.chunkType = type;
    this.chunkBody = new Uint8Array(len);
    this.chunkBodyFill = 0;
    this.state = "chunkBody";
    if (len === 0) this.onChunkBody();
  }

  /** Bounds the total a peer can make us read, padding and skippable chunks included. */
  private checkBudget(chunkLength: number): void {
    if (this.encodedRead + chunkLength > this.budget) {
      throw new EncodingError("TOO_MANY_BYTES", `ssz_snappy: more than ${this.budget} encoded bytes for a ${this.sszLength}-byte payload`);
    }
  }

  private onChunkBody(): void {
    const body = this.chunkBody;
    this.chunkBody = new Uint8Array(0);
    this.state = "chunkHeader";
    if (this.chunkType === ChunkType.streamIdentifier) {
      for (let k = 0; k < STREAM_IDENTIFIER_BODY.length; k++) {
        if (body[k] !== STREAM_IDENTIFIER_BODY[k]) throw new EncodingError("BAD_STREAM_IDENTIFIER", "snappy frames: stream identifier is not sNaPpY");
      }
      this.sawStreamIdentifier = true;
      return;
    }
    const crc = (body[0]! | (body[1]! << 8) | (body[2]! << 16) | (body[3]! << 24)) >>> 0;
    const payload = body.subarray(CHECKSUM_SIZE);
    let data: Uint8Array;
    if (this.chunkType === ChunkType.compressed) {
      const expected = Math.min(MAX_UNCOMPRESSED_CHUNK_DATA, this.sszLength - this.collected);
      const declared = snappyUncompressedLength(payload);
      if (declared > expected) {
        throw new EncodingError("UNCOMPRESSED_TOO_LARGE", `snappy frames: compressed chunk declares ${declared} bytes, ${expected} expected`);
      }
      data = uncompressBlock(payload, expected);
    } else {
      data = payload;
    }
    if (maskedCrc32c(data) !== crc) throw new EncodingError("BAD_CRC", "snappy frames: checksum mismatch");
    if (data.length > 0) {
      this.parts.push(data);
      this.collected += data.length;
    }
  }
}

/** Decodes one whole ssz_snappy payload held in memory; bytes after it are an error. */
export function decodeSszSnappy(bytes: Uint8Array, bounds: PayloadBounds): Uint8Array {
  const d = new SszSnappyDecoder(bounds);
  const used = d.push(bytes);
  if (used < bytes.length) throw new EncodingError("TRAILING_DATA", `ssz_snappy: ${bytes.length - used} bytes after the payload`);
  return d.finish();
}
