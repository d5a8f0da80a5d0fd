// EIP-3076 slashing protection interchange format, version 5: parsing with full validation, and the JSON shape.
// https://eips.ethereum.org/EIPS/eip-3076
import { fromHex, toHex } from "../../util/bytes.js";
import { SlashingProtectionError } from "./errors.js";

export const INTERCHANGE_FORMAT_VERSION = "5";

/** The JSON shape (EIP-3076 v5). Numbers are decimal strings, byte strings 0x-prefixed hex. */
export interface InterchangeJson {
  metadata: { interchange_format_version: string; genesis_validators_root: string };
  data: {
    pubkey: string;
    signed_blocks: { slot: string; signing_root?: string }[];
    signed_attestations: { source_epoch: string; target_epoch: string; signing_root?: string }[];
  }[];
}

/** A signing root of all zeros carries no information: like an absent one it means "unknown". */
export type SigningRoot = Uint8Array | null;

export interface InterchangeValidator {
  pubkey: Uint8Array;
  pubkeyHex: string;
  blocks: { slot: number; signingRoot: SigningRoot }[];
  attestations: { sourceEpoch: number; targetEpoch: number; signingRoot: SigningRoot }[];
}

export interface ParsedInterchange {
  genesisValidatorsRoot: Uint8Array;
  /** One entry per pubkey (entries of a pubkey listed more than once are concatenated), in file order. */
  validators: InterchangeValidator[];
  /** Counts as listed in the file. */
  counts: { validators: number; blocks: number; attestations: number };
}

function invalid(path: string, reason: string): SlashingProtectionError {
  return new SlashingProtectionError("INVALID_INTERCHANGE", `invalid interchange: ${path}: ${reason}`);
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "object" ? "an object" : String(v);
}

function asObject(v: unknown, path: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw invalid(path, `expected an object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

function asArray(v: unknown, path: string): unknown[] {
  if (!Array.isArray(v)) throw invalid(path, `expected an array, got ${v === undefined ? "nothing" : describe(v)}`);
  return v;
}

export function parseHex(v: unknown, bytes: number, path: string): Uint8Array {
  if (typeof v !== "string" || !/^0x[0-9a-fA-F]*$/.test(v)) throw invalid(path, `expected 0x-prefixed hex, got ${v === undefined ? "nothing" : describe(v)}`);
  if (v.length !== 2 + 2 * bytes) throw invalid(path, `expected ${bytes} bytes of hex, got ${(v.length - 2) / 2}`);
  return fromHex(v);
}

/** A uint64 as a decimal string; Cairn keeps slots and epochs as numbers, so values above 2^53-1 are refused. */
export function parseUint(v: unknown, path: string): number {
  if (typeof v !== "string" || !/^[0-9]{1,20}$/.test(v)) throw invalid(path, `expected a decimal string, got ${v === undefined ? "nothing" : describe(v)}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) {
    throw invalid(path, BigInt(v) >= 2n ** 64n ? `${v} does not fit in a uint64` : `${v} is above 2^53-1, which no phase 0 slot or epoch reaches`);
  }
  return n;
}

function optionalRoot(v: unknown, path: string): SigningRoot {
  if (v === undefined) return null;
  const root = parseHex(v, 32, path);
  return root.every((b) => b === 0) ? null : root;
}

/** Validates the whole interchange (a parsed JSON value or its text) or throws INVALID_INTERCHANGE saying where. */
export function parseInterchange(input: unknown): ParsedInterchange {
  let json = input;
  if (typeof input === "string") {
    try {
      json = JSON.parse(input);
    } catch (e) {
      throw new SlashingProtectionError("INVALID_INTERCHANGE", `invalid interchange: not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const top = asObject(json, "(top level)");
  const metadata = asObject(top["metadata"], "metadata");
  const version = metadata["interchange_format_version"];
  if (version !== INTERCHANGE_FORMAT_VERSION) {
    throw invalid("metadata.interchange_format_version", `expected "${INTERCHANGE_FORMAT_VERSION}", got ${version === undefined ? "nothing" : describe(version)}`);
  }
  const genesisValidatorsRoot = parseHex(metadata["genesis_validators_root"], 32, "metadata.genesis_validators_root");

  const byPubkey = new Map<string, InterchangeValidator>();
  const counts = { validators: 0, blocks: 0, attestations: 0 };
  asArray(top["data"], "data").forEach((entry, i) => {
    const p = `data[${i}]`;
    const o = asObject(entry, p);
    const pubkey = parseHex(o["pubkey"], 48, `${p}.pubkey`);
    const pubkeyHex = toHex(pubkey);
    let v = byPubkey.get(pubkeyHex);
    if (v === undefined) {
      v = { pubkey, pubkeyHex, blocks: [], attestations: [] };
      byPubkey.set(pubkeyHex, v);
    }
    for (const [j, b] of asArray(o["signed_blocks"], `${p}.signed_blocks`).entries()) {
      const bp = `${p}.signed_blocks[${j}]`;
      const bo = asObject(b, bp);
      v.blocks.push({ slot: parseUint(bo["slot"], `${bp}.slot`), signingRoot: optionalRoot(bo["signing_root"], `${bp}.signing_root`) });
    }
    for (const [j, a] of asArray(o["signed_attestations"], `${p}.signed_attestations`).entries()) {
      const ap = `${p}.signed_attestations[${j}]`;
      const ao = asObject(a, ap);
      v.attestations.push({
        sourceEpoch: parseUint(ao["source_epoch"], `${ap}.source_epoch`),
        targetEpoch: parseUint(ao["target_epoch"], `${ap}.target_epoch`),
        signingRoot: optionalRoot(ao["signing_root"], `${ap}.signing_root`),
      });
    }
  });
  const validators = [...byPubkey.values()];
  counts.validators = validators.length;
  for (const v of validators) {
    counts.blocks += v.blocks.length;
    counts.attestations += v.attestations.length;
  }
  return { genesisValidatorsRoot, validators, counts };
}
