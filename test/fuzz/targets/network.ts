// Wire decoders: raw snappy blocks, ssz_snappy payloads (whole and streamed), req/resp chunk streams read through
// the real StreamReader, and gossip payloads. Every length on these paths comes from the peer, so each target also
// bounds what decoding may allocate: it fails when a decoder returns more than its bound allows.
import fc from "fast-check";
import { getNamedConfig } from "../../../src/config/index.js";
import {
  EncodingError,
  SszSnappyDecoder,
  boundsOf,
  compressBlock,
  decodeSszSnappy,
  encodeSszSnappy,
  uncompressBlock,
  type PayloadBounds,
} from "../../../src/network/encoding/index.js";
import { GossipDecodeError, computeMessageId, decodeGossipPayload, encodeGossipPayload } from "../../../src/network/gossip/encoding.js";
import { ReqRespError, RespCode, StreamReader, faultOfRespCode } from "../../../src/network/reqresp/index.js";
import { GOSSIP_MAX_SIZE, MAX_CHUNK_SIZE } from "../../../src/params/index.js";
import { bytesEqual } from "../../../src/util/bytes.js";
import { FuzzFinding, isPlainRejection, mutatedBytes, unexpected, type FuzzTarget } from "../engine.js";
import { readIf, vectorCases } from "./specVectors.js";

const types = () => getNamedConfig("minimal").types;
const ANY: PayloadBounds = { minSize: 0, maxSize: MAX_CHUNK_SIZE };

/** Real SSZ messages: spec-vector blocks and attestations when unpacked (the committed corpus has encoded ones). */
function sszSamples(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const t of ["SignedBeaconBlock", "Attestation", "SignedAggregateAndProof"]) {
    for (const c of vectorCases("ssz_static", t, "ssz_random").slice(0, 1)) {
      const b = readIf(`${c}/serialized.ssz`);
      if (b) out.push(b);
    }
  }
  // semi-compressible and incompressible bytes, so both chunk kinds appear
  out.push(new Uint8Array(70_000).map((_, i) => (i % 13 === 0 ? i & 0xff : 7)));
  out.push(Uint8Array.from({ length: 300 }, (_, i) => (i * 2654435761) >>> 24));
  return out;
}

function expectOnly(what: string, e: unknown, ...classes: (abstract new (...a: never[]) => Error)[]): void {
  if (classes.some((c) => e instanceof c)) return;
  throw unexpected(what, e);
}

const snappyBlock: FuzzTarget = {
  name: "snappy-block",
  description: "raw snappy block (gossip, frame chunks): EncodingError only, output within the declared bound",
  seeds: () => sszSamples().map((b) => compressBlock(b)),
  run(input) {
    const max = 1 << 16;
    let out: Uint8Array;
    try {
      out = uncompressBlock(input, max);
    } catch (e) {
      expectOnly("uncompressBlock", e, EncodingError);
      return "rejected";
    }
    if (out.length > max) throw new FuzzFinding(`decoded ${out.length} bytes, bound ${max}`);
    if (!bytesEqual(uncompressBlock(compressBlock(out), max), out)) throw new FuzzFinding("snappy round trip changed the bytes");
    return "accepted";
  },
};

/** Pushes `input` into a streaming decoder in pieces of `step` bytes, as a stream delivers it. */
function decodeStreamed(input: Uint8Array, step: number, bounds: PayloadBounds): Uint8Array {
  const d = new SszSnappyDecoder(bounds);
  for (let i = 0; i < input.length; i += step) {
    const piece = input.subarray(i, i + step);
    const used = d.push(piece);
    if (used < piece.length) throw new EncodingError("TRAILING_DATA", "trailing");
  }
  return d.finish();
}

function outcome(fn: () => Uint8Array): Uint8Array | string {
  try {
    return fn();
  } catch (e) {
    expectOnly("ssz_snappy decode", e, EncodingError);
    return (e as EncodingError).code;
  }
}

/**
 * [selector][encoded] seeds decoded, the payload mutated, and encoded again: the payload's own checks get inputs
 * that pass the codec's.
 */
/** [byte][bytes] without spreading (large inputs) */
function prefixed(byte: number, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out[0] = byte;
  out.set(bytes, 1);
  return out;
}

function reencoded(seeds: Uint8Array[], decode: (b: Uint8Array) => Uint8Array, encode: (b: Uint8Array) => Uint8Array): fc.Arbitrary<Uint8Array> {
  const raw = seeds.flatMap((s) => {
    try {
      return [prefixed(s[0] ?? 0, decode(s.subarray(1)))];
    } catch {
      return [];
    }
  });
  return mutatedBytes(raw).map((r) => prefixed(r[0] ?? 0, encode(r.subarray(1))));
}

const sszSnappy: FuzzTarget = {
  name: "ssz-snappy",
  description: "ssz_snappy payload (req/resp): EncodingError only, within bounds, same result whole or streamed byte-split",
  seeds: () => sszSamples().map((b) => Uint8Array.of(1, ...encodeSszSnappy(b))),
  arbitrary: (seeds) => fc.oneof(mutatedBytes(seeds), reencoded(seeds, (b) => decodeSszSnappy(b, ANY), encodeSszSnappy)),
  run(input) {
    // byte 0 picks the piece size of the streamed decode; the payload bound is a small type's, to hit size checks
    const step = (input[0] ?? 0) % 9 === 0 ? 4096 : (input[0]! % 9) * 3 - 2;
    const bytes = input.subarray(1);
    const bounds = (input[0] ?? 0) & 0x80 ? { minSize: 84, maxSize: 84 } : ANY;
    const whole = outcome(() => decodeSszSnappy(bytes, bounds));
    const streamed = outcome(() => decodeStreamed(bytes, step, bounds));
    const same = typeof whole === "string" ? whole === streamed : typeof streamed !== "string" && bytesEqual(whole, streamed);
    // a trailing-data split may surface as TRUNCATED/TRAILING_DATA in either order: only acceptance must agree
    if (!same && (typeof whole !== "string" || typeof streamed !== "string")) {
      throw new FuzzFinding(`whole decode gives ${typeof whole === "string" ? whole : `${whole.length} bytes`}, streamed (step ${step}) ${typeof streamed === "string" ? streamed : `${streamed.length} bytes`}`);
    }
    if (typeof whole === "string") return "rejected";
    if (whole.length < bounds.minSize || whole.length > bounds.maxSize) throw new FuzzFinding(`decoded ${whole.length} bytes outside bounds`);
    if (!bytesEqual(decodeSszSnappy(encodeSszSnappy(whole), bounds), whole)) throw new FuzzFinding("ssz_snappy round trip changed the bytes");
    return "accepted";
  },
};

// ------------------------------------------------------------------------------------------------ req/resp streams

/** The part of a libp2p Stream that StreamReader uses, fed from memory. */
class MemoryStream extends EventTarget {
  readStatus: "readable" | "paused" = "readable";
  readableEnded = false;
  pause(): void {
    this.readStatus = "paused";
  }
  resume(): void {
    this.readStatus = "readable";
  }
  deliver(bytes: Uint8Array, step: number): void {
    for (let i = 0; i < bytes.length; i += step) {
      const evt = new Event("message") as Event & { data: Uint8Array };
      evt.data = bytes.subarray(i, i + step);
      this.dispatchEvent(evt);
    }
    this.dispatchEvent(new Event("end"));
  }
}

const ERROR_BOUNDS: PayloadBounds = { minSize: 0, maxSize: 256 };

/**
 * The requester's loop over response chunks (ReqResp.readResponse, without the timers): result code, then an
 * error message or a payload, up to `maxChunks`. Decode failures become ReqRespError as ReqResp maps them.
 */
async function readResponseChunks(reader: StreamReader, decode: (b: Uint8Array) => unknown, bounds: PayloadBounds, maxChunks: number): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < maxChunks; i++) {
    const code = await reader.readByte();
    if (code === null) break;
    if (code !== RespCode.success) {
      const message = new TextDecoder().decode(await reader.readPayload(ERROR_BOUNDS));
      throw new ReqRespError(faultOfRespCode(code, message), `code ${code}: ${message}`, undefined, code);
    }
    const bytes = await reader.readPayload(bounds);
    try {
      out.push(decode(bytes));
    } catch (e) {
      if (!isPlainRejection(e)) throw unexpected("response SSZ", e);
      throw new ReqRespError("INVALID_RESPONSE", `invalid SSZ: ${(e as Error).message}`);
    }
  }
  return out;
}

const reqrespResponse: FuzzTarget = {
  name: "reqresp-response",
  description: "req/resp response stream (result codes, chunk headers, by_range blocks): EncodingError/ReqRespError only",
  seeds: () => {
    const t = types();
    const blocks = sszSamples().slice(0, 1);
    const block = blocks[0] && blocks[0].length > 1000 ? blocks[0] : t.SignedBeaconBlock.serialize(t.SignedBeaconBlock.defaultValue());
    const chunk = (code: number, body: Uint8Array) => Uint8Array.of(code, ...encodeSszSnappy(body));
    const err = chunk(RespCode.resourceUnavailable, new TextEncoder().encode("no blocks"));
    return [Uint8Array.of(3, ...chunk(0, block), ...chunk(0, block)), Uint8Array.of(1, ...chunk(0, block), ...err)];
  },
  async run(input) {
    const t = types();
    const step = ((input[0] ?? 1) % 16) + 1;
    const stream = new MemoryStream();
    const reader = new StreamReader(stream as never);
    stream.deliver(input.subarray(1), step);
    try {
      await readResponseChunks(reader, (b) => t.SignedBeaconBlock.deserialize(b), boundsOf(t.SignedBeaconBlock), 4);
      return "accepted";
    } catch (e) {
      expectOnly("response stream", e, EncodingError, ReqRespError);
      return "rejected";
    } finally {
      reader.detach();
    }
  },
};

/** Requests as the responder reads them: one payload to the end of the stream, then the request type's SSZ. */
const reqrespRequest: FuzzTarget = {
  name: "reqresp-request",
  description: "req/resp request stream (Status, Goodbye, Ping, by_range, by_root): EncodingError or SSZ rejection only",
  seeds: () => {
    const t = types();
    const roots = Array.from({ length: 3 }, (_, i) => new Uint8Array(32).fill(i));
    return [
      Uint8Array.of(0, ...encodeSszSnappy(t.Status.serialize(t.Status.defaultValue()))),
      Uint8Array.of(3, ...encodeSszSnappy(t.BeaconBlocksByRangeRequest.serialize({ startSlot: 5, count: 64, step: 1 }))),
      Uint8Array.of(4, ...encodeSszSnappy(t.BeaconBlocksByRootRequest.serialize(roots))),
    ];
  },
  async run(input) {
    const t = types();
    const reqTypes = [t.Status, t.Goodbye, t.Ping, t.BeaconBlocksByRangeRequest, t.BeaconBlocksByRootRequest] as const;
    const type = reqTypes[(input[0] ?? 0) % reqTypes.length]! as { minSize: number; maxSize: number; deserialize(b: Uint8Array): unknown };
    const stream = new MemoryStream();
    const reader = new StreamReader(stream as never);
    stream.deliver(input.subarray(1), (((input[0] ?? 0) >> 3) % 8) + 1);
    try {
      const bytes = await reader.readPayloadToEnd(boundsOf(type));
      if (bytes.length > type.maxSize) throw new FuzzFinding(`request payload of ${bytes.length} bytes > max ${type.maxSize}`);
      try {
        type.deserialize(bytes);
        return "accepted";
      } catch (e) {
        if (!isPlainRejection(e)) throw unexpected("request SSZ", e);
        return "bad SSZ";
      }
    } catch (e) {
      expectOnly("request stream", e, EncodingError, FuzzFinding);
      if (e instanceof FuzzFinding) throw e;
      return "rejected";
    } finally {
      reader.detach();
    }
  },
};

// ------------------------------------------------------------------------------------------------ gossip

const gossip: FuzzTarget = {
  name: "gossip",
  description: "gossip message data: GossipDecodeError only, message id always computable, then the topic's SSZ",
  seeds: () => sszSamples().map((b, i) => Uint8Array.of(i, ...encodeGossipPayload(b))),
  arbitrary: (seeds) =>
    fc.oneof(
      { weight: 2, arbitrary: mutatedBytes(seeds) },
      // the SSZ inside mutated and compressed again: reaches the topic decoders, not only the snappy checks
      { weight: 2, arbitrary: reencoded(seeds, (b) => decodeGossipPayload(b), compressBlock) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
    ),
  run(input) {
    const t = types();
    const topicTypes = [t.SignedBeaconBlock, t.SignedAggregateAndProof, t.Attestation, t.SignedVoluntaryExit, t.ProposerSlashing, t.AttesterSlashing];
    const type = topicTypes[(input[0] ?? 0) % topicTypes.length]! as { deserialize(b: Uint8Array): unknown };
    // a fresh copy: the id cache is keyed by the data object, as gossipsub hands each message its own
    const data = input.slice(1);
    let id: Uint8Array;
    try {
      id = computeMessageId(data);
    } catch (e) {
      throw unexpected("computeMessageId", e);
    }
    if (id.length !== 20) throw new FuzzFinding(`message id of ${id.length} bytes`);
    let ssz: Uint8Array;
    try {
      ssz = decodeGossipPayload(data);
    } catch (e) {
      expectOnly("decodeGossipPayload", e, GossipDecodeError);
      return "bad snappy";
    }
    if (ssz.length > GOSSIP_MAX_SIZE) throw new FuzzFinding(`gossip payload decoded to ${ssz.length} bytes > GOSSIP_MAX_SIZE`);
    try {
      type.deserialize(ssz);
      return "accepted";
    } catch (e) {
      if (!isPlainRejection(e)) throw unexpected("gossip SSZ", e);
      return "bad SSZ";
    }
  },
};

export const networkTargets: FuzzTarget[] = [snappyBlock, sszSnappy, reqrespResponse, reqrespRequest, gossip];
