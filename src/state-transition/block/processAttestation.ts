import type { Attestation, Checkpoint } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { assert } from "../util/assert.js";
import { getIndexedAttestation } from "../util/attestation.js";
import { computeEpochAtSlot, getPreviousEpoch } from "../util/epoch.js";
import { bytesEqual } from "../../util/bytes.js";
import { isValidIndexedAttestation } from "./isValidIndexedAttestation.js";

function checkpointEquals(a: Checkpoint, b: Checkpoint): boolean {
  return a.epoch === b.epoch && bytesEqual(a.root, b.root);
}

/**
 * Every check of process_attestation that does not need the signature, without changing the state. Block
 * production uses it to pick includable attestations; processAttestation runs it first.
 */
export function validateAttestation(cached: CachedBeaconState, attestation: Attestation): void {
  const { config: c, state, epochCtx } = cached;
  const data = attestation.data;
  const currentEpoch = epochCtx.epoch;
  const previousEpoch = getPreviousEpoch(c, state);
  assert(
    data.target.epoch === previousEpoch || data.target.epoch === currentEpoch,
    `attestation target epoch ${data.target.epoch} is neither the previous nor the current epoch`,
  );
  assert(data.target.epoch === computeEpochAtSlot(c, data.slot), "attestation target epoch does not match its slot");
  assert(
    data.slot + c.MIN_ATTESTATION_INCLUSION_DELAY <= state.slot && state.slot <= data.slot + c.SLOTS_PER_EPOCH,
    `attestation slot ${data.slot} outside the inclusion window at slot ${state.slot}`,
  );
  const committeeCount = epochCtx.getCommitteeCountPerSlot(data.target.epoch);
  assert(data.index < committeeCount, `attestation committee index ${data.index} >= ${committeeCount}`);
  const committee = epochCtx.getBeaconCommittee(data.slot, data.index);
  assert(
    attestation.aggregationBits.bitLen === committee.length,
    `aggregation bits length ${attestation.aggregationBits.bitLen} != committee size ${committee.length}`,
  );
  const justified = data.target.epoch === currentEpoch ? state.currentJustifiedCheckpoint : state.previousJustifiedCheckpoint;
  assert(
    checkpointEquals(data.source, justified),
    `attestation source != ${data.target.epoch === currentEpoch ? "current" : "previous"} justified checkpoint`,
  );
  assert(attestation.aggregationBits.getTrueBitIndexes().length > 0, "attestation has no participants");
}

// process_attestation
export function processAttestation(cached: CachedBeaconState, attestation: Attestation, verifySignatures = true): void {
  const { config: c, state, epochCtx } = cached;
  const data = attestation.data;
  validateAttestation(cached, attestation);
  const pending = c.types.PendingAttestation.toViewDU({
    data,
    aggregationBits: attestation.aggregationBits,
    inclusionDelay: state.slot - data.slot,
    proposerIndex: epochCtx.getBeaconProposer(state.slot),
  });
  if (data.target.epoch === epochCtx.epoch) state.currentEpochAttestations.push(pending);
  else state.previousEpochAttestations.push(pending);

  // is_valid_indexed_attestation(get_indexed_attestation(...)). Its index checks cannot fail here: the attesting
  // indices are members of a committee, i.e. distinct active validators, sorted by get_indexed_attestation, and
  // not empty (checked above). So without the signature there is nothing left to check.
  if (!verifySignatures) return;
  assert(
    isValidIndexedAttestation(cached, getIndexedAttestation(epochCtx, attestation), verifySignatures),
    "attestation has an invalid indexed attestation",
  );
}
