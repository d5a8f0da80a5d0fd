// Cairn's key layout in a datadir (the Lighthouse/Lodestar layout, so their tools read it and ours read theirs):
//   <datadir>/keystores/<0xpubkey>/voting-keystore.json
//   <datadir>/secrets/<0xpubkey>                          the keystore's password, mode 0600
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { VOTING_KEYSTORE_FILE } from "./discover.js";
import { mkdirDurable, writeFileAtomicSync } from "../../util/fsAtomic.js";

export function keystoresDirOf(datadir: string): string {
  return join(datadir, "keystores");
}

export function secretsDirOf(datadir: string): string {
  return join(datadir, "secrets");
}

export function keystorePathIn(datadir: string, pubkeyHex: string): string {
  return join(keystoresDirOf(datadir), pubkeyHex, VOTING_KEYSTORE_FILE);
}

export function secretPathIn(datadir: string, pubkeyHex: string): string {
  return join(secretsDirOf(datadir), pubkeyHex);
}

export function hasKeystore(datadir: string, pubkeyHex: string): boolean {
  return existsSync(keystorePathIn(datadir, pubkeyHex));
}

/**
 * Writes one keystore and its password, each atomically and durably. The password goes first: a keystore that is
 * present always has its password next to it, even after a crash between the two writes.
 */
export function writeKeystore(datadir: string, pubkeyHex: string, keystoreText: string, password: string): { keystorePath: string; secretPath: string } {
  const secretPath = secretPathIn(datadir, pubkeyHex);
  const keystorePath = keystorePathIn(datadir, pubkeyHex);
  mkdirDurable(secretsDirOf(datadir));
  writeFileAtomicSync(secretPath, password, 0o600);
  mkdirDurable(join(keystoresDirOf(datadir), pubkeyHex));
  writeFileAtomicSync(keystorePath, keystoreText, 0o600);
  return { keystorePath, secretPath };
}

/** Undoes writeKeystore (used to roll back an import that failed part-way). */
export function removeKeystore(datadir: string, pubkeyHex: string): void {
  rmSync(join(keystoresDirOf(datadir), pubkeyHex), { recursive: true, force: true });
  rmSync(secretPathIn(datadir, pubkeyHex), { force: true });
}
