// Gossip payloads and message ids.
//
// Payload: the SSZ bytes compressed as ONE raw snappy block (no framing, unlike req/resp). The uncompressed length a
// block declares in its header is checked against GOSSIP_MAX_SIZE before anything is decompressed.
//
// Message id: this follows the spec as of v1.0 (what every launched client speaks), NOT v0.12.3 (which hashed the
// raw data with no domain):
//   data decompresses:  SHA-256(MESSAGE_DOMAIN_VALID_SNAPPY   ‖ uncompressed)[:20]
//   otherwise:          SHA-256(MESSAGE_DOMAIN_INVALID_SNAPPY ‖ raw data)[:20]
// A block declaring more than GOSSIP_MAX_SIZE is never decompressed, so it gets the invalid-snappy id.
import { digest } from "@chainsafe/as-sha256";
import type { Message } from "@libp2p/gossipsub";
import { compressBlock, maxCompressedLength, uncompressBlock } from "../encoding/snappyBlock.js";
import { GOSSIP_MAX_SIZE, MESSAGE_DOMAIN_INVALID_SNAPPY, MESSAGE_DOMAIN_VALID_SNAPPY } from "../../params/index.js";

export const MESSAGE_ID_LENGTH = 20;

/** A payload that cannot be decoded: the validator REJECTs it. */
export class GossipDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GossipDecodeError";
  }
}

/** SSZ bytes -> gossip data. */
export function encodeGossipPayload(ssz: Uint8Array): Uint8Array {
  if (ssz.length > GOSSIP_MAX_SIZE) throw new GossipDecodeError(`message of ${ssz.length} bytes exceeds GOSSIP_MAX_SIZE ${GOSSIP_MAX_SIZE}`);
  const data = compressBlock(ssz);
  decoded.set(data, ssz); // publishing computes the id of what it sends: no need to decompress it again
  return data;
}

/** Gossip data -> SSZ bytes; throws a GossipDecodeError (bad snappy, or too large before or after decompression). */
export function decodeGossipPayload(data: Uint8Array): Uint8Array {
  if (data.length > maxCompressedLength(GOSSIP_MAX_SIZE)) {
    throw new GossipDecodeError(`compressed message of ${data.length} bytes exceeds what GOSSIP_MAX_SIZE allows`);
  }
  try {
    return uncompressBlock(data, GOSSIP_MAX_SIZE);
  } catch (e) {
    throw new GossipDecodeError((e as Error).message);
  }
}

// The message id function decompresses every message anyway; the topic validator then receives the same `data`
// object, so it reuses the result instead of decompressing twice. Keyed weakly: entries go with the message.
const decoded = new WeakMap<Uint8Array, Uint8Array | GossipDecodeError>();

function decodeCached(data: Uint8Array): Uint8Array | GossipDecodeError {
  let r = decoded.get(data);
  if (r === undefined) {
    try {
      r = decodeGossipPayload(data);
    } catch (e) {
      r = e instanceof GossipDecodeError ? e : new GossipDecodeError(String(e));
    }
    decoded.set(data, r);
  }
  return r;
}

/** The decoded SSZ bytes of a received message's data (cached from the message id computation). */
export function decodeMessageData(data: Uint8Array): Uint8Array {
  const r = decodeCached(data);
  if (r instanceof GossipDecodeError) throw r;
  return r;
}

/** The v1.0 message id of gossip `data` (see the header). */
export function computeMessageId(data: Uint8Array): Uint8Array {
  const r = decodeCached(data);
  const valid = !(r instanceof GossipDecodeError);
  const body = valid ? r : data;
  const input = new Uint8Array(4 + body.length);
  input.set(valid ? MESSAGE_DOMAIN_VALID_SNAPPY : MESSAGE_DOMAIN_INVALID_SNAPPY, 0);
  input.set(body, 4);
  return digest(input).subarray(0, MESSAGE_ID_LENGTH);
}

/** gossipsub `msgIdFn`. */
export function gossipMsgIdFn(msg: Message): Uint8Array {
  return computeMessageId(msg.data);
}

/**
 * gossipsub `fastMsgIdFn`: drops exact re-deliveries before the real id is computed, without decompressing. Must
 * not collide between different messages (a collision drops the second as a duplicate): 128 bits of a hash of
 * the raw data plus its length.
 */
export function gossipFastMsgIdFn(msg: { data?: Uint8Array | null }): string {
  const data = msg.data ?? new Uint8Array(0);
  return `${Buffer.from(digest(data).subarray(0, 16)).toString("base64")}${data.length}`;
}
