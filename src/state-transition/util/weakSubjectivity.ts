// weak-subjectivity.md (v0.12.3): how old a trusted checkpoint may be before an attacker who has since withdrawn
// a third of the stake could have finalized a conflicting chain without being slashed enough.
import type { ChainConfig } from "../../params/index.js";

/** SAFETY_DECAY: the largest tolerated loss (in %) of FFG's one-third safety margin. */
export const SAFETY_DECAY = 10;

/** compute_weak_subjectivity_period, from the active validator count of the state's current epoch (uint64 maths). */
export function computeWeakSubjectivityPeriod(c: ChainConfig, activeValidatorCount: number): number {
  let period = c.MIN_VALIDATOR_WITHDRAWABILITY_DELAY;
  if (activeValidatorCount >= c.MIN_PER_EPOCH_CHURN_LIMIT * c.CHURN_LIMIT_QUOTIENT) {
    period += Math.floor((SAFETY_DECAY * c.CHURN_LIMIT_QUOTIENT) / (2 * 100));
  } else {
    period += Math.floor((SAFETY_DECAY * activeValidatorCount) / (2 * 100 * c.MIN_PER_EPOCH_CHURN_LIMIT));
  }
  return period;
}

/** is_within_weak_subjectivity_period, with the checkpoint state's epoch and the clock's epoch given. */
export function isWithinWeakSubjectivityPeriod(wsStateEpoch: number, wsPeriod: number, currentEpoch: number): boolean {
  return currentEpoch <= wsStateEpoch + wsPeriod;
}
