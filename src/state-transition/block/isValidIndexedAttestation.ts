import type { IndexedAttestation, SlashingIndexedAttestation } from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { getIndexedAttestationSignatureSet } from "../signatureSets/index.js";
import { isValidIndexedAttestationIndices } from "../util/attestation.js";
import { verifySignatureSet } from "../util/signature.js";

// is_valid_indexed_attestation
export function isValidIndexedAttestation(
  cached: CachedBeaconState,
  indexed: IndexedAttestation | SlashingIndexedAttestation,
  verifySignatures = true,
): boolean {
  if (!isValidIndexedAttestationIndices(cached.state.validators.length, indexed.attestingIndices)) return false;
  if (!verifySignatures) return true;
  try {
    return verifySignatureSet(getIndexedAttestationSignatureSet(cached, indexed));
  } catch {
    // an attesting validator whose pubkey is not a valid point can't have signed
    return false;
  }
}
