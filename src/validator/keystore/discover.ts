// Finding EIP-2335 keystores on disk and their passwords, without decrypting anything.
//
// Layouts read:
//   deposit-cli:                  <dir>/keystore-m_12381_3600_<i>_0_0-<time>.json (any *.json that is a keystore)
//   Lighthouse / Lodestar / Cairn: <dir>/<0xpubkey>/voting-keystore.json
// Passwords: one file for every keystore, or a secrets directory with one file per keystore, named by the
// 0x-prefixed pubkey (Lighthouse and Cairn) or else by the keystore file's name without ".json".
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { schemaValidationErrors, type IKeystore } from "@chainsafe/bls-keystore";
import { fromHex } from "../../util/bytes.js";

export const VOTING_KEYSTORE_FILE = "voting-keystore.json";

/** A keystore or password problem; the message starts with the file it is about. */
export class KeystoreError extends Error {
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${reason}`, options);
    this.name = "KeystoreError";
  }
}

export interface KeystoreFile {
  path: string;
  /** The file's text, kept so an import copies it byte for byte. */
  text: string;
  keystore: IKeystore;
  /** From the keystore's `pubkey` field (48 bytes). */
  pubkey: Uint8Array;
  /** 0x-prefixed lower-case hex of `pubkey`. */
  pubkeyHex: string;
}

const PUBKEY_DIR_RE = /^0x[0-9a-fA-F]{96}$/;

/**
 * Every keystore in `dir`, in a stable order (by file name). Throws a KeystoreError naming the file for any
 * unreadable or malformed keystore, and for two keystores of the same pubkey.
 */
export function findKeystores(dir: string): KeystoreFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new KeystoreError(dir, `cannot read the keystores directory: ${fsReason(e)}`, { cause: e });
  }
  const found: KeystoreFile[] = [];
  for (const name of names) {
    // temporary files of an interrupted write, editor backups, .git...
    if (name.startsWith(".")) continue;
    const path = join(dir, name);
    let isDir: boolean;
    try {
      isDir = statSync(path).isDirectory();
    } catch (e) {
      throw new KeystoreError(path, `cannot read: ${fsReason(e)}`, { cause: e });
    }
    if (isDir) {
      const inner = join(path, VOTING_KEYSTORE_FILE);
      if (!exists(inner)) continue;
      const ks = readKeystoreFile(inner, true);
      if (ks === null) continue;
      if (PUBKEY_DIR_RE.test(name) && name.toLowerCase() !== ks.pubkeyHex) {
        throw new KeystoreError(inner, `holds the keystore of ${ks.pubkeyHex}, but its directory is named ${name}`);
      }
      found.push(ks);
    } else if (name.toLowerCase().endsWith(".json")) {
      // deposit-cli writes deposit_data-*.json next to the keystores: JSON that is not a keystore is skipped
      const ks = readKeystoreFile(path, name.startsWith("keystore"));
      if (ks !== null) found.push(ks);
    }
  }
  const byPubkey = new Map<string, string>();
  for (const ks of found) {
    const other = byPubkey.get(ks.pubkeyHex);
    if (other !== undefined) throw new KeystoreError(ks.path, `duplicate keystore: ${other} has the same pubkey ${ks.pubkeyHex}`);
    byPubkey.set(ks.pubkeyHex, ks.path);
  }
  return found;
}

/**
 * Reads and validates one keystore. With `required` false, valid JSON that does not look like a keystore (no
 * `crypto` member) gives null; anything that looks like one must be a valid EIP-2335 keystore.
 */
export function readKeystoreFile(path: string, required = true): KeystoreFile | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KeystoreError(path, `cannot read: ${fsReason(e)}`, { cause: e });
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    throw new KeystoreError(path, "not valid JSON");
  }
  const looksLikeKeystore = obj !== null && typeof obj === "object" && !Array.isArray(obj) && "crypto" in obj;
  if (!looksLikeKeystore && !required) return null;
  return { path, text, ...parseKeystore(obj, path) };
}

/** Validates a keystore object against the EIP-2335 schema and reads its pubkey. */
export function parseKeystore(obj: unknown, path: string): { keystore: IKeystore; pubkey: Uint8Array; pubkeyHex: string } {
  const errors = schemaValidationErrors(obj);
  if (errors !== null && errors.length > 0) {
    const e = errors[0];
    throw new KeystoreError(path, `not an EIP-2335 keystore: ${e.instancePath || "(top level)"} ${e.message}`);
  }
  const keystore = obj as IKeystore;
  if (keystore.version !== 4) throw new KeystoreError(path, `unsupported keystore version ${String(keystore.version)} (expected 4)`);
  const hex = typeof keystore.pubkey === "string" ? keystore.pubkey.replace(/^0x/i, "").toLowerCase() : "";
  if (!/^[0-9a-f]{96}$/.test(hex)) throw new KeystoreError(path, "the keystore's pubkey field is not 48 bytes of hex");
  checkKdfCost(keystore, path);
  return { keystore, pubkey: fromHex(hex), pubkeyHex: `0x${hex}` };
}

/** scrypt's memory, 128·n·r·p bytes: 256 MiB for EIP-2335's n = 2^18, r = 8, p = 1. Four times that is refused. */
export const MAX_SCRYPT_MEMORY = 1024 * 1024 * 1024;
/** PBKDF2 rounds: EIP-2335 uses 2^18; 2^22 takes a few seconds, which is already more than any wallet uses. */
export const MAX_PBKDF2_ROUNDS = 2 ** 22;

/**
 * The KDF parameters come from the file, so they bound the work before any of it starts: a keystore asking for
 * terabytes of scrypt memory or billions of rounds is refused by name instead of exhausting the worker (or the
 * machine). The schema has already checked the types.
 */
function checkKdfCost(keystore: IKeystore, path: string): void {
  const kdf = keystore.crypto.kdf as { function: string; params: Record<string, unknown> };
  const p = kdf.params;
  const int = (k: string): number => {
    const v = p[k];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 1) throw new KeystoreError(path, `the keystore's ${kdf.function} ${k} is not a positive integer`);
    return v;
  };
  if (int("dklen") !== 32) throw new KeystoreError(path, `the keystore's ${kdf.function} dklen is ${String(p.dklen)}, EIP-2335 needs 32`);
  if (kdf.function === "scrypt") {
    const n = int("n");
    const r = int("r");
    const pp = int("p");
    if (n < 2 || (n & (n - 1)) !== 0 || n > 2 ** 30) throw new KeystoreError(path, `the keystore's scrypt n = ${n} is not a power of two between 2 and 2^30`);
    const memory = 128 * n * r * pp;
    if (memory > MAX_SCRYPT_MEMORY) {
      throw new KeystoreError(path, `the keystore's scrypt parameters (n = ${n}, r = ${r}, p = ${pp}) need ${Math.round(memory / 2 ** 20)} MiB; at most ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB is allowed`);
    }
  } else if (kdf.function === "pbkdf2") {
    const c = int("c");
    if (c > MAX_PBKDF2_ROUNDS) throw new KeystoreError(path, `the keystore's pbkdf2 c = ${c} is above the ${MAX_PBKDF2_ROUNDS} rounds allowed`);
  }
}

/** A password file's contents, without the trailing newline(s) editors and `echo` add. */
export function readPasswordFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new KeystoreError(path, `cannot read the password file: ${fsReason(e)}`, { cause: e });
  }
  const password = text.replace(/[\r\n]+$/, "");
  if (password === "") throw new KeystoreError(path, "the password file is empty");
  return password;
}

/** The password of `ks` in `secretsDir`: the file named by its 0x-pubkey, else by its own name without ".json". */
export function findPassword(ks: KeystoreFile, secretsDir: string): string {
  const candidates = [ks.pubkeyHex];
  const own = basename(ks.path).replace(/\.json$/i, "");
  if (own !== basename(VOTING_KEYSTORE_FILE, ".json")) candidates.push(own);
  for (const name of candidates) {
    const p = join(secretsDir, name);
    if (exists(p)) return readPasswordFile(p);
  }
  throw new KeystoreError(ks.path, `no password for this keystore in ${secretsDir} (looked for ${candidates.join(" and ")})`);
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

export function fsReason(e: unknown): string {
  switch ((e as { code?: unknown }).code) {
    case "ENOENT":
      return "no such file or directory";
    case "ENOTDIR":
      return "not a directory";
    case "EISDIR":
      return "it is a directory";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOSPC":
      return "no space left on device";
    default:
      return e instanceof Error ? e.message.split("\n")[0] : String(e);
  }
}
