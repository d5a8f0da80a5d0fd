// Prysm's imported-keys wallet (keymanager kind "imported", directory name "direct"): every key of the wallet in
// ONE EIP-2335-encrypted file, <wallet>/direct/accounts/all-accounts.keystore.json, `{crypto, uuid, version, name}`
// without pubkey or path. Its plaintext, under the wallet password, is the JSON of Go's
// `struct { PrivateKeys [][]byte "private_keys"; PublicKeys [][]byte "public_keys" }`, so each key is a base64
// string (Go encodes []byte so). Format as read from prysmaticlabs/prysm validator/keymanager/imported/keymanager.go
// (later local/keymanager.go) and validator/keymanager/types.go (Kind.String: "direct").
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { decrypt, type IKeystore } from "@chainsafe/bls-keystore";
import { secretKeyFromBytes } from "../../crypto/bls.js";
import { bytesEqual, toHex } from "../../util/bytes.js";
import { KeystoreError } from "./discover.js";

export const PRYSM_ACCOUNTS_FILE = join("direct", "accounts", "all-accounts.keystore.json");

export interface PrysmKey {
  pubkey: Uint8Array;
  secretKey: Uint8Array;
}

/** Decrypts a Prysm wallet's imported accounts; every key is checked against its listed public key. */
export async function readPrysmWallet(walletDir: string, password: string): Promise<PrysmKey[]> {
  const path = join(walletDir, PRYSM_ACCOUNTS_FILE);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "not found (is this a Prysm wallet with imported keys?)" : (e as Error).message;
    throw new KeystoreError(path, why, { cause: e });
  }
  let crypto: unknown;
  try {
    crypto = (JSON.parse(text) as { crypto?: unknown }).crypto;
  } catch {
    throw new KeystoreError(path, "not JSON");
  }
  if (typeof crypto !== "object" || crypto === null) throw new KeystoreError(path, "no EIP-2335 crypto section");
  let plain: Uint8Array;
  try {
    plain = await decrypt({ crypto } as IKeystore, password);
  } catch (e) {
    const msg = (e as Error).message;
    throw new KeystoreError(path, msg === "Invalid password" ? "wrong wallet password (the checksum does not match)" : `cannot decrypt: ${msg}`, { cause: e });
  }
  let store: { private_keys?: unknown; public_keys?: unknown };
  try {
    store = JSON.parse(Buffer.from(plain).toString("utf8")) as typeof store;
  } catch {
    throw new KeystoreError(path, "the decrypted accounts are not JSON");
  }
  const priv = store.private_keys ?? [];
  const pub = store.public_keys ?? [];
  if (!Array.isArray(priv) || !Array.isArray(pub) || priv.length !== pub.length) {
    throw new KeystoreError(path, "the decrypted accounts do not pair private_keys with public_keys");
  }
  return priv.map((p, i) => {
    const secretKey = base64Bytes(path, p, 32, `private_keys[${i}]`);
    const pubkey = base64Bytes(path, pub[i], 48, `public_keys[${i}]`);
    let derived: Uint8Array;
    try {
      derived = secretKeyFromBytes(secretKey).toPublicKey().toBytes();
    } catch {
      throw new KeystoreError(path, `private_keys[${i}] is not a BLS secret key`);
    }
    if (!bytesEqual(derived, pubkey)) throw new KeystoreError(path, `private_keys[${i}] belongs to ${toHex(derived)}, not to public_keys[${i}] ${toHex(pubkey)}`);
    return { pubkey, secretKey };
  });
}

function base64Bytes(path: string, v: unknown, length: number, what: string): Uint8Array {
  const bytes = typeof v === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(v) ? Uint8Array.from(Buffer.from(v, "base64")) : undefined;
  if (!bytes || bytes.length !== length) throw new KeystoreError(path, `${what}: expected ${length} bytes in base64`);
  return bytes;
}
