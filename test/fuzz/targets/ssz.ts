// SSZ decoding of every phase 0 type (minimal preset limits): bad bytes are rejected with an Error (never a
// TypeError, never an allocation failure), and bytes that decode are canonical: they re-serialize to themselves,
// and the value and tree decoders agree on acceptance and on the hash_tree_root.
import { getNamedConfig } from "../../../src/config/index.js";
import { bytesEqual, toHex } from "../../../src/util/bytes.js";
import { FuzzFinding, isPlainRejection, unexpected, type FuzzTarget } from "../engine.js";
import { readIf, vectorCases } from "./specVectors.js";

interface AnySszType {
  deserialize(b: Uint8Array): unknown;
  serialize(v: unknown): Uint8Array;
  hashTreeRoot(v: unknown): Uint8Array;
  defaultValue(): unknown;
  toJson(v: unknown): unknown;
  deserializeToViewDU?(b: Uint8Array): { hashTreeRoot(): Uint8Array };
}

function sszTypes(): [string, AnySszType][] {
  return Object.entries(getNamedConfig("minimal").types as unknown as Record<string, AnySszType>);
}

/** A decimal uint64 string at or above 2^53 anywhere in a value's JSON. */
export function hasUnsafeUint(json: unknown): boolean {
  if (typeof json === "string") return /^\d{16,}$/.test(json) && BigInt(json) >= 2n ** 53n;
  if (Array.isArray(json)) return json.some(hasUnsafeUint);
  if (json !== null && typeof json === "object") return Object.values(json).some(hasUnsafeUint);
  return false;
}

function clampNumbers(v: unknown): unknown {
  if (typeof v === "number") return v === Infinity ? v : v % 2 ** 32;
  if (Array.isArray(v)) return v.map(clampNumbers);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clampNumbers(x)]));
  }
  return v;
}

function decodeOrReject<T>(what: string, fn: () => T): T | null {
  try {
    return fn();
  } catch (e) {
    if (isPlainRejection(e)) return null;
    throw unexpected(what, e);
  }
}

function sszTarget(name: string, type: AnySszType): FuzzTarget {
  return {
    name: `ssz-${name}`,
    description: `SSZ ${name}: rejection is an Error, accepted bytes round-trip, value and tree decoders agree`,
    seeds: () => {
      const out = [type.serialize(type.defaultValue())];
      // two random cases of the spec's ssz_static vectors, when unpacked
      for (const c of vectorCases("ssz_static", name, "ssz_random").slice(0, 2)) {
        const b = readIf(`${c}/serialized.ssz`);
        if (b) out.push(b);
      }
      // the random values are mostly above 2^53, which the round-trip check sets apart: the same seeds with
      // their numbers brought below 2^32, so that mutations of them get the full check
      for (const b of [...out]) {
        try {
          out.push(type.serialize(clampNumbers(type.deserialize(b))));
        } catch {
          // a seed that does not decode stays as it is
        }
      }
      return out;
    },
    run(input) {
      const value = decodeOrReject("deserialize", () => type.deserialize(input));
      const view = type.deserializeToViewDU ? decodeOrReject("deserializeToViewDU", () => type.deserializeToViewDU!(input)) : undefined;
      if (view !== undefined && (value === null) !== (view === null)) {
        throw new FuzzFinding(`deserialize ${value === null ? "rejects" : "accepts"} what deserializeToViewDU ${view === null ? "rejects" : "accepts"}`);
      }
      if (value === null) return "rejected";
      const again = type.serialize(value);
      // uint64 fields held as JS numbers lose precision above 2^53 (by design, as in Lodestar): such a value does
      // not round-trip and is left out; every other difference is a finding
      if (!bytesEqual(again, input) && hasUnsafeUint(type.toJson(value))) return "uint64 >= 2^53";
      if (!bytesEqual(again, input)) throw new FuzzFinding(`accepted non-canonical bytes: ${input.length} in, ${again.length} out (${toHex(again.subarray(0, 32))}...)`);
      if (view) {
        const r1 = type.hashTreeRoot(value);
        const r2 = view.hashTreeRoot();
        if (!bytesEqual(r1, r2)) throw new FuzzFinding(`value root ${toHex(r1)} != tree root ${toHex(r2)}`);
      }
      return "accepted";
    },
  };
}

export function sszTargets(): FuzzTarget[] {
  return sszTypes().map(([name, type]) => sszTarget(name, type));
}
