// <preset>/phase0/epoch_processing: one epoch sub-transition on a state prepared just before it.
import type { CaseFn, Runner } from "../harness.js";
import { stateCase, type CachedBeaconState, type StateTransitionModule } from "../stateUtils.js";

type EpochProcess = ReturnType<StateTransitionModule["beforeProcessEpoch"]>;

/** The per-epoch status is computed from the pre-state, as the full epoch transition would just before this step. */
function epochCase(
  process: (st: StateTransitionModule, cached: CachedBeaconState, ep: EpochProcess) => void,
): CaseFn {
  return stateCase((st, cached) => {
    process(st, cached, st.beforeProcessEpoch(cached));
  });
}

export const epochProcessingRunner: Runner = {
  handlers: {
    justification_and_finalization: epochCase((st, s, ep) => st.processJustificationAndFinalization(s, ep)),
    rewards_and_penalties: epochCase((st, s, ep) => st.processRewardsAndPenalties(s, ep)),
    registry_updates: epochCase((st, s, ep) => st.processRegistryUpdates(s, ep)),
    slashings: epochCase((st, s, ep) => st.processSlashings(s, ep)),
    final_updates: epochCase((st, s, ep) => st.processFinalUpdates(s, ep)),
  },
};
