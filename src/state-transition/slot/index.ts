import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { processEpochSteps, type EpochProcess } from "../epoch/index.js";
import { assert } from "../util/assert.js";
import { runToEnd } from "../util/steps.js";

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
  runToEnd(processSlotsSteps(cached, slot));
}

/**
 * process_slots in steps: the generator stops after each slot and between the parts of an epoch transition (the
 * longest part ~30 ms at 100,000 validators, where the whole transition is ~60 ms), so that a caller can let other
 * work run between them. The state must not be read or written until the generator is done.
 */
export function* processSlotsSteps(cached: CachedBeaconState, slot: number): Generator<void, void, void> {
  const { config: c } = cached;
  assert(cached.state.slot < slot, `cannot process slots to ${slot}: state is already at slot ${cached.state.slot}`);
  while (cached.state.slot < slot) {
    processSlot(cached);
    const isEpochEnd = (cached.state.slot + 1) % c.SLOTS_PER_EPOCH === 0;
    let ep: EpochProcess | null = null;
    if (isEpochEnd) {
      yield;
      ep = yield* processEpochSteps(cached);
    }
    cached.state.slot = cached.state.slot + 1;
    if (ep !== null) {
      yield;
      yield* cached.epochCtx.afterProcessEpochSteps(cached.state, ep.nextShufflingActiveIndices);
    }
    if (cached.state.slot < slot) yield;
  }
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}
