// Every signature a block carries, as sets the caller can batch-verify (one multi-pairing for the whole block).
// Deposits are not here: an invalid deposit signature skips the deposit instead of invalidating the block.
import type { IndexedSignatureSet, PublicKey, SignatureSet } from "../../crypto/bls.js";
import { primitive } from "../../types/index.js";
import type {
  Attestation,
  AttesterSlashing,
  IndexedAttestation,
  ProposerSlashing,
  SlashingIndexedAttestation,
  SignedBeaconBlock,
  SignedVoluntaryExit,
} from "../../types/index.js";
import type { CachedBeaconState } from "../cache/cachedBeaconState.js";
import { computeSigningRoot, getDomain } from "../util/domain.js";
import { computeEpochAtSlot, computeEpochAtSlotBn } from "../util/epoch.js";
import { getAttestingIndices } from "../util/attestation.js";

export class InvalidPubkeyError extends Error {}

function pubkeyOf(cached: CachedBeaconState, index: number): PublicKey {
  if (index >= cached.state.validators.length) throw new Error(`validator index ${index} out of range`);
  const pk = cached.epochCtx.pubkeyCache.getPubkey(index);
  if (!pk) throw new InvalidPubkeyError(`validator ${index} has an invalid public key`);
  return pk;
}

// verify_block_signature; `blockRoot`, when the caller has hashed the block already, saves hashing it again
export function getProposerSignatureSet(cached: CachedBeaconState, signedBlock: SignedBeaconBlock, blockRoot?: Uint8Array): SignatureSet {
  const { config: c, state } = cached;
  const block = signedBlock.message;
  const domain = getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, computeEpochAtSlot(c, block.slot));
  return {
    pubkey: pubkeyOf(cached, block.proposerIndex),
    signingRoot: blockRoot
      ? c.types.SigningData.hashTreeRoot({ objectRoot: blockRoot, domain })
      : computeSigningRoot(c, c.types.BeaconBlock, block, domain),
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
    const domain = getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, computeEpochAtSlotBn(c, signedHeader.message.slot));
    return {
      pubkey,
      signingRoot: computeSigningRoot(c, c.types.SlashingBeaconBlockHeader, signedHeader.message, domain),
      signature: signedHeader.signature,
    };
  });
}

// the signature check of is_valid_indexed_attestation (FastAggregateVerify: the verifier aggregates the keys); a
// slashing's attestation holds its data exactly (bigint), one built from an Attestation as numbers: the same root
export function getIndexedAttestationSignatureSet(
  cached: CachedBeaconState,
  indexed: IndexedAttestation | SlashingIndexedAttestation,
  domain?: Uint8Array,
): IndexedSignatureSet {
  const { config: c, state } = cached;
  const data = indexed.data;
  const dataRoot =
    typeof data.slot === "bigint"
      ? c.types.SlashingAttestationData.hashTreeRoot(data as SlashingIndexedAttestation["data"])
      : c.types.AttestationData.hashTreeRoot(data as IndexedAttestation["data"]);
  return {
    pubkeys: cached.epochCtx.pubkeyCache,
    indices: checkedIndices(cached, indexed.attestingIndices),
    signingRoot: c.types.SigningData.hashTreeRoot({
      objectRoot: dataRoot,
      domain: domain ?? getDomain(c, state, c.DOMAIN_BEACON_ATTESTER, data.target.epoch),
    }),
    signature: indexed.signature,
  };
}

/**
 * The signature set of an attestation of a block: that of get_indexed_attestation(state, attestation), with the
 * attesters in committee order (the aggregate does not depend on the order, so the indices need no sorting; their
 * validity is the committee's).
 */
export function getAttestationSignatureSet(cached: CachedBeaconState, attestation: Attestation, domain?: Uint8Array): IndexedSignatureSet {
  const { config: c, state } = cached;
  const data = attestation.data;
  return {
    pubkeys: cached.epochCtx.pubkeyCache,
    indices: checkedIndices(cached, getAttestingIndices(cached.epochCtx, data, attestation.aggregationBits)),
    signingRoot: computeSigningRoot(
      c,
      c.types.AttestationData,
      data,
      domain ?? getDomain(c, state, c.DOMAIN_BEACON_ATTESTER, data.target.epoch),
    ),
    signature: attestation.signature,
  };
}

/**
 * Signers of an aggregate, checked against this state's registry. Their keys are not looked up here: the verifier
 * aggregates them (an invalid key makes the set invalid there).
 */
function checkedIndices<T extends ArrayLike<number>>(cached: CachedBeaconState, indices: T): T {
  if (indices.length === 0) throw new Error("aggregate of zero public keys");
  const validatorCount = cached.state.validators.length;
  for (let k = 0; k < indices.length; k++) {
    if (!(indices[k] < validatorCount)) throw new Error(`validator index ${indices[k]} out of range`);
  }
  return indices;
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
 * process_block. Attestation committees come from the epoch context, and attestations name their signers by index
 * (the verifier aggregates their keys), so this is cheap: signing roots and committee lookups.
 */
export interface BlockSignatureSetOptions {
  skipProposerSignature?: boolean;
  /** attestations whose identical signature set was verified already (on gossip): left out */
  skipAttestation?: (attestation: Attestation) => boolean;
}

export function getBlockSignatureSets(cached: CachedBeaconState, signedBlock: SignedBeaconBlock, opts: BlockSignatureSetOptions = {}): SignatureSet[] {
  return Array.from(iterateBlockSignatureSets(cached, signedBlock, opts));
}

/** getBlockSignatureSets one set at a time, so a caller can start verifying the first sets while the rest are built. */
export function* iterateBlockSignatureSets(cached: CachedBeaconState, signedBlock: SignedBeaconBlock, opts: BlockSignatureSetOptions = {}): Generator<SignatureSet> {
  const block = signedBlock.message;
  const body = block.body;
  if (!opts.skipProposerSignature) yield getProposerSignatureSet(cached, signedBlock);
  yield getRandaoRevealSignatureSet(cached, body.randaoReveal);
  for (const ps of body.proposerSlashings) yield* getProposerSlashingSignatureSets(cached, ps);
  for (const as of body.attesterSlashings) yield* getAttesterSlashingSignatureSets(cached, as);
  // One domain per target epoch (at most two in a block) instead of one fork-data hash per attestation.
  const domains = new Map<number, Uint8Array>();
  for (const att of body.attestations) {
    if (opts.skipAttestation?.(att)) continue;
    const epoch = att.data.target.epoch;
    let domain = domains.get(epoch);
    if (domain === undefined) {
      domain = getDomain(cached.config, cached.state, cached.config.DOMAIN_BEACON_ATTESTER, epoch);
      domains.set(epoch, domain);
    }
    yield getAttestationSignatureSet(cached, att, domain);
  }
  for (const exit of body.voluntaryExits) yield getVoluntaryExitSignatureSet(cached, exit);
}
