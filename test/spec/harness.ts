// Shared pieces of the spec-test runner: the case/runner interfaces, file readers and comparison helpers.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { BeaconConfig } from "../../src/config/index.js";
import { bytesEqual, fromHex as decodeHex, toHex } from "../../src/util/bytes.js";

/** One test case directory: tests/<preset>/phase0/<runner>/<handler>/<suite>/<case>. */
export interface SpecCase {
  /** Absolute path of the case directory. */
  dir: string;
  /** "<preset>/phase0/<runner>/<handler>/<suite>/<case>": the id used by --filter and the skip list. */
  id: string;
  preset: string;
  runner: string;
  handler: string;
  suite: string;
  name: string;
  /** The named config of the preset ("general" tests do not depend on one and get minimal). */
  config: BeaconConfig;
  has(file: string): boolean;
  bytes(file: string): Uint8Array;
  /** Parse a YAML file; integers come back as bigint so no uint64 is rounded. */
  yaml(file: string): unknown;
  /** meta.yaml, or {} when the case has none. */
  meta(): Record<string, unknown>;
}

/** The part of an ssz tree view (ViewDU) the runners use, whatever the type. */
export interface TreeViewLike {
  hashTreeRoot(): Uint8Array;
  serialize(): Uint8Array;
  toValue(): unknown;
}

export type CaseFn = (c: SpecCase) => void | Promise<void>;

export interface Runner {
  handlers: Record<string, CaseFn>;
  /** Extra lines for the report (e.g. how many cases a sub-check covered). */
  notes?(): string[];
}

export function createSpecCase(fields: Omit<SpecCase, "has" | "bytes" | "yaml" | "meta">): SpecCase {
  const { dir } = fields;
  const c: SpecCase = {
    ...fields,
    has: (file) => existsSync(join(dir, file)),
    bytes: (file) => new Uint8Array(readFileSync(join(dir, file))),
    yaml: (file) => parseYaml(readFileSync(join(dir, file), "utf8")),
    meta: () => (c.has("meta.yaml") ? ((c.yaml("meta.yaml") ?? {}) as Record<string, unknown>) : {}),
  };
  return c;
}

export function parseYaml(text: string): unknown {
  return parse(text, { intAsBigInt: true });
}

/** A YAML integer (bigint) as a JS number; throws if it is not exactly representable. */
export function toNum(x: unknown, what = "value"): number {
  if (typeof x === "bigint") {
    if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < 0n) throw new Error(`${what} ${x} is not a safe integer`);
    return Number(x);
  }
  if (typeof x === "number" && Number.isSafeInteger(x)) return x;
  throw new Error(`${what} is not an integer: ${String(x)}`);
}

export function fromHex(hex: unknown): Uint8Array {
  if (typeof hex !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(hex)) {
    throw new Error(`not a 0x hex string: ${String(hex)}`);
  }
  return decodeHex(hex);
}

export { bytesEqual, toHex };

export function assert(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export function assertBytesEqual(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (!bytesEqual(actual, expected)) {
    const show = (b: Uint8Array) => (b.length > 64 ? `${toHex(b.subarray(0, 32))}... (${b.length} bytes)` : toHex(b));
    throw new Error(`${what} mismatch: got ${show(actual)}, expected ${show(expected)}`);
  }
}

/** Expect fn to throw; returns what it threw, fails if it returned normally. */
export async function expectThrow(fn: () => unknown, what: string): Promise<unknown> {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  throw new Error(`expected ${what} to be rejected, but it succeeded`);
}

/**
 * Bring YAML-parsed data and ssz `toJson` output to one shape: integers (bigint or number) as decimal strings,
 * hex strings lower-cased. ssz prints uints as decimal strings; the YAML has them as integers.
 */
export function normalizeJson(x: unknown): unknown {
  if (typeof x === "bigint" || typeof x === "number") return x.toString(10);
  if (typeof x === "string") return /^0x[0-9a-fA-F]*$/.test(x) ? x.toLowerCase() : x;
  if (Array.isArray(x)) return x.map(normalizeJson);
  if (x !== null && typeof x === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) out[k] = normalizeJson(v);
    return out;
  }
  return x;
}

/** First difference between two normalized JSON values, as "path: got X, expected Y", or null if equal. */
export function diffJson(actual: unknown, expected: unknown, path = "$"): string | null {
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length) return `${path}: length ${actual.length}, expected ${expected.length}`;
    for (let i = 0; i < actual.length; i++) {
      const d = diffJson(actual[i], expected[i], `${path}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (isObject(actual) && isObject(expected)) {
    const keys = new Set([...Object.keys(actual), ...Object.keys(expected)]);
    for (const k of keys) {
      if (!(k in actual)) return `${path}.${k}: missing`;
      if (!(k in expected)) return `${path}.${k}: unexpected field`;
      const d = diffJson(actual[k], expected[k], `${path}.${k}`);
      if (d) return d;
    }
    return null;
  }
  if (actual === expected) return null;
  const show = (v: unknown) => {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 80 ? s.slice(0, 77) + "..." : s;
  };
  return `${path}: got ${show(actual)}, expected ${show(expected)}`;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === "object" && !Array.isArray(x);
}
