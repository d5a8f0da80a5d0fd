import { BitArray } from "@chainsafe/ssz";
import { GENESIS_EPOCH, JUSTIFICATION_BITS_LENGTH } from "../../params/index.js";
import type { Checkpoint } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import type { EpochProcess } from "./beforeProcessEpoch.js";
import { getBlockRoot } from "./util.js";

// process_justification_and_finalization
export function processJustificationAndFinalization(cached: CachedBeaconState, ep: EpochProcess): void {
  const { config: c, state } = cached;
  const currentEpoch = ep.currentEpoch;
  // Initial FFG checkpoint values have a 0x00 stub for `root`; skip the first two epochs so it is never modified.
  if (currentEpoch <= GENESIS_EPOCH + 1) return;
  const previousEpoch = ep.previousEpoch;
  const Checkpoint = c.types.Checkpoint;

  const oldPreviousJustified = state.previousJustifiedCheckpoint.toValue();
  const oldCurrentJustified = state.currentJustifiedCheckpoint.toValue();
  let currentJustified: Checkpoint = oldCurrentJustified;
  let finalized: Checkpoint | null = null;

  // Process justifications. bits[0] is the current epoch, bits[1] the previous one, ...
  const oldBits = state.justificationBits.toBoolArray();
  const bits = new Array<boolean>(JUSTIFICATION_BITS_LENGTH).fill(false);
  for (let i = 1; i < JUSTIFICATION_BITS_LENGTH; i++) bits[i] = oldBits[i - 1];

  const total = ep.totalActiveBalance;
  if (ep.prevEpochTargetBalance * 3n >= total * 2n) {
    currentJustified = { epoch: previousEpoch, root: getBlockRoot(c, state, previousEpoch) };
    bits[1] = true;
  }
  if (ep.currEpochTargetBalance * 3n >= total * 2n) {
    currentJustified = { epoch: currentEpoch, root: getBlockRoot(c, state, currentEpoch) };
    bits[0] = true;
  }

  // Process finalizations
  // The 2nd/3rd/4th most recent epochs are justified, the 2nd using the 4th as source
  if (bits[1] && bits[2] && bits[3] && oldPreviousJustified.epoch + 3 === currentEpoch) finalized = oldPreviousJustified;
  // The 2nd/3rd most recent epochs are justified, the 2nd using the 3rd as source
  if (bits[1] && bits[2] && oldPreviousJustified.epoch + 2 === currentEpoch) finalized = oldPreviousJustified;
  // The 1st/2nd/3rd most recent epochs are justified, the 1st using the 3rd as source
  if (bits[0] && bits[1] && bits[2] && oldCurrentJustified.epoch + 2 === currentEpoch) finalized = oldCurrentJustified;
  // The 1st/2nd most recent epochs are justified, the 1st using the 2nd as source
  if (bits[0] && bits[1] && oldCurrentJustified.epoch + 1 === currentEpoch) finalized = oldCurrentJustified;

  // Fresh views for every assignment: two fields must never share one mutable view.
  state.previousJustifiedCheckpoint = Checkpoint.toViewDU(oldCurrentJustified);
  if (currentJustified !== oldCurrentJustified) state.currentJustifiedCheckpoint = Checkpoint.toViewDU(currentJustified);
  state.justificationBits = c.types.BeaconState.fields.justificationBits.toViewDU(BitArray.fromBoolArray(bits));
  if (finalized !== null) state.finalizedCheckpoint = Checkpoint.toViewDU(finalized);
}
