import type { BitArray } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../config/index.js";
import type { Attestation, AttestationData, IndexedAttestation, SlashingAttestationData } from "../../types/index.js";
import type { EpochContext } from "../cache/epochContext.js";

// is_slashable_attestation_data (on a slashing's attestation data: any uint64, held exactly)
export function isSlashableAttestationData(c: BeaconConfig, data1: SlashingAttestationData, data2: SlashingAttestationData): boolean {
  const t = c.types.SlashingAttestationData;
  // double vote
  if (!t.equals(data1, data2) && data1.target.epoch === data2.target.epoch) return true;
  // surround vote
  return data1.source.epoch < data2.source.epoch && data2.target.epoch < data1.target.epoch;
}

// get_attesting_indices, in committee order (the spec returns a set; callers sort where order matters)
export function getAttestingIndices(epochCtx: EpochContext, data: AttestationData, bits: BitArray): number[] {
  const committee = epochCtx.getBeaconCommittee(data.slot, data.index);
  if (bits.bitLen !== committee.length) {
    throw new Error(`aggregation bits length ${bits.bitLen} != committee size ${committee.length}`);
  }
  const bytes = bits.uint8Array;
  const out: number[] = [];
  for (let i = 0; i < committee.length; i++) if ((bytes[i >>> 3] >>> (i & 7)) & 1) out.push(committee[i]);
  return out;
}

// get_indexed_attestation
export function getIndexedAttestation(epochCtx: EpochContext, attestation: Attestation): IndexedAttestation {
  // sorted as numbers by the typed array's own sort (no comparator calls)
  const indices = Uint32Array.from(getAttestingIndices(epochCtx, attestation.data, attestation.aggregationBits)).sort();
  return { attestingIndices: Array.from(indices), data: attestation.data, signature: attestation.signature };
}

/** The structural half of is_valid_indexed_attestation: non-empty, sorted, unique, known validators. */
export function isValidIndexedAttestationIndices(validatorCount: number, indices: number[]): boolean {
  if (indices.length === 0) return false;
  for (let i = 0; i < indices.length; i++) {
    if (i > 0 && indices[i] <= indices[i - 1]) return false;
    if (indices[i] >= validatorCount) return false;
  }
  return true;
}
