// Every signature a block carries, as sets the caller can batch-verify (one multi-pairing for the whole block).
// Deposits are not here: an invalid deposit signature skips the deposit instead of invalidating the block.
import { aggregatePublicKeys, type PublicKey, type SignatureSet } from "../../crypto/bls.js";
import { primitive } from "../../types/index.js";
import type {
  AttesterSlashing,
  IndexedAttestation,
  ProposerSlashing,
  SignedBeaconBlock,
  SignedVoluntaryExit,
} from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { computeSigningRoot, getDomain } from "../util/domain.js";
import { computeEpochAtSlot } from "../util/epoch.js";
import { getIndexedAttestation } from "../util/attestation.js";

export class InvalidPubkeyError extends Error {}

function pubkeyOf(cached: CachedBeaconState, index: number): PublicKey {
  if (index >= cached.state.validators.length) throw new Error(`validator index ${index} out of range`);
  const pk = cached.epochCtx.pubkeyCache.getPubkey(index);
  if (!pk) throw new InvalidPubkeyError(`validator ${index} has an invalid public key`);
  return pk;
}

// verify_block_signature
export function getProposerSignatureSet(cached: CachedBeaconState, signedBlock: SignedBeaconBlock): SignatureSet {
  const { config: c, state } = cached;
  const block = signedBlock.message;
  const domain = getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, computeEpochAtSlot(c, block.slot));
  return {
    pubkey: pubkeyOf(cached, block.proposerIndex),
    signingRoot: computeSigningRoot(c, c.types.BeaconBlock, block, domain),
    signature: signedBlock.signature,
  };
}

// the signature check of process_randao
export function getRandaoRevealSignatureSet(cached: CachedBeaconState, randaoReveal: Uint8Array): SignatureSet {
  const { config: c, state, epochCtx } = cached;
  const epoch = epochCtx.epoch;
  const domain = getDomain(c, state, c.DOMAIN_RANDAO, epoch);
  return {
    pubkey: pubkeyOf(cached, epochCtx.getBeaconProposer(state.slot)),
    signingRoot: computeSigningRoot(c, primitive.Epoch, epoch, domain),
    signature: randaoReveal,
  };
}

// the signature checks of process_proposer_slashing
export function getProposerSlashingSignatureSets(cached: CachedBeaconState, slashing: ProposerSlashing): SignatureSet[] {
  const { config: c, state } = cached;
  const pubkey = pubkeyOf(cached, slashing.signedHeader1.message.proposerIndex);
  return [slashing.signedHeader1, slashing.signedHeader2].map((signedHeader) => {
    const domain = getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, computeEpochAtSlot(c, signedHeader.message.slot));
    return {
      pubkey,
      signingRoot: computeSigningRoot(c, c.types.BeaconBlockHeader, signedHeader.message, domain),
      signature: signedHeader.signature,
    };
  });
}

// the signature check of is_valid_indexed_attestation (FastAggregateVerify as one aggregated pubkey)
export function getIndexedAttestationSignatureSet(cached: CachedBeaconState, indexed: IndexedAttestation): SignatureSet {
  const { config: c, state } = cached;
  const domain = getDomain(c, state, c.DOMAIN_BEACON_ATTESTER, indexed.data.target.epoch);
  const pubkeys = indexed.attestingIndices.map((i) => pubkeyOf(cached, i));
  return {
    pubkey: pubkeys.length === 1 ? pubkeys[0] : aggregatePublicKeys(pubkeys),
    signingRoot: computeSigningRoot(c, c.types.AttestationData, indexed.data, domain),
    signature: indexed.signature,
  };
}

export function getAttesterSlashingSignatureSets(cached: CachedBeaconState, slashing: AttesterSlashing): SignatureSet[] {
  return [slashing.attestation1, slashing.attestation2].map((a) => getIndexedAttestationSignatureSet(cached, a));
}

// the signature check of process_voluntary_exit
export function getVoluntaryExitSignatureSet(cached: CachedBeaconState, signedExit: SignedVoluntaryExit): SignatureSet {
  const { config: c, state } = cached;
  const domain = getDomain(c, state, c.DOMAIN_VOLUNTARY_EXIT, signedExit.message.epoch);
  return {
    pubkey: pubkeyOf(cached, signedExit.message.validatorIndex),
    signingRoot: computeSigningRoot(c, c.types.VoluntaryExit, signedExit.message, domain),
    signature: signedExit.signature,
  };
}

/**
 * All signature sets of a block, computed on the state after process_slots to the block's slot and before
 * process_block. Attestation committees come from the epoch context, so this is cheap besides the pubkey aggregation.
 */
export function getBlockSignatureSets(
  cached: CachedBeaconState,
  signedBlock: SignedBeaconBlock,
  opts: { skipProposerSignature?: boolean } = {},
): SignatureSet[] {
  const block = signedBlock.message;
  const body = block.body;
  const sets: SignatureSet[] = [];
  if (!opts.skipProposerSignature) sets.push(getProposerSignatureSet(cached, signedBlock));
  sets.push(getRandaoRevealSignatureSet(cached, body.randaoReveal));
  for (const ps of body.proposerSlashings) sets.push(...getProposerSlashingSignatureSets(cached, ps));
  for (const as of body.attesterSlashings) sets.push(...getAttesterSlashingSignatureSets(cached, as));
  for (const att of body.attestations) {
    sets.push(getIndexedAttestationSignatureSet(cached, getIndexedAttestation(cached.epochCtx, att)));
  }
  for (const exit of body.voluntaryExits) sets.push(getVoluntaryExitSignatureSet(cached, exit));
  return sets;
}
