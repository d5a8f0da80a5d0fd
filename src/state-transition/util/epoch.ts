import type { ChainConfig } from "../../params/index.js";
import { GENESIS_EPOCH } from "../../params/index.js";

// compute_epoch_at_slot
export function computeEpochAtSlot(c: ChainConfig, slot: number): number {
  return Math.floor(slot / c.SLOTS_PER_EPOCH);
}

/** compute_epoch_at_slot of a slot held exactly (a slashing's header may carry any uint64). */
export function computeEpochAtSlotBn(c: ChainConfig, slot: bigint): bigint {
  return slot / BigInt(c.SLOTS_PER_EPOCH);
}

// compute_start_slot_at_epoch
export function computeStartSlotAtEpoch(c: ChainConfig, epoch: number): number {
  return epoch * c.SLOTS_PER_EPOCH;
}

// compute_activation_exit_epoch
export function computeActivationExitEpoch(c: ChainConfig, epoch: number): number {
  return epoch + 1 + c.MAX_SEED_LOOKAHEAD;
}

// get_current_epoch
export function getCurrentEpoch(c: ChainConfig, state: { slot: number }): number {
  return computeEpochAtSlot(c, state.slot);
}

// get_previous_epoch
export function getPreviousEpoch(c: ChainConfig, state: { slot: number }): number {
  const current = getCurrentEpoch(c, state);
  return current === GENESIS_EPOCH ? GENESIS_EPOCH : current - 1;
}
