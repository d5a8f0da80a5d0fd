import type { ProposerSlashing } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { getProposerSlashingSignatureSets } from "../signatureSets/index.js";
import { assert } from "../util/assert.js";
import { slashValidator } from "../util/mutators.js";
import { verifySignatureSet } from "../util/signature.js";
import { isSlashableValidator } from "../util/validator.js";

// process_proposer_slashing
export function processProposerSlashing(
  cached: CachedBeaconState,
  slashing: ProposerSlashing,
  verifySignatures = true,
): void {
  const { config: c, state, epochCtx } = cached;
  const header1 = slashing.signedHeader1.message;
  const header2 = slashing.signedHeader2.message;
  assert(header1.slot === header2.slot, "proposer slashing: headers for different slots");
  assert(header1.proposerIndex === header2.proposerIndex, "proposer slashing: headers from different proposers");
  assert(!c.types.SlashingBeaconBlockHeader.equals(header1, header2), "proposer slashing: headers are equal");
  assert(header1.proposerIndex < state.validators.length, `proposer slashing: unknown validator ${header1.proposerIndex}`);
  const proposer = state.validators.getReadonly(header1.proposerIndex);
  assert(isSlashableValidator(proposer, epochCtx.epoch), `proposer slashing: validator ${header1.proposerIndex} not slashable`);
  if (verifySignatures) {
    for (const set of getProposerSlashingSignatureSets(cached, slashing)) {
      assert(verifySignatureSet(set), "proposer slashing: invalid signature");
    }
  }
  slashValidator(cached, header1.proposerIndex);
}
