// Reading a chain config from YAML text. Pure: no file system access here (the caller reads the file).
//
// Two layouts are accepted:
//  - flat (spec v0.12.3 / v1.0 `configs/<name>/phase0.yaml`, and the config.yaml files client teams published for
//    the 2020 testnets): the phase 0 keys, CONFIG_NAME optional (default "custom"). Published files often list
//    only some keys (Medalla has no PROPORTIONAL_SLASHING_MULTIPLIER): clients took the rest from the preset, so a
//    missing key takes the v0.12.3 preset's value (mainnet, unless the caller or the file's CONFIG_NAME says minimal);
//  - preset-based (what clients write for v1.x networks): `PRESET_BASE: mainnet|minimal` plus some keys,
//    usually only the runtime ones. Keys not in the file come from the v1.0 phase 0 preset of that name.
// For a flat file one message through `opts.info` names the keys taken from the preset (a PRESET_BASE file
// declares its base, so nothing is said).
// Keys of later forks (ALTAIR_FORK_EPOCH, TERMINAL_TOTAL_DIFFICULTY, ...) are ignored quietly; any other key this
// client does not know is an error naming the closest known key (a typo must not fall back to a preset value).
//
// The YAML is parsed with the failsafe schema: every scalar stays the exact string written in the file,
// so 0x00000000 is not read as the number 0, 2^64-1 is not rounded, and `null`/`~`/`yes` are never
// reinterpreted. Each known key is then validated and converted here.
import YAML from "yaml";
import { BYTES_KEYS, namedConfigs, mainnetConfig, type ChainConfig, type ConfigKey } from "../params/index.js";
import { toHex } from "../util/bytes.js";
import { isLaterForkKey } from "./laterForkKeys.js";
import { presetBases } from "./presetsV1.js";

export { mainnetV1Config, minimalV1Config, presetBases } from "./presetsV1.js";

export type PresetName = "mainnet" | "minimal";

export interface ParseChainConfigOptions {
  /** Receives one message per problem that does not prevent loading. */
  warn?: (msg: string) => void;
  /** Receives one message naming the keys a flat file leaves out, taken from the preset (none when it lists all). */
  info?: (msg: string) => void;
  /**
   * The preset a file without PRESET_BASE belongs to: its missing keys take the v0.12.3 values of this preset.
   * Default: the file's CONFIG_NAME when that is "mainnet" or "minimal", else mainnet (what the published 2020
   * testnets were built on).
   */
  defaultPreset?: PresetName;
}

/** Every key of ChainConfig, in spec order. */
export const CHAIN_CONFIG_KEYS: readonly ConfigKey[] = Object.freeze(Object.keys(mainnetConfig) as ConfigKey[]);
const KNOWN_KEYS: ReadonlySet<string> = new Set<string>(CHAIN_CONFIG_KEYS);

export const DEFAULT_CONFIG_NAME = "custom";
const PRESET_BASE_KEY = "PRESET_BASE";

/**
 * Parses a phase 0 chain config from YAML text (either layout, see the top of this file).
 * Throws an Error naming the offending key on a missing or malformed value; the message is one line.
 */
export function parseChainConfigYaml(text: string, opts: ParseChainConfigOptions = {}): ChainConfig {
  const entries = parseYamlMapping(text);

  let base: ChainConfig;
  let baseName: string | null;
  if (entries.has(PRESET_BASE_KEY)) {
    const name = entries.get(PRESET_BASE_KEY);
    if (typeof name !== "string" || name === "") {
      throw new Error(`config key ${PRESET_BASE_KEY}: expected "mainnet" or "minimal", got ${describe(name)}`);
    }
    const preset = Object.prototype.hasOwnProperty.call(presetBases, name) ? presetBases[name] : undefined;
    if (!preset) {
      const known = Object.keys(presetBases).map((n) => `"${n}"`).join(" or ");
      throw new Error(`config key ${PRESET_BASE_KEY}: unknown preset ${describe(name)} (expected ${known})`);
    }
    base = preset;
    baseName = null;
  } else {
    if (!CHAIN_CONFIG_KEYS.some((k) => k !== "CONFIG_NAME" && entries.has(k))) {
      throw new Error(
        `config has none of the phase 0 keys (expected KEY: value lines such as ${CHAIN_CONFIG_KEYS[1]}, or ${PRESET_BASE_KEY})`,
      );
    }
    const name = opts.defaultPreset ?? presetOfConfigName(entries.get("CONFIG_NAME")) ?? "mainnet";
    base = namedConfigs[name]!;
    baseName = `${name} preset (spec v0.12.3)`;
  }

  // a misspelt key would otherwise leave its value at the preset's, silently (SECONDS_PER_SLTO: 2 running 6 s slots)
  const unknown = [...entries.keys()].filter((k) => !KNOWN_KEYS.has(k) && k !== PRESET_BASE_KEY && !isLaterForkKey(k));
  if (unknown.length > 0) {
    const named = unknown.map((k) => {
      const near = closestKey(k);
      return near === undefined ? printableKey(k) : `${printableKey(k)} (did you mean ${near}?)`;
    });
    throw new Error(`unknown config key${unknown.length === 1 ? "" : "s"} ${named.join(", ")}: not a phase 0 key nor a later fork's`);
  }

  const out: Record<string, unknown> = {};
  const defaulted: string[] = [];
  for (const key of CHAIN_CONFIG_KEYS) {
    if (!entries.has(key)) {
      if (key === "CONFIG_NAME") {
        out[key] = DEFAULT_CONFIG_NAME;
      } else {
        const v = base[key];
        out[key] = v instanceof Uint8Array ? v.slice() : v;
        defaulted.push(key);
      }
      continue;
    }
    out[key] = parseValue(key, entries.get(key));
  }
  if (defaulted.length > 0 && baseName !== null && opts.info) {
    const n = defaulted.length === 1 ? "1 key" : `${defaulted.length} keys`;
    opts.info(`${n} not in the file taken from the ${baseName}: ${defaulted.join(", ")}`);
  }
  return out as unknown as ChainConfig;
}

function presetOfConfigName(raw: RawValue | undefined): PresetName | undefined {
  return raw === "mainnet" || raw === "minimal" ? raw : undefined;
}

/**
 * A config by built-in name ("mainnet" or "minimal": the v0.12.3 presets) or from YAML text.
 * Returns a fresh copy for names, so callers may modify it.
 */
export function loadChainConfig(nameOrYamlText: string, opts: ParseChainConfigOptions = {}): ChainConfig {
  if (Object.prototype.hasOwnProperty.call(namedConfigs, nameOrYamlText)) {
    return copyChainConfig(namedConfigs[nameOrYamlText]);
  }
  return parseChainConfigYaml(nameOrYamlText, opts);
}

export function isNamedConfig(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(namedConfigs, name);
}

function copyChainConfig(c: ChainConfig): ChainConfig {
  const out: Record<string, unknown> = {};
  for (const key of CHAIN_CONFIG_KEYS) {
    const v = c[key];
    out[key] = v instanceof Uint8Array ? v.slice() : v;
  }
  return out as unknown as ChainConfig;
}

// ---------------------------------------------------------------------------------------------------------------

/** A value as read with the failsafe schema: a string, or a nested sequence/mapping. */
type RawValue = string | RawValue[] | { [k: string]: RawValue } | null;

function parseYamlMapping(text: string): Map<string, RawValue> {
  if (typeof text !== "string") throw new Error("config: expected YAML text");
  const doc = YAML.parseDocument(text, { schema: "failsafe", uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new Error(`config is not valid YAML: ${firstLine(doc.errors[0]!.message)}`);
  }
  const contents = doc.contents;
  if (contents === null || (YAML.isScalar(contents) && contents.value === "")) {
    throw new Error("config is empty (expected KEY: value lines)");
  }
  if (!YAML.isMap(contents)) {
    throw new Error("config is not a YAML mapping (expected KEY: value lines)");
  }
  for (const pair of contents.items) {
    if (!YAML.isScalar(pair.key) || typeof pair.key.value !== "string") {
      throw new Error("config has a key that is not a plain name (expected KEY: value lines)");
    }
  }
  // All keys are plain strings, so the object form loses nothing.
  let js: Record<string, RawValue>;
  try {
    js = doc.toJS() as Record<string, RawValue>;
  } catch (e) {
    // e.g. too many aliases (the yaml package's guard against "billion laughs" documents)
    throw new Error(`config is not valid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`);
  }
  const entries = new Map<string, RawValue>();
  for (const key of Object.keys(js)) entries.set(key, js[key] ?? null);
  return entries;
}

function parseValue(key: ConfigKey, raw: RawValue | undefined): string | number | Uint8Array {
  if (key === "CONFIG_NAME") {
    if (typeof raw !== "string") throw new Error(`config key ${key}: expected a string, got ${describe(raw)}`);
    return raw;
  }
  const byteLength = BYTES_KEYS[key];
  if (byteLength !== undefined) return parseHexBytes(key, raw, byteLength);
  return parseUint(key, raw);
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function parseUint(key: string, raw: RawValue | undefined): number {
  if (typeof raw !== "string" || !DECIMAL.test(raw.trim())) {
    throw new Error(`config key ${key}: expected a non-negative integer, got ${describe(raw)}`);
  }
  const s = raw.trim();
  const n = Number(s);
  if (!Number.isSafeInteger(n) || BigInt(s) !== BigInt(n)) {
    throw new Error(`config key ${key}: value ${s} is too large (at most ${Number.MAX_SAFE_INTEGER} is supported)`);
  }
  return n;
}

const HEX = /^0x([0-9a-fA-F]*)$/;

function parseHexBytes(key: string, raw: RawValue | undefined, length: number): Uint8Array {
  const expected = `expected ${length} byte${length === 1 ? "" : "s"} as 0x-prefixed hex (0x and ${length * 2} hex digits)`;
  const m = typeof raw === "string" ? HEX.exec(raw.trim()) : null;
  if (!m || m[1]!.length !== length * 2) {
    throw new Error(`config key ${key}: ${expected}, got ${describe(raw)}`);
  }
  const digits = m[1]!;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function describe(raw: RawValue | undefined): string {
  if (raw === undefined || raw === null) return "nothing";
  if (Array.isArray(raw)) return "a YAML list";
  if (typeof raw === "object") return "a YAML mapping";
  if (raw === "") return "an empty value";
  const s = raw.length > 80 ? `${raw.slice(0, 77)}...` : raw;
  return JSON.stringify(s);
}

/** The known key nearest to `key` by edit distance, when near enough to be a typo of it. */
function closestKey(key: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of [...CHAIN_CONFIG_KEYS, PRESET_BASE_KEY]) {
    const d = editDistance(key.toUpperCase(), k);
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

/** Levenshtein distance, a transposition counting as one edit (SLTO for SLOT). */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function printableKey(k: string): string {
  return /^[A-Za-z0-9_]+$/.test(k) ? k : JSON.stringify(k.length > 40 ? `${k.slice(0, 37)}...` : k);
}

function firstLine(s: string): string {
  return (s.split("\n")[0] ?? "").replace(/:\s*$/, "").trim();
}

/** A config as YAML in the spec's flat layout (every key; bytes as 0x-hex), which parseChainConfigYaml reads back. */
export function chainConfigToYaml(config: ChainConfig): string {
  const lines: string[] = ["# Cairn chain config (phase 0, flat spec layout)"];
  for (const key of CHAIN_CONFIG_KEYS) {
    const v = config[key] as unknown;
    if (v instanceof Uint8Array) lines.push(`${key}: ${toHex(v)}`);
    else if (typeof v === "number") lines.push(`${key}: ${v === Infinity ? "18446744073709551615" : String(v)}`);
    else lines.push(`${key}: ${JSON.stringify(String(v))}`);
  }
  return `${lines.join("\n")}\n`;
}
