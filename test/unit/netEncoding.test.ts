import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import snappy from "snappy";
import {
  EncodingError,
  MAX_UNCOMPRESSED_CHUNK_DATA,
  STREAM_IDENTIFIER_CHUNK,
  SszSnappyDecoder,
  compressBlock,
  crc32c,
  decodeSszSnappy,
  decodeVarint,
  encodeSnappyFrames,
  encodeSszSnappy,
  encodeVarint,
  maskedCrc32c,
  maxCompressedLength,
  snappyUncompressedLength,
  uncompressBlock,
  type EncodingErrorCode,
  type PayloadBounds,
} from "../../src/network/encoding/index.js";
import { MAX_CHUNK_SIZE } from "../../src/params/index.js";
import { cat, frameChunk as chunk, plainHex as hex, u32le } from "../utils/bytes.js";

const ANY: PayloadBounds = { minSize: 0, maxSize: MAX_CHUNK_SIZE };

function bytes(h: string): Uint8Array {
  return Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));
}
function uncompressedChunk(data: Uint8Array, crc = maskedCrc32c(data)): Uint8Array {
  return chunk(0x01, cat(u32le(crc), data));
}
function compressedChunk(block: Uint8Array, data: Uint8Array): Uint8Array {
  return chunk(0x00, cat(u32le(maskedCrc32c(data)), block));
}
function throwsCode(fn: () => unknown, code: EncodingErrorCode): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof EncodingError, `expected EncodingError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}
/** Semi-compressible test data. */
function sample(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = i % 7 === 0 ? x >>> 24 : i & 0x0f;
  }
  return out;
}

test("varint: encodes LEB128 and round-trips", () => {
  assert.equal(hex(encodeVarint(0)), "00");
  assert.equal(hex(encodeVarint(1)), "01");
  assert.equal(hex(encodeVarint(127)), "7f");
  assert.equal(hex(encodeVarint(128)), "8001");
  assert.equal(hex(encodeVarint(300)), "ac02");
  assert.equal(hex(encodeVarint(2 ** 20)), "808040");
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    const enc = encodeVarint(v);
    assert.deepEqual(decodeVarint(enc), { value: v, length: enc.length });
  }
  assert.throws(() => encodeVarint(-1));
  assert.throws(() => encodeVarint(1.5));
});

test("varint: rejects more than 10 bytes, bits above 2^64, non-minimal encodings and truncation", () => {
  throwsCode(() => decodeVarint(new Uint8Array(11).fill(0x80)), "VARINT_TOO_LONG");
  // 10 bytes whose last carries more than bit 63
  throwsCode(() => decodeVarint(cat(new Uint8Array(9).fill(0xff), Uint8Array.of(0x02))), "VARINT_OVERFLOW");
  // 2^64 - 1 is the largest 10-byte value: accepted (as an unsafe number the bound checks reject)
  assert.ok(decodeVarint(cat(new Uint8Array(9).fill(0xff), Uint8Array.of(0x01))).value > Number.MAX_SAFE_INTEGER);
  throwsCode(() => decodeVarint(bytes("8000")), "VARINT_NON_MINIMAL");
  throwsCode(() => decodeVarint(bytes("ac8200")), "VARINT_NON_MINIMAL");
  throwsCode(() => decodeVarint(bytes("ac")), "TRUNCATED");
  // snappy's block header is a uint32: at most 5 bytes
  throwsCode(() => decodeVarint(bytes("ffffffffff01"), 0, 5), "VARINT_TOO_LONG");
});

test("crc32c: the check value of '123456789' and the masked form", () => {
  assert.equal(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  // RFC 3720 B.4 vectors: 32 zero bytes, 32 0xff bytes
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  const c = crc32c(new TextEncoder().encode("123456789"));
  assert.equal(maskedCrc32c(new TextEncoder().encode("123456789")), ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test("frames: 'hello' is the stream identifier plus one uncompressed chunk, as the reference framer writes it", () => {
  // the bytes Google's framing format gives: ff 060000 "sNaPpY", 01 090000 <masked crc> "hello"
  const expected = "ff060000734e61507059" + "01090000" + "bb1f1c19" + "68656c6c6f";
  assert.equal(hex(encodeSnappyFrames(new TextEncoder().encode("hello"))), expected);
  assert.equal(hex(STREAM_IDENTIFIER_CHUNK), "ff060000734e61507059");
});

test("frames: a hand-built compressed chunk decodes (literal 'a' + copy of 9 at offset 1)", () => {
  const data = new TextEncoder().encode("aaaaaaaaaa");
  // raw block: length 10, literal of 1 byte 'a', copy-1 tag with length 9 offset 1
  const block = bytes("0a 00 61 15 01");
  assert.equal(hex(uncompressBlock(block, 10)), hex(data));
  const enc = cat(encodeVarint(10), STREAM_IDENTIFIER_CHUNK, compressedChunk(block, data));
  assert.equal(hex(decodeSszSnappy(enc, ANY)), hex(data));
});

test("ssz_snappy: round-trips sizes around the 65536-byte chunk limit, and interoperates with the native framer", async () => {
  for (const n of [1, 84, 1000, MAX_UNCOMPRESSED_CHUNK_DATA - 1, MAX_UNCOMPRESSED_CHUNK_DATA, MAX_UNCOMPRESSED_CHUNK_DATA + 1, 200_000]) {
    for (const data of [sample(n), new Uint8Array(randomBytes(n))]) {
      const enc = encodeSszSnappy(data);
      assert.equal(hex(decodeSszSnappy(enc, ANY)), hex(data), `n=${n}`);
      assert.ok(enc.length <= encodeVarint(n).length + maxCompressedLength(n), "within max_encoded_len");
      // the native frame decoder accepts our frames
      const prefix = decodeVarint(enc);
      const d = new snappy.Decompressor();
      const out = Buffer.concat([d.update(enc.subarray(prefix.length)), await d.finish()]);
      assert.equal(out.length, n);
      assert.ok(out.equals(Buffer.from(data)));
      // and ours accepts the native framer's output
      const c = new snappy.Compressor();
      const native = Buffer.concat([c.update(data), await c.finish()]);
      assert.equal(hex(decodeSszSnappy(cat(encodeVarint(n), native), ANY)), hex(data));
    }
  }
});

test("ssz_snappy: streaming decode byte by byte gives the same bytes and leaves what follows", () => {
  const data = sample(70_000, 7);
  const enc = encodeSszSnappy(data);
  const next = Uint8Array.of(0, 1, 2);
  const input = cat(enc, next);
  const d = new SszSnappyDecoder(ANY);
  let consumed = 0;
  for (let i = 0; i < input.length && !d.done; i++) consumed += d.push(input.subarray(i, i + 1));
  assert.equal(consumed, enc.length, "stops exactly at the end of the payload");
  assert.equal(d.declaredLength, data.length);
  assert.equal(hex(d.finish()), hex(data));
  // in one push: consumes the payload only
  const d2 = new SszSnappyDecoder(ANY);
  assert.equal(d2.push(input), enc.length);
});

test("ssz_snappy: empty payload, padding and skippable chunks", () => {
  assert.equal(hex(encodeSszSnappy(new Uint8Array(0))), "00");
  assert.equal(decodeSszSnappy(bytes("00"), ANY).length, 0);
  assert.equal(decodeSszSnappy(cat(bytes("00"), STREAM_IDENTIFIER_CHUNK), ANY).length, 0);
  const data = sample(300);
  const withPadding = cat(
    encodeVarint(300),
    STREAM_IDENTIFIER_CHUNK,
    chunk(0xfe, new Uint8Array(5)),
    uncompressedChunk(data.subarray(0, 100)),
    chunk(0x80, new Uint8Array(3)),
    STREAM_IDENTIFIER_CHUNK,
    chunk(0xfd, new Uint8Array(0)),
    uncompressedChunk(data.subarray(100)),
  );
  assert.equal(hex(decodeSszSnappy(withPadding, ANY)), hex(data));
});

test("ssz_snappy: the length prefix is checked against the bounds before any payload byte is read", () => {
  const status: PayloadBounds = { minSize: 84, maxSize: 84 };
  // only the header is pushed: rejecting here proves nothing was buffered for the declared size
  throwsCode(() => new SszSnappyDecoder(ANY).push(encodeVarint(2 ** 30)), "LENGTH_OUT_OF_BOUNDS");
  throwsCode(() => new SszSnappyDecoder(ANY).push(encodeVarint(MAX_CHUNK_SIZE + 1)), "LENGTH_OUT_OF_BOUNDS");
  throwsCode(() => new SszSnappyDecoder({ minSize: 0, maxSize: 10 * MAX_CHUNK_SIZE }).push(encodeVarint(MAX_CHUNK_SIZE + 1)), "LENGTH_OUT_OF_BOUNDS");
  throwsCode(() => new SszSnappyDecoder(status).push(encodeVarint(85)), "LENGTH_OUT_OF_BOUNDS");
  throwsCode(() => new SszSnappyDecoder(status).push(encodeVarint(83)), "LENGTH_OUT_OF_BOUNDS");
  // 2^64 - 1
  throwsCode(() => new SszSnappyDecoder(ANY).push(cat(new Uint8Array(9).fill(0xff), Uint8Array.of(1))), "LENGTH_OUT_OF_BOUNDS");
  throwsCode(() => new SszSnappyDecoder(ANY).push(new Uint8Array(11).fill(0x80)), "VARINT_TOO_LONG");
  throwsCode(() => new SszSnappyDecoder(ANY).push(bytes("8000")), "VARINT_NON_MINIMAL");
  assert.equal(new SszSnappyDecoder(status).push(encodeVarint(84)), 1);
});

test("ssz_snappy: a snappy bomb is refused from its headers, before decompressing", () => {
  const head = cat(encodeVarint(100), STREAM_IDENTIFIER_CHUNK);
  // a compressed chunk whose raw block claims 2^31 - 1 uncompressed bytes, with hardly any data
  const bomb = chunk(0x00, cat(u32le(0), bytes("ffffffff07"), Uint8Array.of(0x00, 0x61)));
  throwsCode(() => new SszSnappyDecoder(ANY).push(cat(head, bomb)), "UNCOMPRESSED_TOO_LARGE");
  // a block claiming exactly one byte more than expected
  const data = sample(101);
  throwsCode(() => decodeSszSnappy(cat(head, compressedChunk(compressBlock(data), data)), ANY), "UNCOMPRESSED_TOO_LARGE");
  // a chunk header announcing 16 MB: rejected from the 4 header bytes alone
  throwsCode(() => new SszSnappyDecoder(ANY).push(cat(encodeVarint(MAX_CHUNK_SIZE), STREAM_IDENTIFIER_CHUNK, bytes("00ffffff"))), "CHUNK_TOO_LARGE");
  throwsCode(() => new SszSnappyDecoder(ANY).push(cat(encodeVarint(MAX_CHUNK_SIZE), STREAM_IDENTIFIER_CHUNK, bytes("01ffffff"))), "UNCOMPRESSED_TOO_LARGE");
  // an uncompressed chunk with more data than declared: trailing data inside the frames
  throwsCode(() => decodeSszSnappy(cat(head, uncompressedChunk(sample(101))), ANY), "UNCOMPRESSED_TOO_LARGE");
});

test("ssz_snappy: garbage, bad CRC, reserved chunks, missing identifier, too many bytes", () => {
  const data = sample(1000);
  const good = encodeSszSnappy(data);
  // garbage after the prefix: the first chunk is not a stream identifier
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(1000), new Uint8Array(randomBytes(64)).fill(0x41, 0, 1)), ANY), "MISSING_STREAM_IDENTIFIER");
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(3), chunk(0xff, new TextEncoder().encode("sNaPpX"))), ANY), "BAD_STREAM_IDENTIFIER");
  // garbage inside a well-framed compressed chunk
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(50), STREAM_IDENTIFIER_CHUNK, chunk(0x00, cat(u32le(0), bytes("32 ff ff ff ff ff ff")))), ANY), "BAD_SNAPPY");
  // one flipped checksum bit
  const badCrc = Uint8Array.from(good);
  badCrc[encodeVarint(1000).length + STREAM_IDENTIFIER_CHUNK.length + 4] ^= 0x01;
  throwsCode(() => decodeSszSnappy(badCrc, ANY), "BAD_CRC");
  // a flipped data bit in an uncompressed chunk
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(3), STREAM_IDENTIFIER_CHUNK, uncompressedChunk(bytes("010203"), maskedCrc32c(bytes("010204")))), ANY), "BAD_CRC");
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(3), STREAM_IDENTIFIER_CHUNK, chunk(0x02, bytes("00"))), ANY), "RESERVED_CHUNK");
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(3), STREAM_IDENTIFIER_CHUNK, chunk(0x7f, bytes("00"))), ANY), "RESERVED_CHUNK");
  // padding beyond max_encoded_len(n) = 32 + n + n/6
  throwsCode(() => decodeSszSnappy(cat(encodeVarint(3), STREAM_IDENTIFIER_CHUNK, chunk(0xfe, new Uint8Array(40))), ANY), "TOO_MANY_BYTES");
});

test("ssz_snappy: every truncation is rejected and trailing bytes are refused", () => {
  const data = sample(70_000, 3);
  const enc = encodeSszSnappy(data);
  const cuts = [0, 1, 2, 5, 11, 15, 20, 100, enc.length >> 1, enc.length - 5, enc.length - 1];
  for (const cut of cuts) {
    const d = new SszSnappyDecoder(ANY);
    d.push(enc.subarray(0, cut));
    assert.equal(d.done, false);
    throwsCode(() => d.finish(), "TRUNCATED");
  }
  throwsCode(() => decodeSszSnappy(cat(enc, Uint8Array.of(0)), ANY), "TRAILING_DATA");
  throwsCode(() => decodeSszSnappy(cat(encodeSszSnappy(sample(10)), STREAM_IDENTIFIER_CHUNK), ANY), "TRAILING_DATA");
});

test("raw blocks for gossip: round trip, and the declared length is checked before decompressing", () => {
  const data = sample(5000);
  const block = compressBlock(data);
  assert.ok(block.length < data.length);
  assert.equal(snappyUncompressedLength(block), 5000);
  assert.equal(hex(uncompressBlock(block, 5000)), hex(data));
  throwsCode(() => uncompressBlock(block, 4999), "UNCOMPRESSED_TOO_LARGE");
  // 5 header bytes claiming 2^32 - 1: refused without touching the decompressor
  throwsCode(() => uncompressBlock(bytes("ffffffff0f"), MAX_CHUNK_SIZE), "UNCOMPRESSED_TOO_LARGE");
  throwsCode(() => uncompressBlock(bytes("ffffffffff01"), MAX_CHUNK_SIZE), "BAD_SNAPPY");
  // a header claiming 10 bytes followed by a literal of 1: corrupt
  throwsCode(() => uncompressBlock(bytes("0a0061"), 10), "BAD_SNAPPY");
  throwsCode(() => uncompressBlock(new Uint8Array(0), 10), "BAD_SNAPPY");
});
