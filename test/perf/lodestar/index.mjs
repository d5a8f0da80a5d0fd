// The Lodestar modules the benchmark uses, resolved from this folder's own node_modules (see package.json here).
// Plain JavaScript, outside the TypeScript build: Cairn compiles and tests without Lodestar installed.
import { setHasher } from "@chainsafe/persistent-merkle-tree";
import { hasher as hashtreeHasher } from "@chainsafe/persistent-merkle-tree/hasher/hashtree";
import { chainConfig } from "@lodestar/config/default";
import * as stateTransition from "@lodestar/state-transition";
import { ssz } from "@lodestar/types";

// As Lodestar's beacon node does at start-up: the native hasher for every tree of Lodestar's ssz.
setHasher(hashtreeHasher);

export { chainConfig, ssz, stateTransition };
