// Install the native batch hasher for every merkle tree in the process. persistent-merkle-tree defaults to a
// pure-JS SHA-256 that is ~10x slower on a full state hash; this module is imported by types/ before any type exists.
import { setHasher } from "@chainsafe/persistent-merkle-tree";
import { hasher as hashtreeHasher } from "@chainsafe/persistent-merkle-tree/hasher/hashtree";

let installed = false;
export function installHasher(): void {
  if (installed) return;
  setHasher(hashtreeHasher);
  installed = true;
}
installHasher();
