import { GENESIS_EPOCH } from "../../params/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import type { EpochProcess } from "./beforeProcessEpoch.js";
import { getAttestationDeltas } from "./getAttestationDeltas.js";

// process_rewards_and_penalties
export function processRewardsAndPenalties(cached: CachedBeaconState, ep: EpochProcess): void {
  // No rewards are applied at the end of GENESIS_EPOCH: rewards are for work done in the previous epoch.
  if (ep.currentEpoch === GENESIS_EPOCH) return;

  const { rewards, penalties } = getAttestationDeltas(cached, ep);
  const balances = ep.balances;
  const changed: number[] = [];
  for (let i = 0; i < ep.validatorCount; i++) {
    const r = rewards[i];
    const p = penalties[i];
    if (r === 0 && p === 0) continue;
    // increase_balance, then decrease_balance (which stops at zero)
    const increased = balances[i] + r;
    const b = p > increased ? 0 : increased - p;
    if (b !== balances[i]) {
      balances[i] = b;
      changed.push(i);
    }
  }
  writeBalances(cached, ep, changed);
}

/**
 * Stores the entries `changed` of ep.balances into the state. When a large share changed (the usual case after
 * rewards), building the packed list in one go is cheaper than one tree update per validator.
 */
export function writeBalances(cached: CachedBeaconState, ep: EpochProcess, changed: number[]): void {
  if (changed.length === 0) return;
  const { state } = cached;
  const balances = ep.balances;
  if (changed.length * 4 >= balances.length) {
    state.balances = cached.config.types.BeaconState.fields.balances.toViewDU(balances);
    return;
  }
  const view = state.balances;
  for (const i of changed) view.set(i, balances[i]);
}
