import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import type { EpochProcess } from "./beforeProcessEpoch.js";

// process_slashings
export function processSlashings(cached: CachedBeaconState, ep: EpochProcess): void {
  const { config: c, state } = cached;
  const epoch = ep.currentEpoch;
  const withdrawableEpoch = epoch + Math.floor(c.EPOCHS_PER_SLASHINGS_VECTOR / 2);
  // Only slashed validators are penalized; read their withdrawable epoch now (not from the start of the epoch).
  const toPenalize = ep.indicesSlashed.filter((i) => state.validators.getReadonly(i).withdrawableEpoch === withdrawableEpoch);
  if (toPenalize.length === 0) return;

  // The sum of the slashings vector and the products below can pass 2^53 on a large chain: BigInt, once per epoch
  // and per penalized validator.
  let sumSlashings = 0n;
  for (const s of state.slashings.getAll()) sumSlashings += BigInt(s);
  const totalBalance = ep.totalActiveBalance;
  const proportional = sumSlashings * BigInt(c.PROPORTIONAL_SLASHING_MULTIPLIER);
  const adjustedTotalSlashingBalance = proportional < totalBalance ? proportional : totalBalance;
  const increment = BigInt(c.EFFECTIVE_BALANCE_INCREMENT);

  for (const i of toPenalize) {
    // Factored out from the penalty numerator to avoid uint64 overflow, in the spec's integer order.
    const penaltyNumerator = (BigInt(ep.effectiveBalances[i]) / increment) * adjustedTotalSlashingBalance;
    const penalty = Number((penaltyNumerator / totalBalance) * increment);
    // decrease_balance
    const b = ep.balances[i];
    const nb = penalty > b ? 0 : b - penalty;
    ep.balances[i] = nb;
    state.balances.set(i, nb);
  }
}
