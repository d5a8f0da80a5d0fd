// Validator keys from a mnemonic: BIP-39 mnemonic -> seed, EIP-2333 tree derivation, EIP-2334 paths.
// The tree derivation itself is @chainsafe/bls-hd-key; this file only fixes the paths Cairn uses.
import { pbkdf2Sync } from "node:crypto";
import { deriveChildSKMultiple, deriveMasterSK, pathToIndices } from "@chainsafe/bls-hd-key";
import { deriveKeyFromMnemonic } from "@chainsafe/bls-keygen";

/** EIP-2334 signing key path of validator `index`: m/12381/3600/<index>/0/0. */
export function signingKeyPath(index: number): string {
  checkIndex(index);
  return `m/12381/3600/${index}/0/0`;
}

/** EIP-2334 withdrawal key path of validator `index`: m/12381/3600/<index>/0. */
export function withdrawalKeyPath(index: number): string {
  checkIndex(index);
  return `m/12381/3600/${index}/0`;
}

/**
 * BIP-39 seed of a mnemonic: PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic" + passphrase, both NFKD-normalized.
 * Does not check the mnemonic's words or checksum (see validateMnemonic).
 */
export function mnemonicToSeed(mnemonic: string, passphrase = ""): Uint8Array {
  const m = normalizeMnemonic(mnemonic).normalize("NFKD");
  const salt = `mnemonic${passphrase.normalize("NFKD")}`;
  return new Uint8Array(pbkdf2Sync(Buffer.from(m, "utf8"), Buffer.from(salt, "utf8"), 2048, 64, "sha512"));
}

/** Throws unless `mnemonic` is a BIP-39 English mnemonic with a valid checksum. */
export function validateMnemonic(mnemonic: string): void {
  try {
    // bls-keygen checks the words and the checksum before deriving anything
    deriveKeyFromMnemonic(normalizeMnemonic(mnemonic));
  } catch {
    throw new Error("not a valid BIP-39 English mnemonic (unknown word, wrong word count or bad checksum)");
  }
}

/** One space between words, no leading or trailing white space (mnemonic files often end with a newline). */
export function normalizeMnemonic(mnemonic: string): string {
  return mnemonic.trim().split(/\s+/u).join(" ");
}

/** EIP-2333 master secret key of a seed (at least 32 bytes). */
export function deriveMasterKey(seed: Uint8Array): Uint8Array {
  return deriveMasterSK(Uint8Array.from(seed));
}

/** EIP-2333 child of `parent` at a single index (the derive_child_SK of the EIP). */
export { deriveChildSK } from "@chainsafe/bls-hd-key";

/** The signing key of validator `index` under a master key (EIP-2334 path m/12381/3600/<index>/0/0). */
export function deriveSigningKeyFromMaster(masterKey: Uint8Array, index: number): Uint8Array {
  return deriveChildSKMultiple(masterKey, pathToIndices(signingKeyPath(index)));
}

/** The signing key of validator `index` from a seed: master key, then the EIP-2334 signing path. */
export function deriveSigningKey(seed: Uint8Array, index: number): Uint8Array {
  return deriveSigningKeyFromMaster(deriveMasterKey(seed), index);
}

function checkIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** 32) {
    throw new Error(`validator index must be an integer from 0 to 2^32-1, got ${index}`);
  }
}
