import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { processEpoch, type EpochProcess } from "../epoch/index.js";
import { assert } from "../util/assert.js";

// process_slot
export function processSlot(cached: CachedBeaconState): void {
  const { config: c, state } = cached;
  const previousStateRoot = state.hashTreeRoot();
  state.stateRoots.set(state.slot % c.SLOTS_PER_HISTORICAL_ROOT, previousStateRoot);
  if (isZero(state.latestBlockHeader.stateRoot)) state.latestBlockHeader.stateRoot = previousStateRoot;
  const previousBlockRoot = state.latestBlockHeader.hashTreeRoot();
  state.blockRoots.set(state.slot % c.SLOTS_PER_HISTORICAL_ROOT, previousBlockRoot);
}

// process_slots
export function processSlots(cached: CachedBeaconState, slot: number): void {
  const { config: c } = cached;
  assert(cached.state.slot < slot, `cannot process slots to ${slot}: state is already at slot ${cached.state.slot}`);
  while (cached.state.slot < slot) {
    processSlot(cached);
    const isEpochEnd = (cached.state.slot + 1) % c.SLOTS_PER_EPOCH === 0;
    let ep: EpochProcess | null = null;
    if (isEpochEnd) ep = processEpoch(cached);
    cached.state.slot = cached.state.slot + 1;
    if (ep !== null) cached.epochCtx.afterProcessEpoch(cached.state, ep.nextShufflingActiveIndices);
  }
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
