// JSON in the Beacon API's conventions: uint64 as decimal strings (2^64-1 for FAR_FUTURE_EPOCH), bytes as 0x-hex.
// fromJsonStrict reads a request body into an SSZ value and rejects what @chainsafe/ssz's own fromJson lets
// through (bad hex digits read as zero, "12abc" read as 12, negative numbers): bad input names the field at fault.
import {
  BitListType,
  BitVectorType,
  BooleanType,
  ByteListType,
  ByteVectorType,
  ContainerType,
  ListBasicType,
  ListCompositeType,
  UintBigintType,
  UintNumberType,
  VectorBasicType,
  VectorCompositeType,
  type Type,
} from "@chainsafe/ssz";
import { fromHex as decodeHex, toHex } from "../util/bytes.js";

export { toHex };

/** 2^64 - 1: FAR_FUTURE_EPOCH and every other uint64 that Cairn holds as Infinity. */
export const UINT64_MAX_STRING = "18446744073709551615";

/** A bad value in a JSON document or request parameter; the message names where. */
export class JsonInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JsonInputError";
  }
}

/** A uint64 as the API writes it. */
export function u64(n: number | bigint): string {
  if (typeof n === "bigint") return n.toString(10);
  if (n === Infinity || n >= 2 ** 64) return UINT64_MAX_STRING;
  return Math.floor(n).toString(10);
}

const HEX_RE = /^0x(?:[0-9a-fA-F]{2})*$/;

/** 0x-hex to bytes, validated (bad input names `what`); `length` (if given) is the exact byte length. */
export function fromHex(hex: string, length?: number, what = "value"): Uint8Array {
  if (typeof hex !== "string" || !HEX_RE.test(hex)) throw new JsonInputError(`${what}: expected 0x-prefixed hex, got ${describe(hex)}`);
  const bytes = decodeHex(hex);
  if (length !== undefined && bytes.length !== length) {
    throw new JsonInputError(`${what}: expected ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

const UINT_RE = /^[0-9]+$/;

/** A decimal uint64 string (or a non-negative integer number) as a JS number; 2^64-1 reads as Infinity if allowed. */
export function parseUint64(value: unknown, what = "value", opts: { allowMax?: boolean } = {}): number {
  if (typeof value === "number") {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new JsonInputError(`${what}: expected a non-negative integer, got ${describe(value)}`);
  }
  if (typeof value !== "string" || !UINT_RE.test(value)) {
    throw new JsonInputError(`${what}: expected a decimal integer string, got ${describe(value)}`);
  }
  if (opts.allowMax && value === UINT64_MAX_STRING) return Infinity;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new JsonInputError(`${what}: ${value} is too large`);
  return n;
}

/** A short printable rendering of a bad value for error messages. */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = String(value);
  }
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/**
 * The SSZ value of `type` that `json` (Beacon API JSON) describes, checked strictly: every field present, every
 * number a decimal string within range, every byte string valid hex of the right length, lists within their
 * limits. Keys the type does not have are ignored. `path` prefixes error messages (e.g. "body[2]").
 */
export function fromJsonStrict<T>(type: Type<T>, json: unknown, path = "body"): T {
  return readJson(type as Type<unknown>, json, path) as T;
}

function readJson(type: Type<unknown>, json: unknown, path: string): unknown {
  if (type instanceof UintNumberType) {
    // clipInfinity (slots, epochs) is private in the library's typings; FAR_FUTURE_EPOCH round-trips only there
    const clipInfinity = (type as unknown as { clipInfinity?: boolean }).clipInfinity === true;
    const n = parseUint64(json, path, { allowMax: clipInfinity });
    if (n !== Infinity && type.byteLength < 8 && n >= 2 ** (8 * type.byteLength)) {
      throw new JsonInputError(`${path}: ${n} does not fit in ${type.byteLength} bytes`);
    }
    return n;
  }
  if (type instanceof UintBigintType) {
    if (typeof json !== "string" || !UINT_RE.test(json)) throw new JsonInputError(`${path}: expected a decimal integer string, got ${describe(json)}`);
    const n = BigInt(json);
    if (n >= 1n << BigInt(8 * type.byteLength)) throw new JsonInputError(`${path}: ${json} does not fit in ${type.byteLength} bytes`);
    return n;
  }
  if (type instanceof BooleanType) {
    if (typeof json !== "boolean") throw new JsonInputError(`${path}: expected true or false, got ${describe(json)}`);
    return json;
  }
  if (type instanceof ByteVectorType) return fromHex(json as string, type.lengthBytes, path);
  if (type instanceof ByteListType) {
    const bytes = fromHex(json as string, undefined, path);
    if (bytes.length > type.limitBytes) throw new JsonInputError(`${path}: ${bytes.length} bytes exceed the limit of ${type.limitBytes}`);
    return bytes;
  }
  if (type instanceof BitListType || type instanceof BitVectorType) {
    const bytes = fromHex(json as string, undefined, path);
    try {
      return type.deserialize(bytes);
    } catch (e) {
      throw new JsonInputError(`${path}: invalid bitfield (${(e as Error).message})`);
    }
  }
  if (type instanceof ContainerType) {
    if (typeof json !== "object" || json === null || Array.isArray(json)) {
      throw new JsonInputError(`${path}: expected an object, got ${describe(json)}`);
    }
    const obj = json as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const { fieldName, fieldType, jsonKey } of type.fieldsEntries) {
      const fieldPath = `${path}.${jsonKey}`;
      if (!(jsonKey in obj) || obj[jsonKey] === undefined) throw new JsonInputError(`${fieldPath}: missing`);
      out[fieldName as string] = readJson(fieldType as Type<unknown>, obj[jsonKey], fieldPath);
    }
    return out;
  }
  if (type instanceof ListBasicType || type instanceof ListCompositeType) {
    const items = expectArray(json, path);
    if (items.length > type.limit) throw new JsonInputError(`${path}: ${items.length} items exceed the limit of ${type.limit}`);
    return items.map((item, i) => readJson(type.elementType as Type<unknown>, item, `${path}[${i}]`));
  }
  if (type instanceof VectorBasicType || type instanceof VectorCompositeType) {
    const items = expectArray(json, path);
    if (items.length !== type.length) throw new JsonInputError(`${path}: expected ${type.length} items, got ${items.length}`);
    return items.map((item, i) => readJson(type.elementType as Type<unknown>, item, `${path}[${i}]`));
  }
  // a type the phase 0 containers do not use: the library's own reader, with its error attributed
  try {
    return type.fromJson(json);
  } catch (e) {
    throw new JsonInputError(`${path}: ${(e as Error).message}`);
  }
}

function expectArray(json: unknown, path: string): unknown[] {
  if (!Array.isArray(json)) throw new JsonInputError(`${path}: expected an array, got ${describe(json)}`);
  return json;
}
