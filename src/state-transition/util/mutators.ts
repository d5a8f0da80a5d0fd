import { FAR_FUTURE_EPOCH } from "../../params/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { decreaseBalance, increaseBalance } from "./balance.js";

// initiate_validator_exit. The exit queue (max exit epoch and its churn) is kept in the epoch context instead of
// scanning the whole registry per exit.
export function initiateValidatorExit(cached: CachedBeaconState, index: number): void {
  const { config: c, state, epochCtx } = cached;
  const validator = state.validators.get(index);
  if (validator.exitEpoch !== FAR_FUTURE_EPOCH) return;
  const exitQueueEpoch = epochCtx.assignExitEpoch();
  validator.exitEpoch = exitQueueEpoch;
  validator.withdrawableEpoch = exitQueueEpoch + c.MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
}

// slash_validator
export function slashValidator(cached: CachedBeaconState, slashedIndex: number, whistleblowerIndex?: number): void {
  const { config: c, state, epochCtx } = cached;
  const epoch = epochCtx.epoch;
  initiateValidatorExit(cached, slashedIndex);
  const validator = state.validators.get(slashedIndex);
  validator.slashed = true;
  validator.withdrawableEpoch = Math.max(validator.withdrawableEpoch, epoch + c.EPOCHS_PER_SLASHINGS_VECTOR);
  const effectiveBalance = validator.effectiveBalance;
  const slashingsIndex = epoch % c.EPOCHS_PER_SLASHINGS_VECTOR;
  state.slashings.set(slashingsIndex, state.slashings.get(slashingsIndex) + effectiveBalance);
  decreaseBalance(state, slashedIndex, Math.floor(effectiveBalance / c.MIN_SLASHING_PENALTY_QUOTIENT));

  const proposerIndex = epochCtx.getBeaconProposer(state.slot);
  const whistleblower = whistleblowerIndex ?? proposerIndex;
  const whistleblowerReward = Math.floor(effectiveBalance / c.WHISTLEBLOWER_REWARD_QUOTIENT);
  const proposerReward = Math.floor(whistleblowerReward / c.PROPOSER_REWARD_QUOTIENT);
  increaseBalance(state, proposerIndex, proposerReward);
  increaseBalance(state, whistleblower, whistleblowerReward - proposerReward);
}
