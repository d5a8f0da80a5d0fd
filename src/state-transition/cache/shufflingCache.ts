import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { computeStartSlotAtEpoch } from "../util/epoch.js";
import { toHex } from "../../util/bytes.js";
import { computeEpochShufflingSteps, getActiveValidatorIndicesFromState, type EpochShuffling } from "./epochShuffling.js";
import { runToEnd } from "../util/steps.js";

/**
 * Shufflings shared by every state of a chain, keyed by (epoch, decision root). The shuffling of epoch E depends on
 * the randao mix at the end of epoch E-2 and on the active set, which is fixed MAX_SEED_LOOKAHEAD epochs ahead; both
 * are settled by the chain up to the last block at or before the last slot of epoch E-2: the decision root. States
 * on different forks that share that block share the shuffling, so a state loaded from disk or replayed by regen
 * reuses the committees instead of reshuffling 100,000 indices three times. Bounded (oldest evicted first).
 */
export class ShufflingCache {
  private readonly items = new Map<string, EpochShuffling>();
  hits = 0;
  misses = 0;

  constructor(readonly maxSize = 16) {}

  get size(): number {
    return this.items.size;
  }

  /** The shuffling for `epoch` as seen from `state` (state's epoch must be epoch-1, epoch or epoch+1). */
  getOrCompute(config: BeaconConfig, state: BeaconStateView, epoch: number, activeIndices?: Uint32Array): EpochShuffling {
    return runToEnd(this.getOrComputeSteps(config, state, epoch, activeIndices));
  }

  /** getOrCompute, stopping inside the shuffle when it has to compute one. */
  *getOrComputeSteps(config: BeaconConfig, state: BeaconStateView, epoch: number, activeIndices?: Uint32Array): Generator<void, EpochShuffling, void> {
    const key = `${epoch}:${decisionRoot(config, state, epoch)}`;
    const hit = this.items.get(key);
    if (hit) {
      this.hits++;
      return hit;
    }
    this.misses++;
    const shuffling = yield* computeEpochShufflingSteps(config, state, activeIndices ?? getActiveValidatorIndicesFromState(state, epoch), epoch);
    // another caller may have computed it meanwhile (the same shuffling: keep the first)
    const raced = this.items.get(key);
    if (raced) return raced;
    this.items.set(key, shuffling);
    if (this.items.size > this.maxSize) this.items.delete(this.items.keys().next().value!);
    return shuffling;
  }
}

/** The block root at the last slot of epoch-2 (the state's own history has it), or "genesis" before that. */
function decisionRoot(config: BeaconConfig, state: BeaconStateView, epoch: number): string {
  const slot = computeStartSlotAtEpoch(config, Math.max(0, epoch - 1)) - 1;
  if (slot < 0) return "genesis";
  if (slot >= state.slot || state.slot - slot > config.SLOTS_PER_HISTORICAL_ROOT) {
    throw new Error(`state at slot ${state.slot} cannot decide the shuffling of epoch ${epoch}`);
  }
  return toHex(state.blockRoots.get(slot % config.SLOTS_PER_HISTORICAL_ROOT));
}
