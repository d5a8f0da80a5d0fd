import { digest2Bytes32 } from "@chainsafe/as-sha256";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { getRandaoMix } from "../util/seed.js";
import type { EpochProcess } from "./beforeProcessEpoch.js";

// process_final_updates
export function processFinalUpdates(cached: CachedBeaconState, ep: EpochProcess): void {
  const { config: c, state } = cached;
  const fields = c.types.BeaconState.fields;
  const currentEpoch = ep.currentEpoch;
  const nextEpoch = currentEpoch + 1;

  // Reset eth1 data votes
  if (nextEpoch % c.EPOCHS_PER_ETH1_VOTING_PERIOD === 0) {
    state.eth1DataVotes = fields.eth1DataVotes.defaultViewDU();
  }

  // Update effective balances with hysteresis. Balances are ep.balances (kept current by the earlier steps);
  // effective balances have not changed since beforeProcessEpoch.
  const hysteresisIncrement = Math.floor(c.EFFECTIVE_BALANCE_INCREMENT / c.HYSTERESIS_QUOTIENT);
  const downwardThreshold = hysteresisIncrement * c.HYSTERESIS_DOWNWARD_MULTIPLIER;
  const upwardThreshold = hysteresisIncrement * c.HYSTERESIS_UPWARD_MULTIPLIER;
  const { balances, effectiveBalances } = ep;
  for (let i = 0; i < ep.validatorCount; i++) {
    const balance = balances[i];
    const effectiveBalance = effectiveBalances[i];
    if (balance + downwardThreshold < effectiveBalance || effectiveBalance + upwardThreshold < balance) {
      const newEffectiveBalance = Math.min(balance - (balance % c.EFFECTIVE_BALANCE_INCREMENT), c.MAX_EFFECTIVE_BALANCE);
      if (newEffectiveBalance !== effectiveBalance) {
        state.validators.get(i).effectiveBalance = newEffectiveBalance;
        effectiveBalances[i] = newEffectiveBalance;
      }
    }
  }

  // Reset slashings
  state.slashings.set(nextEpoch % c.EPOCHS_PER_SLASHINGS_VECTOR, 0);
  // Set randao mix
  state.randaoMixes.set(nextEpoch % c.EPOCHS_PER_HISTORICAL_VECTOR, getRandaoMix(c, state, currentEpoch));
  // Set historical root accumulator: hash_tree_root(HistoricalBatch(block_roots, state_roots)), a two-field
  // container, is the hash of the two vector roots.
  if (nextEpoch % Math.floor(c.SLOTS_PER_HISTORICAL_ROOT / c.SLOTS_PER_EPOCH) === 0) {
    state.historicalRoots.push(digest2Bytes32(state.blockRoots.hashTreeRoot(), state.stateRoots.hashTreeRoot()));
  }
  // Rotate current/previous epoch attestations. The current list's view moves to the previous field (it is
  // referenced by that field only afterwards); the current field gets a new empty list.
  state.previousEpochAttestations = state.currentEpochAttestations;
  state.currentEpochAttestations = fields.currentEpochAttestations.defaultViewDU();
}
