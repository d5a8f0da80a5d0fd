// The on-disk layout of the beacon database: one LevelDB keyspace split into buckets by the key's first byte.
//
// Key encodings:
//   - block and state roots are the raw 32 bytes;
//   - slots are 8-byte big-endian unsigned integers, so LevelDB's lexicographic key order is numeric slot order
//     (a little-endian or decimal key would put slot 256 before slot 2, and 2^32 before 1).
//
// Value encodings:
//   - blocks are stored as a "blob": 1 format byte, a 4-byte big-endian CRC-32 of the payload, then the
//     raw SSZ bytes. The checksum turns a truncated or damaged value into a clear CORRUPT_VALUE error on read,
//     without deserializing a multi-megabyte state (a truncated SSZ list can still decode as a different, valid
//     value). The payload is returned as a zero-copy view.
//   - states are files beside LevelDB; their keys hold a pointer (format 0x02 ‖ CRC-32 ‖ length ‖ file name);
//   - index values (root -> slot) are the 8-byte big-endian slot;
//   - meta values have a fixed layout per key (see META below) and are length-checked on read.
//
// Any change to a bucket's key or value encoding must bump SCHEMA_VERSION.
import { crc32 as zlibCrc32 } from "node:zlib";
import type { Checkpoint } from "../types/index.js";
import { toHex } from "../util/bytes.js";
import { DbError, corruptMeta, corruptValue, invalidArgument } from "./errors.js";

/** Version of this layout; stored under the meta key `schemaVersion` when a database is created. */
export const SCHEMA_VERSION = 2;

/** One-byte key prefixes. A bucket never changes its byte: retire a byte instead of reusing it. */
export const Bucket = {
  /** 0x00 ‖ metaId(1) -> meta value (layout per key, see META). Schema version, network, checkpoints, head. */
  meta: 0x00,
  /** 0x01 ‖ blockRoot(32) -> blob(SignedBeaconBlock). Hot (unfinalized) blocks, any fork. */
  hotBlock: 0x01,
  /** 0x02 ‖ slot(8 BE) -> blob(SignedBeaconBlock). Finalized (cold) canonical blocks, one per non-empty slot. */
  finalizedBlock: 0x02,
  /** 0x03 ‖ blockRoot(32) -> slot(8 BE). Index from a finalized block's root to its slot in `finalizedBlock`. */
  finalizedBlockRoot: 0x03,
  /** 0x04 ‖ slot(8 BE) -> state pointer (stateFiles.ts) to the BeaconState's file. Finalized states, one every N epochs (the regen anchors). */
  coldState: 0x04,
  /** 0x05 ‖ slot(8 BE) ‖ root(32) -> state pointer to the BeaconState's file. Hot states persisted for fast restarts; slot first so the
   *  latest is one reverse seek and pruning is one range. The root is the caller's (state root or block root). */
  hotState: 0x05,
  /** 0x06 ‖ root(32) -> slot(8 BE). Index from a hot state's root to its slot in `hotState`. */
  hotStateRoot: 0x06,
  /** 0x07 ‖ blockRoot(32) -> blob(JSON of the fork-choice BlockSummary). Rebuilds fork choice on restart without
   * replaying blocks: the post-state checkpoints are not in the block itself. */
  blockSummary: 0x07,
  /** 0x08 -> blob(JSON of fork choice's latest messages). Saved every epoch so a restart keeps the votes. */
  forkChoiceVotes: 0x08,
  /** 0x09 ‖ depositIndex(8 BE) -> blob(eth1 block number (8 BE) ‖ DepositData SSZ). The deposit contract's logs, in
   *  index order, as far as the eth1 follower has followed (never past head - ETH1_FOLLOW_DISTANCE). */
  eth1Deposit: 0x09,
  /** 0x0a -> deposit contract address (20) ‖ last followed eth1 block number (8 BE). Written with the deposits of
   *  that block range in one batch, so a restart resumes from the block after it. */
  eth1Progress: 0x0a,
} as const;

export type BucketName = keyof typeof Bucket;

const bucketNames = new Map<number, BucketName>(Object.entries(Bucket).map(([k, v]) => [v, k as BucketName]));
export function bucketName(prefix: number): string {
  return bucketNames.get(prefix) ?? `bucket 0x${prefix.toString(16).padStart(2, "0")}`;
}

export const ROOT_LENGTH = 32;
export const SLOT_LENGTH = 8;

// ---------------------------------------------------------------------------------------------------------------
// Keys

const TWO_POW_32 = 2 ** 32;

function checkSlot(slot: number, what = "slot"): void {
  if (!Number.isSafeInteger(slot) || slot < 0) throw invalidArgument(`${what} must be an integer in [0, 2^53), got ${slot}`);
}

function checkRoot(root: Uint8Array, what = "root"): void {
  if (!(root instanceof Uint8Array) || root.length !== ROOT_LENGTH) {
    throw invalidArgument(`${what} must be ${ROOT_LENGTH} bytes, got ${root instanceof Uint8Array ? root.length : typeof root}`);
  }
}

/** Writes `value` (a safe non-negative integer) as 8 bytes big-endian at `offset`. */
export function writeUint64BE(out: Uint8Array, offset: number, value: number): void {
  checkSlot(value, "uint64");
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(offset, Math.floor(value / TWO_POW_32));
  dv.setUint32(offset + 4, value >>> 0);
}

/** Reads 8 bytes big-endian at `offset`; null when the value does not fit a safe integer (> 2^53 - 1). */
export function readUint64BE(bytes: Uint8Array, offset = 0): number | null {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hi = dv.getUint32(offset);
  if (hi > 0x1fffff) return null;
  return hi * TWO_POW_32 + dv.getUint32(offset + 4);
}

export function encodeSlot(slot: number): Uint8Array {
  const out = new Uint8Array(SLOT_LENGTH);
  writeUint64BE(out, 0, slot);
  return out;
}

export function slotKey(bucket: number, slot: number): Uint8Array {
  checkSlot(slot);
  const key = new Uint8Array(1 + SLOT_LENGTH);
  key[0] = bucket;
  writeUint64BE(key, 1, slot);
  return key;
}

export function rootKey(bucket: number, root: Uint8Array): Uint8Array {
  checkRoot(root);
  const key = new Uint8Array(1 + ROOT_LENGTH);
  key[0] = bucket;
  key.set(root, 1);
  return key;
}

/** hotState key: bucket ‖ slot ‖ root. */
export function hotStateKey(slot: number, root: Uint8Array): Uint8Array {
  checkSlot(slot);
  checkRoot(root);
  const key = new Uint8Array(1 + SLOT_LENGTH + ROOT_LENGTH);
  key[0] = Bucket.hotState;
  writeUint64BE(key, 1, slot);
  key.set(root, 1 + SLOT_LENGTH);
  return key;
}

export function parseHotStateKey(key: Uint8Array): { slot: number; root: Uint8Array } {
  if (key.length !== 1 + SLOT_LENGTH + ROOT_LENGTH || key[0] !== Bucket.hotState) {
    throw corruptValue("hotState", toHex(key), `unexpected key length ${key.length}`);
  }
  const slot = readUint64BE(key, 1);
  if (slot === null) throw corruptValue("hotState", toHex(key), "slot beyond 2^53");
  return { slot, root: key.slice(1 + SLOT_LENGTH) };
}

/** Slot of a bucket ‖ slot key. */
export function parseSlotKey(key: Uint8Array, bucket: number): number {
  const slot = key.length === 1 + SLOT_LENGTH && key[0] === bucket ? readUint64BE(key, 1) : null;
  if (slot === null) throw corruptValue(bucketName(bucket), toHex(key), "malformed slot key");
  return slot;
}

/** The smallest key after every key that starts with `prefix` (undefined when there is none: all 0xff). */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = Uint8Array.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Slot index values (root -> slot)

export function decodeSlotValue(value: Uint8Array, bucket: number, key: Uint8Array): number {
  if (value.length !== SLOT_LENGTH) {
    throw corruptValue(bucketName(bucket), toHex(key), `expected an 8-byte slot, got ${value.length} bytes`);
  }
  const slot = readUint64BE(value);
  if (slot === null) throw corruptValue(bucketName(bucket), toHex(key), "slot beyond 2^53");
  return slot;
}

// ---------------------------------------------------------------------------------------------------------------
// Blobs: format byte ‖ CRC-32 (BE) ‖ raw SSZ

/** Format byte of a blob: raw SSZ payload, CRC-32 (IEEE, as zlib) of the payload. */
export const BLOB_FORMAT_SSZ_CRC32 = 0x01;
export const BLOB_HEADER_LENGTH = 5;

export const crc32: (data: Uint8Array) => number =
  typeof zlibCrc32 === "function" ? (data) => zlibCrc32(data) : crc32Js; // node:zlib has crc32 from 20.15

let crcTable: Uint32Array | undefined;
function crc32Js(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = crcTable[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function encodeBlob(payload: Uint8Array): Uint8Array {
  if (!(payload instanceof Uint8Array)) throw invalidArgument("a stored value must be a Uint8Array");
  const out = new Uint8Array(BLOB_HEADER_LENGTH + payload.length);
  out[0] = BLOB_FORMAT_SSZ_CRC32;
  new DataView(out.buffer).setUint32(1, crc32(payload));
  out.set(payload, BLOB_HEADER_LENGTH);
  return out;
}

/** The payload of a blob (a view, no copy), or a CORRUPT_VALUE error. */
export function decodeBlob(value: Uint8Array, bucket: number, key: Uint8Array): Uint8Array {
  if (value.length < BLOB_HEADER_LENGTH) {
    throw corruptValue(bucketName(bucket), toHex(key), `value of ${value.length} bytes is shorter than its header`);
  }
  if (value[0] !== BLOB_FORMAT_SSZ_CRC32) {
    throw corruptValue(bucketName(bucket), toHex(key), `unknown value format 0x${value[0].toString(16).padStart(2, "0")}`);
  }
  const expected = new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(1);
  const payload = value.subarray(BLOB_HEADER_LENGTH);
  const actual = crc32(payload);
  if (actual !== expected) {
    throw corruptValue(
      bucketName(bucket),
      toHex(key),
      `checksum mismatch over ${payload.length} bytes (truncated or damaged value)`,
    );
  }
  return payload;
}

// ---------------------------------------------------------------------------------------------------------------
// Meta

/** A database's starting point: genesis, or the finalized checkpoint state it was started from. */
export interface Anchor {
  slot: number;
  blockRoot: Uint8Array;
  stateRoot: Uint8Array;
}

/**
 * How far a checkpoint-synced database's history reaches back: its oldest stored block's slot and the parent root
 * the next older block must have. Complete once that parent is the genesis block.
 */
export interface BackfillPosition {
  slot: number;
  parentRoot: Uint8Array;
  /** the genesis block's root when known (from a genesis state, or the anchor state's block_roots) */
  genesisBlockRoot: Uint8Array | null;
  complete: boolean;
}

/** Meta values the node reads and writes. */
export interface MetaValues {
  genesisTime: number;
  genesisValidatorsRoot: Uint8Array;
  finalizedCheckpoint: Checkpoint;
  justifiedCheckpoint: Checkpoint;
  headRoot: Uint8Array;
  anchor: Anchor;
  backfill: BackfillPosition;
}
export type MetaKey = keyof MetaValues;

/** Meta values written only by the store itself, when the database is created. */
export interface InternalMetaValues {
  schemaVersion: number;
  configName: string;
}

type AllMeta = MetaValues & InternalMetaValues;

interface MetaCodec<V> {
  /** Second key byte. Never reuse one. */
  id: number;
  encode(value: V): Uint8Array;
  /** Throws CORRUPT_META on a malformed value. */
  decode(bytes: Uint8Array): V;
}

function fixed(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) throw corruptMeta(name, `expected ${length} bytes, got ${bytes.length}`);
}

function uint64Codec(name: string, id: number): MetaCodec<number> {
  return {
    id,
    encode: (v) => encodeSlot(v),
    decode: (b) => {
      fixed(name, b, 8);
      const v = readUint64BE(b);
      if (v === null) throw corruptMeta(name, "value beyond 2^53");
      return v;
    },
  };
}

function rootCodec(name: string, id: number): MetaCodec<Uint8Array> {
  return {
    id,
    encode: (v) => {
      checkRoot(v, name);
      return Uint8Array.from(v);
    },
    decode: (b) => {
      fixed(name, b, ROOT_LENGTH);
      return Uint8Array.from(b);
    },
  };
}

/** Checkpoint: epoch (8 BE) ‖ root (32). */
function checkpointCodec(name: string, id: number): MetaCodec<Checkpoint> {
  return {
    id,
    encode: (v) => {
      checkRoot(v.root, `${name}.root`);
      const out = new Uint8Array(8 + ROOT_LENGTH);
      writeUint64BE(out, 0, v.epoch);
      out.set(v.root, 8);
      return out;
    },
    decode: (b) => {
      fixed(name, b, 8 + ROOT_LENGTH);
      const epoch = readUint64BE(b);
      if (epoch === null) throw corruptMeta(name, "epoch beyond 2^53");
      return { epoch, root: b.slice(8) };
    },
  };
}

const MAX_CONFIG_NAME_LENGTH = 256;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export const META: { [K in keyof AllMeta]: MetaCodec<AllMeta[K]> } = {
  /** uint32 BE. The one layout that must never change: every version reads it to refuse the others. */
  schemaVersion: {
    id: 0x01,
    encode: (v) => {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setUint32(0, v);
      return out;
    },
    decode: (b) => {
      fixed("schemaVersion", b, 4);
      return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);
    },
  },
  /** UTF-8 CONFIG_NAME of the network ("mainnet", "minimal", a testnet's name). */
  configName: {
    id: 0x02,
    encode: (v) => {
      const out = new TextEncoder().encode(v);
      if (out.length === 0 || out.length > MAX_CONFIG_NAME_LENGTH) throw invalidArgument(`config name "${v}" is empty or too long`);
      return out;
    },
    decode: (b) => {
      if (b.length === 0 || b.length > MAX_CONFIG_NAME_LENGTH) throw corruptMeta("configName", `length ${b.length}`);
      try {
        return utf8.decode(b);
      } catch {
        throw corruptMeta("configName", "not UTF-8");
      }
    },
  },
  /** uint64 BE, unix seconds. */
  genesisTime: uint64Codec("genesisTime", 0x03),
  /** 32 bytes. Checked on open against the node's, when the node passes one. */
  genesisValidatorsRoot: rootCodec("genesisValidatorsRoot", 0x04),
  /** epoch (8 BE) ‖ root (32). */
  finalizedCheckpoint: checkpointCodec("finalizedCheckpoint", 0x05),
  /** epoch (8 BE) ‖ root (32). */
  justifiedCheckpoint: checkpointCodec("justifiedCheckpoint", 0x06),
  /** 32 bytes: the head block root fork choice last chose. */
  headRoot: rootCodec("headRoot", 0x07),
  /** slot (8 BE) ‖ blockRoot (32) ‖ stateRoot (32). */
  anchor: {
    id: 0x08,
    encode: (v) => {
      checkRoot(v.blockRoot, "anchor.blockRoot");
      checkRoot(v.stateRoot, "anchor.stateRoot");
      const out = new Uint8Array(8 + 2 * ROOT_LENGTH);
      writeUint64BE(out, 0, v.slot);
      out.set(v.blockRoot, 8);
      out.set(v.stateRoot, 8 + ROOT_LENGTH);
      return out;
    },
    decode: (b) => {
      fixed("anchor", b, 8 + 2 * ROOT_LENGTH);
      const slot = readUint64BE(b);
      if (slot === null) throw corruptMeta("anchor", "slot beyond 2^53");
      return { slot, blockRoot: b.slice(8, 8 + ROOT_LENGTH), stateRoot: b.slice(8 + ROOT_LENGTH) };
    },
  },
  /** slot (8 BE) ‖ parentRoot (32) ‖ flags (1: bit 0 complete, bit 1 genesis root known) ‖ genesisBlockRoot (32). */
  backfill: {
    id: 0x09,
    encode: (v) => {
      checkRoot(v.parentRoot, "backfill.parentRoot");
      if (v.genesisBlockRoot) checkRoot(v.genesisBlockRoot, "backfill.genesisBlockRoot");
      const out = new Uint8Array(8 + ROOT_LENGTH + 1 + ROOT_LENGTH);
      writeUint64BE(out, 0, v.slot);
      out.set(v.parentRoot, 8);
      out[8 + ROOT_LENGTH] = (v.complete ? 1 : 0) | (v.genesisBlockRoot ? 2 : 0);
      if (v.genesisBlockRoot) out.set(v.genesisBlockRoot, 9 + ROOT_LENGTH);
      return out;
    },
    decode: (b) => {
      fixed("backfill", b, 8 + ROOT_LENGTH + 1 + ROOT_LENGTH);
      const slot = readUint64BE(b);
      if (slot === null) throw corruptMeta("backfill", "slot beyond 2^53");
      const flags = b[8 + ROOT_LENGTH];
      if (flags > 3) throw corruptMeta("backfill", `unknown flags ${flags}`);
      return {
        slot,
        parentRoot: b.slice(8, 8 + ROOT_LENGTH),
        complete: (flags & 1) !== 0,
        genesisBlockRoot: (flags & 2) !== 0 ? b.slice(9 + ROOT_LENGTH) : null,
      };
    },
  },
};

export function metaKey(key: keyof AllMeta): Uint8Array {
  const codec = META[key] as MetaCodec<unknown> | undefined;
  if (!codec) throw invalidArgument(`unknown meta key "${String(key)}"`);
  return Uint8Array.of(Bucket.meta, codec.id);
}

export function encodeMeta<K extends MetaKey>(key: K, value: MetaValues[K]): Uint8Array;
export function encodeMeta<K extends keyof InternalMetaValues>(key: K, value: InternalMetaValues[K]): Uint8Array;
export function encodeMeta(key: keyof AllMeta, value: unknown): Uint8Array {
  return (META[key] as MetaCodec<unknown>).encode(value);
}

/** Decodes a meta value; throws CORRUPT_META when malformed. */
export function decodeMeta<K extends MetaKey>(key: K, bytes: Uint8Array): MetaValues[K];
export function decodeMeta<K extends keyof InternalMetaValues>(key: K, bytes: Uint8Array): InternalMetaValues[K];
export function decodeMeta(key: keyof AllMeta, bytes: Uint8Array): unknown {
  return (META[key] as MetaCodec<unknown>).decode(bytes);
}

/** The operator-facing refusal for a database of another schema version. */
export function schemaVersionMismatch(path: string, found: number, expected: number): DbError {
  const advice =
    found > expected
      ? "it was written by a newer Cairn: run that version, or start with a fresh --datadir"
      : "start with a fresh --datadir or run a migration";
  return new DbError(
    { code: "SCHEMA_VERSION_MISMATCH", path, found, expected },
    `database schema version ${found}, this Cairn expects ${expected} (${path}): ${advice}`,
  );
}
