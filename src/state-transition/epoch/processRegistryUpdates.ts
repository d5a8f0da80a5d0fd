import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { computeActivationExitEpoch } from "../util/epoch.js";
import { initiateValidatorExit } from "../util/mutators.js";
import type { EpochProcess } from "./beforeProcessEpoch.js";

// process_registry_updates
export function processRegistryUpdates(cached: CachedBeaconState, ep: EpochProcess): void {
  const { config: c, state, epochCtx } = cached;
  const currentEpoch = ep.currentEpoch;
  const validators = state.validators;

  // Activation eligibility and ejections. The spec handles both in one loop in index order; they touch different
  // fields, so two index-ordered loops give the same result (ejections keep their order in the exit queue).
  const eligibilityEpoch = currentEpoch + 1;
  const newlyEligible = new Set<number>();
  for (const i of ep.indicesEligibleForActivationQueue) {
    validators.get(i).activationEligibilityEpoch = eligibilityEpoch;
    newlyEligible.add(i);
  }
  for (const i of ep.indicesToEject) initiateValidatorExit(cached, i);

  // Activation queue: is_eligible_for_activation against the finalized checkpoint as it is now (after
  // justification), ordered by (activation_eligibility_epoch, index), dequeued up to the churn limit.
  const finalizedEpoch = state.finalizedCheckpoint.epoch;
  const queue: { index: number; eligibility: number }[] = [];
  for (const i of ep.indicesPendingActivation) {
    const eligibility = newlyEligible.has(i) ? eligibilityEpoch : ep.validators[i].activationEligibilityEpoch;
    if (eligibility <= finalizedEpoch) queue.push({ index: i, eligibility });
  }
  queue.sort((a, b) => a.eligibility - b.eligibility || a.index - b.index);
  const activationEpoch = computeActivationExitEpoch(c, currentEpoch);
  const count = Math.min(queue.length, epochCtx.churnLimit);
  for (let k = 0; k < count; k++) validators.get(queue[k].index).activationEpoch = activationEpoch;
}
