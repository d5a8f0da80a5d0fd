// Epoch processing (spec v0.12.3 process_epoch). beforeProcessEpoch reads the registry and the pending
// attestations once into flat per-validator arrays; each sub-step then works from that EpochProcess.
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { beforeProcessEpochSteps, type EpochProcess } from "./beforeProcessEpoch.js";
import { processFinalUpdates } from "./processFinalUpdates.js";
import { processJustificationAndFinalization } from "./processJustificationAndFinalization.js";
import { processRegistryUpdates } from "./processRegistryUpdates.js";
import { processRewardsAndPenalties } from "./processRewardsAndPenalties.js";
import { processSlashings } from "./processSlashings.js";
import { runToEnd } from "../util/steps.js";

export {
  beforeProcessEpoch,
  beforeProcessEpochSteps,
  FLAG_CURR_ACTIVE,
  FLAG_CURR_TARGET,
  FLAG_ELIGIBLE,
  FLAG_PREV_ACTIVE,
  FLAG_PREV_HEAD,
  FLAG_PREV_SOURCE,
  FLAG_PREV_TARGET,
  FLAG_SLASHED,
  type EpochProcess,
} from "./beforeProcessEpoch.js";
export {
  getAttestationComponentDeltas,
  getAttestationDeltas,
  getAttestationNetDeltas,
  type AttestationComponent,
  type AttestationComponentDeltas,
  type Deltas,
} from "./getAttestationDeltas.js";
export { processJustificationAndFinalization } from "./processJustificationAndFinalization.js";
export { processRewardsAndPenalties } from "./processRewardsAndPenalties.js";
export { processRegistryUpdates } from "./processRegistryUpdates.js";
export { processSlashings } from "./processSlashings.js";
export { processFinalUpdates } from "./processFinalUpdates.js";

// process_epoch. Called with state.slot at the last slot of the epoch; the caller then increments the slot and
// rotates the epoch context (epochCtx.afterProcessEpoch). Returns the epoch status it computed.
export function processEpoch(cached: CachedBeaconState): EpochProcess {
  return runToEnd(processEpochSteps(cached));
}

/**
 * process_epoch in steps, the generator stopping between the passes of beforeProcessEpoch, after the rewards and
 * penalties, and before the registry updates (at 100,000 validators the whole is ~60 ms with the rotation of the
 * epoch context after it; no step is over ~10 ms): a caller may let other work run there, and must not touch the
 * state until the generator is done.
 */
export function* processEpochSteps(cached: CachedBeaconState): Generator<void, EpochProcess, void> {
  const ep = yield* beforeProcessEpochSteps(cached);
  yield;
  processJustificationAndFinalization(cached, ep);
  processRewardsAndPenalties(cached, ep);
  yield;
  processRegistryUpdates(cached, ep);
  processSlashings(cached, ep);
  processFinalUpdates(cached, ep);
  // Leave the registry committed: readers of all values (getAllReadonlyValues, forEachValue), such as the epoch
  // context rotation that follows, only see committed data and throw on pending changes.
  cached.state.validators.commit();
  return ep;
}
