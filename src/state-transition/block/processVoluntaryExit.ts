import { FAR_FUTURE_EPOCH } from "../../params/index.js";
import type { SignedVoluntaryExit } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { getVoluntaryExitSignatureSet } from "../signatureSets/index.js";
import { assert } from "../util/assert.js";
import { initiateValidatorExit } from "../util/mutators.js";
import { verifySignatureSet } from "../util/signature.js";
import { isActiveValidator } from "../util/validator.js";

// process_voluntary_exit
export function processVoluntaryExit(
  cached: CachedBeaconState,
  signedExit: SignedVoluntaryExit,
  verifySignatures = true,
): void {
  const { config: c, state, epochCtx } = cached;
  const exit = signedExit.message;
  const currentEpoch = epochCtx.epoch;
  assert(exit.validatorIndex < state.validators.length, `voluntary exit: unknown validator ${exit.validatorIndex}`);
  const validator = state.validators.getReadonly(exit.validatorIndex);
  assert(isActiveValidator(validator, currentEpoch), "voluntary exit: validator not active");
  assert(validator.exitEpoch === FAR_FUTURE_EPOCH, "voluntary exit: validator already exiting");
  assert(currentEpoch >= exit.epoch, "voluntary exit: epoch in the future");
  assert(
    currentEpoch >= validator.activationEpoch + c.SHARD_COMMITTEE_PERIOD,
    "voluntary exit: validator not active long enough",
  );
  if (verifySignatures) {
    assert(verifySignatureSet(getVoluntaryExitSignatureSet(cached, signedExit)), "voluntary exit: invalid signature");
  }
  initiateValidatorExit(cached, exit.validatorIndex);
}
