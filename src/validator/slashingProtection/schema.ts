// Key and value layout of the slashing protection store (its own LevelDB, <datadir>/slashing-protection/).
//
//   0x00 <name>                       meta: "version" (1 byte), "genesisValidatorsRoot" (32 bytes)
//   0x01 <pubkey>                     a validator the store knows (empty value); lists them for export
//   0x02 <pubkey> <slot>              signed block: signing root (32 bytes), or empty when unknown
//   0x03 <pubkey> <target>            signed attestation: source (8 bytes) + signing root (32), root absent if unknown
//   0x04 <pubkey> <source>            "surrounded" index: target (8 bytes)  -- see slashingProtection.ts
//   0x05 <pubkey> <source>            "surrounding" index: target (8 bytes)
//   0x06 <pubkey>                     low watermarks left by imports (JSON)
// Numbers are big-endian uint64, so LevelDB's key order is numeric order.

export const STORE_VERSION = 1;
export const PUBKEY_LENGTH = 48;
export const ROOT_LENGTH = 32;

export const Prefix = {
  meta: 0x00,
  validator: 0x01,
  block: 0x02,
  attestation: 0x03,
  surroundedIndex: 0x04,
  surroundingIndex: 0x05,
  watermark: 0x06,
} as const;
export type Prefix = (typeof Prefix)[keyof typeof Prefix];

export function metaKey(name: "version" | "genesisValidatorsRoot"): Uint8Array {
  return Uint8Array.from([Prefix.meta, ...Buffer.from(name, "ascii")]);
}

/** <prefix><pubkey>: the key of per-validator singletons, and the range prefix of per-validator tables. */
export function validatorKey(prefix: Prefix, pubkey: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + PUBKEY_LENGTH);
  key[0] = prefix;
  key.set(pubkey, 1);
  return key;
}

/** <prefix><pubkey><n as uint64 BE> */
export function numberKey(prefix: Prefix, pubkey: Uint8Array, n: number): Uint8Array {
  const key = new Uint8Array(1 + PUBKEY_LENGTH + 8);
  key[0] = prefix;
  key.set(pubkey, 1);
  writeUint64(key, 1 + PUBKEY_LENGTH, n);
  return key;
}

/** The number at the end of a numberKey. */
export function keyNumber(key: Uint8Array): number {
  return readUint64(key, 1 + PUBKEY_LENGTH);
}

export function writeUint64(buf: Uint8Array, offset: number, n: number): void {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  view.setUint32(offset, Math.floor(n / 2 ** 32));
  view.setUint32(offset + 4, n >>> 0);
}

export function readUint64(buf: Uint8Array, offset: number): number {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return view.getUint32(offset) * 2 ** 32 + view.getUint32(offset + 4);
}

export function encodeUint64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  writeUint64(b, 0, n);
  return b;
}

/** Signed attestation value: source epoch, then the signing root when known. */
export function encodeAttestation(sourceEpoch: number, signingRoot: Uint8Array | null): Uint8Array {
  const v = new Uint8Array(8 + (signingRoot ? ROOT_LENGTH : 0));
  writeUint64(v, 0, sourceEpoch);
  if (signingRoot) v.set(signingRoot, 8);
  return v;
}

export function decodeAttestation(v: Uint8Array): { sourceEpoch: number; signingRoot: Uint8Array | null } {
  if (v.length !== 8 && v.length !== 8 + ROOT_LENGTH) throw new Error(`corrupt attestation record (${v.length} bytes)`);
  return { sourceEpoch: readUint64(v, 0), signingRoot: v.length === 8 ? null : v.slice(8) };
}

export function decodeBlockRoot(v: Uint8Array): Uint8Array | null {
  if (v.length !== 0 && v.length !== ROOT_LENGTH) throw new Error(`corrupt block record (${v.length} bytes)`);
  return v.length === 0 ? null : v;
}

export interface Watermarks {
  /** Blocks at or below this slot are refused. */
  blockSlot?: number;
  /** Attestations with a source below this epoch are refused. */
  sourceEpoch?: number;
  /** Attestations with a target at or below this epoch are refused. */
  targetEpoch?: number;
}

export function encodeWatermarks(w: Watermarks): Uint8Array {
  return Buffer.from(JSON.stringify(w), "utf8");
}

export function decodeWatermarks(v: Uint8Array | undefined): Watermarks {
  if (v === undefined) return {};
  const w = JSON.parse(Buffer.from(v).toString("utf8")) as Watermarks;
  for (const k of ["blockSlot", "sourceEpoch", "targetEpoch"] as const) {
    if (w[k] !== undefined && !Number.isSafeInteger(w[k])) throw new Error(`corrupt watermark record (${k})`);
  }
  return w;
}
