// Lodestar's state transition (@lodestar/state-transition 1.48, phase 0) behind the comparison protocol, set up
// as Lodestar's beacon node sets it up: the native hashtree hasher, its global native pubkey cache, the mainnet
// chain config with every fork after phase 0 disabled (LODESTAR_PRESET unset: the mainnet preset).
//
// Lodestar is installed apart from Cairn, in test/perf/lodestar/ (its own package.json pins the versions and the
// overrides that make it install here), and loaded at run time through test/perf/lodestar/index.mjs: Cairn's
// install and build never depend on it. The few types below are what this file uses of Lodestar's API.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Adapter } from "./compare.js";

/** test/perf/lodestar in the source tree (this file runs from dist/test/perf). */
export const LODESTAR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../test/perf/lodestar");

export function lodestarInstalled(): boolean {
  return existsSync(join(LODESTAR_DIR, "node_modules/@lodestar/state-transition/package.json"));
}

interface TreeView {
  hashTreeRoot(): Uint8Array;
  serialize(): Uint8Array;
}
interface LodestarState extends TreeView {
  clone(dontTransferCache?: boolean): LodestarState;
  validators: { getAllReadonlyValues(): unknown[] };
  genesisValidatorsRoot: Uint8Array;
}
interface SszType<T> {
  deserialize(bytes: Uint8Array): T;
  deserializeToViewDU(bytes: Uint8Array): LodestarState;
}
interface LodestarModules {
  chainConfig: Record<string, unknown>;
  ssz: { phase0: { BeaconState: SszType<unknown>; SignedBeaconBlock: SszType<object> } };
  stateTransition: {
    createCachedBeaconState(state: LodestarState, immutableData: unknown): LodestarState;
    createEmptyEpochCacheImmutableData(chainConfig: Record<string, unknown>, state: { genesisValidatorsRoot: Uint8Array }): unknown;
    processSlots(state: LodestarState, slot: number): LodestarState;
    stateTransition(state: LodestarState, block: object, opts: Record<string, unknown>): LodestarState;
    ExecutionPayloadStatus: { valid: unknown };
    DataAvailabilityStatus: { Available: unknown };
  };
}

export async function lodestarAdapter(): Promise<Adapter<LodestarState, LodestarState, object>> {
  if (!lodestarInstalled()) throw new Error(`Lodestar is not installed in ${LODESTAR_DIR} (npm install --prefix ${LODESTAR_DIR})`);
  const { chainConfig: mainnet, ssz, stateTransition: st } = (await import(
    pathToFileURL(join(LODESTAR_DIR, "index.mjs")).href
  )) as LodestarModules;
  const chainConfig: Record<string, unknown> = { ...mainnet };
  for (const key of Object.keys(chainConfig)) if (key.endsWith("_FORK_EPOCH")) chainConfig[key] = Infinity;
  const types = ssz.phase0;
  return {
    name: "lodestar",
    load: (bytes) => {
      const state = types.BeaconState.deserializeToViewDU(bytes);
      return st.createCachedBeaconState(state, st.createEmptyEpochCacheImmutableData(chainConfig, state));
    },
    // Lodestar's clone() moves the tree caches to the copy and leaves the original without them. A node's head
    // state has them (each block's post-state got its parent's), so each run starts from a copy with warm caches.
    fresh: (base) => {
      const s = base.clone(true);
      s.validators.getAllReadonlyValues();
      return s;
    },
    // processSlots clones (moving the caches) and commits.
    epochTransition: (pre, slot) => st.processSlots(pre, slot),
    decodeBlock: (bytes) => types.SignedBeaconBlock.deserialize(bytes),
    blockTransition: (pre, block) =>
      st.stateTransition(pre, block, {
        verifyStateRoot: true,
        verifyProposer: false,
        verifySignatures: false,
        executionPayloadStatus: st.ExecutionPayloadStatus.valid,
        dataAvailabilityStatus: st.DataAvailabilityStatus.Available,
      }),
    hashTreeRoot: (s) => s.hashTreeRoot(),
    serialize: (s) => s.serialize(),
    deserialize: (bytes) => types.BeaconState.deserializeToViewDU(bytes),
    viewHashTreeRoot: (v) => v.hashTreeRoot(),
  };
}
