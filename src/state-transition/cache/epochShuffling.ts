import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { getSeed } from "../util/seed.js";
import { unshuffleListSteps } from "../util/shuffle.js";
import { isActiveValidator } from "../util/validator.js";
import { runToEnd } from "../util/steps.js";

/** The committees of one epoch, computed once by shuffling the whole active set (not index by index). */
export interface EpochShuffling {
  epoch: number;
  /** get_active_validator_indices at `epoch`, ascending */
  activeIndices: Uint32Array;
  /** shuffled[i] = activeIndices[compute_shuffled_index(i)] */
  shuffling: Uint32Array;
  committeesPerSlot: number;
  /** committees[slotInEpoch][committeeIndex], subarrays of `shuffling` */
  committees: Uint32Array[][];
}

// get_committee_count_per_slot, from the active count
export function computeCommitteeCountPerSlot(c: BeaconConfig, activeCount: number): number {
  return Math.max(
    1,
    Math.min(c.MAX_COMMITTEES_PER_SLOT, Math.floor(Math.floor(activeCount / c.SLOTS_PER_EPOCH) / c.TARGET_COMMITTEE_SIZE)),
  );
}

export function getActiveValidatorIndicesFromState(state: BeaconStateView, epoch: number): Uint32Array {
  const out: number[] = [];
  const vals = state.validators.getAllReadonlyValues();
  for (let i = 0; i < vals.length; i++) if (isActiveValidator(vals[i], epoch)) out.push(i);
  return Uint32Array.from(out);
}

export function computeEpochShuffling(
  c: BeaconConfig,
  state: BeaconStateView,
  activeIndices: Uint32Array,
  epoch: number,
): EpochShuffling {
  return runToEnd(computeEpochShufflingSteps(c, state, activeIndices, epoch));
}

/** computeEpochShuffling in steps: the shuffle (~45 ms at 100,000 validators) stops every few rounds. */
export function* computeEpochShufflingSteps(
  c: BeaconConfig,
  state: BeaconStateView,
  activeIndices: Uint32Array,
  epoch: number,
): Generator<void, EpochShuffling, void> {
  const seed = getSeed(c, state, epoch, c.DOMAIN_BEACON_ATTESTER);
  const shuffling = yield* unshuffleListSteps(activeIndices, seed, c.SHUFFLE_ROUND_COUNT);
  const committeesPerSlot = computeCommitteeCountPerSlot(c, activeIndices.length);
  const committeeCount = committeesPerSlot * c.SLOTS_PER_EPOCH;
  const n = shuffling.length;
  const committees: Uint32Array[][] = [];
  for (let slot = 0; slot < c.SLOTS_PER_EPOCH; slot++) {
    const slotCommittees: Uint32Array[] = [];
    for (let ci = 0; ci < committeesPerSlot; ci++) {
      // compute_committee: slice [n*k/count, n*(k+1)/count) of the shuffled list
      const k = slot * committeesPerSlot + ci;
      const start = Math.floor((n * k) / committeeCount);
      const end = Math.floor((n * (k + 1)) / committeeCount);
      slotCommittees.push(shuffling.subarray(start, end));
    }
    committees.push(slotCommittees);
  }
  return { epoch, activeIndices, shuffling, committeesPerSlot, committees };
}
