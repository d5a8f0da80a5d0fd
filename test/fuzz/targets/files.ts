// Files and bodies that users and API clients hand in: EIP-2335 keystores, EIP-3076 interchange files, chain
// config YAML and Beacon API request bodies. Each must reject bad input with its own error type (KeystoreError,
// SlashingProtectionError INVALID_INTERCHANGE, an Error naming the key, JsonInputError) and nothing else; accepted
// API bodies round-trip through toJson.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { JsonInputError, fromJsonStrict } from "../../../src/api/json.js";
import { getNamedConfig } from "../../../src/config/index.js";
import { chainConfigToYaml, parseChainConfigYaml } from "../../../src/config/load.js";
import { KeystoreError, parseKeystore } from "../../../src/validator/keystore/index.js";
import { parseInterchange } from "../../../src/validator/slashingProtection/interchange.js";
import { SlashingProtectionError } from "../../../src/validator/slashingProtection/errors.js";
import { bytesEqual, toHex } from "../../../src/util/bytes.js";
import { FUZZ_SRC_DIR, FuzzFinding, mutatedBytes, unexpected, type FuzzTarget } from "../engine.js";

const FIXTURES = join(FUZZ_SRC_DIR, "../fixtures");
const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

// ------------------------------------------------------------------------------------------------ JSON mutations

/** Values that break parsers of hex, uint64 and lists: edges of 2^53 and 2^64, odd hex, wrong types. */
const NASTY: unknown[] = [
  null, true, 0, -1, 1.5, 1e400, "", "0x", "0x0", "0xzz", "-1", "01", "9007199254740993", "18446744073709551615",
  "18446744073709551616", "1e3", " 1", [], {}, [[]], { __proto__: null }, "constructor", "__proto__",
];

type JsonPath = (string | number)[];

function paths(v: unknown, prefix: JsonPath = [], out: JsonPath[] = []): JsonPath[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function setAt(root: unknown, path: JsonPath, value: unknown, drop: boolean): unknown {
  if (path.length === 0) return value;
  let parent = root as Record<string | number, unknown>;
  for (const p of path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (drop) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else if (Array.isArray(parent) && value === "__repeat__") {
    // a long list: limits must be checked before the elements are
    parent.push(...Array.from({ length: 5000 }, () => parent[last]));
  } else {
    parent[last] = value;
  }
  return root;
}

export interface JsonEdit {
  at: number;
  value: unknown;
  drop: boolean;
}

/** Applies edits in turn, each at the path `at` picks among the value's paths at that moment. */
export function applyJsonEdits(v: unknown, edits: JsonEdit[]): unknown {
  let repeated = false;
  for (const e of edits) {
    // one long list per input: a second repeat inside the first one's copies gives 5000 x 5000 elements, and
    // listing their paths exhausted the fuzzer's own 1 GB heap before the input reached the parser (the
    // campaign's `interchange` memory finding, seed 446913076)
    if (e.value === "__repeat__" && !e.drop) {
      if (repeated) continue;
      repeated = true;
    }
    const all = paths(v);
    v = setAt(v, all[e.at % all.length]!, structuredClone(e.value), e.drop);
  }
  return v;
}

/** Seeds (JSON text) with edits at random paths: replaced by nasty values or by random JSON, dropped, repeated. */
export function mutatedJson(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const edit = fc.record({
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(...NASTY, "__repeat__"), fc.jsonValue({ maxDepth: 2 })),
    drop: fc.boolean(),
  });
  const jsonEdits = fc.record({ seed: fc.nat(Math.max(0, seeds.length - 1)), edits: fc.array(edit, { minLength: 1, maxLength: 4 }) }).map(({ seed, edits }) => {
    const v = applyJsonEdits(JSON.parse(dec(seeds[seed]!)), edits);
    return enc(JSON.stringify(v) ?? "null");
  });
  return fc.oneof({ weight: 3, arbitrary: jsonEdits }, { weight: 1, arbitrary: mutatedBytes(seeds, 3) });
}

function parseJsonOr(input: Uint8Array): { ok: true; v: unknown } | { ok: false } {
  try {
    return { ok: true, v: JSON.parse(dec(input)) };
  } catch {
    return { ok: false };
  }
}

// ------------------------------------------------------------------------------------------------ targets

const keystore: FuzzTarget = {
  name: "keystore",
  description: "EIP-2335 keystore JSON (parseKeystore): KeystoreError only",
  seeds: () => ["pbkdf2.json", "scrypt.json"].map((f) => new Uint8Array(readFileSync(join(FIXTURES, "eip2335", f)))),
  arbitrary: mutatedJson,
  run(input) {
    const j = parseJsonOr(input);
    if (!j.ok) return "not JSON"; // readKeystoreFile answers "not valid JSON" before parseKeystore
    let pubkey: Uint8Array;
    try {
      pubkey = parseKeystore(j.v, "fuzz.json").pubkey;
    } catch (e) {
      if (e instanceof KeystoreError) return "rejected";
      throw unexpected("parseKeystore", e);
    }
    if (pubkey.length !== 48) throw new FuzzFinding(`accepted a keystore with a ${pubkey.length}-byte pubkey`);
    return "accepted";
  },
};

const interchange: FuzzTarget = {
  name: "interchange",
  description: "EIP-3076 interchange file (parseInterchange): SlashingProtectionError INVALID_INTERCHANGE only",
  seeds: () =>
    readdirSync(join(FIXTURES, "eip3076"))
      .filter((f) => f.endsWith(".json"))
      .slice(0, 6)
      .flatMap((f) => {
        const steps = (JSON.parse(readFileSync(join(FIXTURES, "eip3076", f), "utf8")) as { steps: { interchange: unknown }[] }).steps;
        return steps.map((s) => enc(JSON.stringify(s.interchange)));
      }),
  arbitrary: mutatedJson,
  run(input) {
    try {
      parseInterchange(dec(input));
      return "accepted";
    } catch (e) {
      if (e instanceof SlashingProtectionError && e.code === "INVALID_INTERCHANGE") return "rejected";
      throw unexpected("parseInterchange", e);
    }
  },
};

/** YAML mutations: lines of a config with values swapped for nasty ones, plus byte edits. */
function mutatedYaml(seeds: Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const values = ["", "~", "-1", "0x", "0xzz", "1e3", "18446744073709551616", "[1, 2]", "{a: 1}", "&a x", "*a", "!!binary AAAA", "'0x01'", "0x" + "ab".repeat(40), ".inf"];
  const lineEdits = fc.record({ seed: fc.nat(Math.max(0, seeds.length - 1)), edits: fc.array(fc.record({ line: fc.nat(), value: fc.constantFrom(...values) }), { minLength: 1, maxLength: 3 }) }).map(({ seed, edits }) => {
    const lines = dec(seeds[seed]!).split("\n");
    for (const e of edits) {
      const i = e.line % lines.length;
      const m = /^([A-Z0-9_]+):/.exec(lines[i]!);
      if (m) lines[i] = `${m[1]}: ${e.value}`;
    }
    return enc(lines.join("\n"));
  });
  return fc.oneof(lineEdits, mutatedBytes(seeds, 3));
}

const configYaml: FuzzTarget = {
  name: "config-yaml",
  description: "chain config YAML (parseChainConfigYaml): an Error (never a TypeError), accepted configs round-trip",
  seeds: () => ["minimal-v0.12.3.yaml", "mainnet-v1.0.yaml", "devnet-preset-base.yaml"].map((f) => new Uint8Array(readFileSync(join(FIXTURES, "config", f)))),
  arbitrary: mutatedYaml,
  run(input) {
    let config;
    try {
      config = parseChainConfigYaml(dec(input));
    } catch (e) {
      if (e instanceof Error && !(e instanceof TypeError) && !(e instanceof RangeError) && !(e instanceof ReferenceError)) return "rejected";
      throw unexpected("parseChainConfigYaml", e);
    }
    const again = parseChainConfigYaml(chainConfigToYaml(config));
    for (const k of Object.keys(config) as (keyof typeof config)[]) {
      const a = config[k];
      const b = again[k];
      const same = a instanceof Uint8Array && b instanceof Uint8Array ? bytesEqual(a, b) : Object.is(a, b);
      if (!same) throw new FuzzFinding(`config key ${k} does not round-trip: ${String(a)} -> ${String(b)}`);
    }
    return "accepted";
  },
};

/** Beacon API POST bodies: the types the pool and block endpoints read with fromJsonStrict. */
function apiTypes() {
  const t = getNamedConfig("minimal").types;
  return [t.SignedBeaconBlock, t.Attestation, t.SignedAggregateAndProof, t.SignedVoluntaryExit, t.ProposerSlashing, t.AttesterSlashing] as const;
}

const apiJson: FuzzTarget = {
  name: "api-json",
  description: "Beacon API request bodies (fromJsonStrict): JsonInputError only, accepted values round-trip via toJson",
  seeds: () =>
    apiTypes().map((type, i) => {
      const value = (type as { defaultValue(): unknown }).defaultValue();
      return enc(JSON.stringify({ t: i, body: (type as { toJson(v: unknown): unknown }).toJson(value) }));
    }),
  arbitrary: mutatedJson,
  run(input) {
    const j = parseJsonOr(input);
    if (!j.ok || j.v === null || typeof j.v !== "object") return "not JSON";
    const { t, body } = j.v as { t?: unknown; body?: unknown };
    const types = apiTypes();
    const type = types[(typeof t === "number" && Number.isInteger(t) ? Math.abs(t) : 0) % types.length]! as unknown as {
      toJson(v: unknown): unknown;
      hashTreeRoot(v: unknown): Uint8Array;
    };
    let value: unknown;
    try {
      value = fromJsonStrict(type as never, body);
    } catch (e) {
      if (e instanceof JsonInputError) return "rejected";
      throw unexpected("fromJsonStrict", e);
    }
    const again = fromJsonStrict(type as never, type.toJson(value));
    const r1 = type.hashTreeRoot(value);
    const r2 = type.hashTreeRoot(again);
    if (!bytesEqual(r1, r2)) throw new FuzzFinding(`API JSON round trip changed the value: ${toHex(r1)} -> ${toHex(r2)}`);
    return "accepted";
  },
};

export const fileTargets: FuzzTarget[] = [keystore, interchange, configYaml, apiJson];
