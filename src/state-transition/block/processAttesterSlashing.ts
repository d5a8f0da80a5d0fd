import type { AttesterSlashing } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { assert } from "../util/assert.js";
import { isSlashableAttestationData } from "../util/attestation.js";
import { slashValidator } from "../util/mutators.js";
import { isSlashableValidator } from "../util/validator.js";
import { isValidIndexedAttestation } from "./isValidIndexedAttestation.js";

// process_attester_slashing
export function processAttesterSlashing(
  cached: CachedBeaconState,
  slashing: AttesterSlashing,
  verifySignatures = true,
): void {
  const { config: c, state, epochCtx } = cached;
  const a1 = slashing.attestation1;
  const a2 = slashing.attestation2;
  assert(isSlashableAttestationData(c, a1.data, a2.data), "attester slashing: attestation data not slashable");
  assert(isValidIndexedAttestation(cached, a1, verifySignatures), "attester slashing: attestation 1 invalid");
  assert(isValidIndexedAttestation(cached, a2, verifySignatures), "attester slashing: attestation 2 invalid");

  const in2 = new Set(a2.attestingIndices);
  const indices = a1.attestingIndices.filter((i) => in2.has(i)).sort((a, b) => a - b);
  let slashedAny = false;
  for (const index of indices) {
    if (isSlashableValidator(state.validators.getReadonly(index), epochCtx.epoch)) {
      slashValidator(cached, index);
      slashedAny = true;
    }
  }
  assert(slashedAny, "attester slashing: no validator slashed");
}
