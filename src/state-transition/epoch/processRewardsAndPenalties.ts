import { GENESIS_EPOCH } from "../../params/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import type { EpochProcess } from "./beforeProcessEpoch.js";
import { getAttestationNetDeltas } from "./getAttestationDeltas.js";

// process_rewards_and_penalties
export function processRewardsAndPenalties(cached: CachedBeaconState, ep: EpochProcess): void {
  // No rewards are applied at the end of GENESIS_EPOCH: rewards are for work done in the previous epoch.
  if (ep.currentEpoch === GENESIS_EPOCH) return;

  // increase_balance(rewards) then decrease_balance(penalties), which stops at zero: max(0, b + rewards - penalties)
  const net = getAttestationNetDeltas(cached, ep);
  const balances = ep.balances;
  const changed = new Uint32Array(ep.validatorCount);
  let changedCount = 0;
  for (let i = 0; i < ep.validatorCount; i++) {
    const d = net[i];
    if (d === 0) continue;
    const b = balances[i];
    const nb = b + d < 0 ? 0 : b + d;
    if (nb !== b) {
      balances[i] = nb;
      changed[changedCount++] = i;
    }
  }
  writeBalances(cached, ep, changed.subarray(0, changedCount));
}

/**
 * Stores the entries `changed` of ep.balances into the state. When a large share changed (the usual case after
 * rewards), building the packed list in one go is cheaper than one tree update per validator.
 */
export function writeBalances(cached: CachedBeaconState, ep: EpochProcess, changed: ArrayLike<number>): void {
  if (changed.length === 0) return;
  const { state } = cached;
  const balances = ep.balances;
  if (changed.length * 4 >= balances.length) {
    state.balances = cached.config.types.BeaconState.fields.balances.toViewDU(balances);
    return;
  }
  const view = state.balances;
  for (let k = 0; k < changed.length; k++) view.set(changed[k], balances[changed[k]]);
}
