import type { ChainConfig } from "../../params/index.js";
import { FAR_FUTURE_EPOCH } from "../../params/index.js";

/** The validator fields the predicates read; both plain values and struct views satisfy it. */
export interface ValidatorLike {
  effectiveBalance: number;
  slashed: boolean;
  activationEligibilityEpoch: number;
  activationEpoch: number;
  exitEpoch: number;
  withdrawableEpoch: number;
}

// is_active_validator
export function isActiveValidator(v: ValidatorLike, epoch: number): boolean {
  return v.activationEpoch <= epoch && epoch < v.exitEpoch;
}

// is_eligible_for_activation_queue
export function isEligibleForActivationQueue(c: ChainConfig, v: ValidatorLike): boolean {
  return v.activationEligibilityEpoch === FAR_FUTURE_EPOCH && v.effectiveBalance === c.MAX_EFFECTIVE_BALANCE;
}

// is_eligible_for_activation
export function isEligibleForActivation(finalizedEpoch: number, v: ValidatorLike): boolean {
  return v.activationEligibilityEpoch <= finalizedEpoch && v.activationEpoch === FAR_FUTURE_EPOCH;
}

// is_slashable_validator
export function isSlashableValidator(v: ValidatorLike, epoch: number): boolean {
  return !v.slashed && v.activationEpoch <= epoch && epoch < v.withdrawableEpoch;
}

// get_validator_churn_limit, from the active validator count the epoch context already holds
export function getChurnLimit(c: ChainConfig, activeValidatorCount: number): number {
  return Math.max(c.MIN_PER_EPOCH_CHURN_LIMIT, Math.floor(activeValidatorCount / c.CHURN_LIMIT_QUOTIENT));
}
