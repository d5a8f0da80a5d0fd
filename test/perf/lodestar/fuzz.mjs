// The Lodestar modules the differential fuzz target (test/fuzz/targets/differential.ts) uses, resolved from this
// folder's node_modules. The importer sets LODESTAR_PRESET=minimal before this loads: the fuzz pre-states are the
// spec vectors' minimal ones.
import { setHasher } from "@chainsafe/persistent-merkle-tree";
import { hasher as hashtreeHasher } from "@chainsafe/persistent-merkle-tree/hasher/hashtree";
import { minimalChainConfig } from "@lodestar/config/configs";
import * as stateTransition from "@lodestar/state-transition";
import { ssz } from "@lodestar/types";

setHasher(hashtreeHasher);

export { minimalChainConfig, ssz, stateTransition };
