// JSON conventions of the Beacon API (uint64 as decimal strings, bytes as 0x-hex, results wrapped in `{data}`):
// the shared readers of src/api/json.ts, plus the few shape checks the client needs around them. SSZ containers
// are read with fromJsonStrict (bad hex or numbers are errors, not zeros) and written with `type.toJson`, whose
// uint64 fields already come out as decimal strings.
import { describe, fromHex, JsonInputError, parseUint64, toHex, u64 } from "../json.js";

export { fromJsonStrict, JsonInputError, UINT64_MAX_STRING } from "../json.js";

export const bytesToHex = toHex;

/** 0x-hex (the prefix is required) to bytes; `length` checks the byte length when given. */
export function hexToBytes(value: unknown, field: string, length?: number): Uint8Array {
  return fromHex(value as string, length, field);
}

/** A uint64 as the API sends it (a decimal string; a JSON number is accepted too); 2^64-1 becomes Infinity. */
export function parseUint(value: unknown, field: string): number {
  return parseUint64(value, field, { allowMax: true });
}

export function uintToJson(n: number): string {
  return u64(n);
}

export function parseBool(value: unknown, field: string): boolean {
  if (typeof value === "boolean") return value;
  throw new JsonInputError(`${field}: expected a boolean, got ${describe(value)}`);
}

export function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new JsonInputError(`${field}: expected an object, got ${describe(value)}`);
}

export function asArray(value: unknown, field: string): unknown[] {
  if (Array.isArray(value)) return value;
  throw new JsonInputError(`${field}: expected an array, got ${describe(value)}`);
}

export function asString(value: unknown, field: string): string {
  if (typeof value === "string") return value;
  throw new JsonInputError(`${field}: expected a string, got ${describe(value)}`);
}

/** A config value the way `/eth/v1/config/spec` serves it: decimal strings, 0x-hex bytes. */
export function configValueToJson(value: unknown): string {
  if (value instanceof Uint8Array) return toHex(value);
  if (typeof value === "number") return u64(value);
  return String(value);
}
