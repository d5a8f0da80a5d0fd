// Checks on attestations and aggregates that arrive outside blocks (the API now, gossip later), after the phase 0
// gossip rules of p2p-interface.md (beacon_attestation_{subnet_id}, beacon_aggregate_and_proof). Signature sets
// are returned, not verified, so a caller can verify a whole request in one batch.
import { isAggregator } from "../../state-transition/util/aggregator.js";
import type { PublicKey, SignatureSet } from "../../crypto/bls.js";
import type { CachedBeaconState } from "../../state-transition/index.js";
import { getAttestationSignatureSet } from "../../state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../state-transition/util/domain.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import { toHex } from "../../util/bytes.js";
import { primitive, type Attestation, type SignedAggregateAndProof } from "../../types/index.js";
import type { BeaconChain } from "../chain.js";
import { ATTESTATION_PROPAGATION_SLOT_RANGE } from "../../params/index.js";

export { ATTESTATION_PROPAGATION_SLOT_RANGE };

/** An operation that breaks a rule; the message says which (one line). */
export class OpValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OpValidationError";
  }
}

export interface CheckedAttestation {
  /** a state whose epoch context has the committees of the attestation's epoch, on the attestation's chain */
  state: CachedBeaconState;
  committee: Uint32Array;
  dataRoot: string;
}

/**
 * The checks an attestation or aggregate shares: slot window, target epoch and root, the block voted for known
 * and descending from finality, committee index and bitfield length. Returns the state to verify it against.
 */
export async function checkAttestation(chain: BeaconChain, att: Attestation, currentSlot: number): Promise<CheckedAttestation> {
  const c = chain.config;
  const fc = chain.forkChoice;
  const data = att.data;
  const epoch = computeEpochAtSlot(c, data.slot);
  if (data.target.epoch !== epoch) {
    throw new OpValidationError(`target epoch ${data.target.epoch} is not the epoch of slot ${data.slot} (${epoch})`);
  }
  // one slot of clock disparity either way
  if (data.slot > currentSlot + 1) throw new OpValidationError(`slot ${data.slot} is in the future (current slot ${currentSlot})`);
  if (data.slot + ATTESTATION_PROPAGATION_SLOT_RANGE + 1 < currentSlot) {
    throw new OpValidationError(`slot ${data.slot} is more than ${ATTESTATION_PROPAGATION_SLOT_RANGE} slots old (current slot ${currentSlot})`);
  }
  if (att.aggregationBits.getTrueBitIndexes().length === 0) throw new OpValidationError("aggregation_bits has no bit set");
  const blockRoot = toHex(data.beaconBlockRoot);
  const block = fc.getBlock(blockRoot);
  if (!block) throw new OpValidationError(`unknown beacon_block_root ${blockRoot}`);
  if (block.slot > data.slot) throw new OpValidationError(`beacon_block_root is a block of slot ${block.slot}, after the attestation's slot ${data.slot}`);
  const targetRoot = toHex(data.target.root);
  const expectedTarget = fc.getAncestor(blockRoot, computeStartSlotAtEpoch(c, epoch));
  if (expectedTarget !== targetRoot) {
    throw new OpValidationError(`target root ${targetRoot} is not the epoch ${epoch} checkpoint of beacon_block_root (${expectedTarget ?? "unknown"})`);
  }
  const finalized = fc.getFinalizedCheckpoint();
  if (!fc.isDescendant(finalized.root, blockRoot)) throw new OpValidationError("beacon_block_root does not descend from the finalized checkpoint");

  const state = await stateForTarget(chain, epoch, targetRoot);
  const committeeCount = state.epochCtx.getCommitteeCountPerSlot(epoch);
  if (data.index >= committeeCount) throw new OpValidationError(`committee index ${data.index} >= committees per slot ${committeeCount}`);
  const committee = state.epochCtx.getBeaconCommittee(data.slot, data.index);
  if (att.aggregationBits.bitLen !== committee.length) {
    throw new OpValidationError(`aggregation_bits length ${att.aggregationBits.bitLen} != committee size ${committee.length}`);
  }
  return { state, committee, dataRoot: toHex(c.types.AttestationData.hashTreeRoot(data)) };
}

/**
 * The head state when the target is on the head's chain and its shuffling is one the head state holds (the
 * shuffling of an epoch is fixed one epoch ahead, so it is the same); otherwise the target checkpoint's state.
 */
async function stateForTarget(chain: BeaconChain, epoch: number, targetRoot: string): Promise<CachedBeaconState> {
  const head = await chain.getHeadState("api");
  if (chain.forkChoice.isDescendant(targetRoot, chain.headRoot)) {
    const e = head.epochCtx.epoch;
    if (epoch >= e - 1 && epoch <= e + 1) return head;
  }
  return chain.regen.getCheckpointState(epoch, targetRoot, "api");
}

/** The attestation's signature set (FastAggregateVerify over its attesters, as one aggregated key). */
export function attestationSignatureSet(state: CachedBeaconState, att: Attestation): SignatureSet {
  try {
    return getAttestationSignatureSet(state, att);
  } catch (e) {
    throw new OpValidationError(`cannot check the signature: ${(e as Error).message}`);
  }
}


/** The checks of an aggregate that are not signatures, and its three signature sets (selection proof, aggregator, aggregate). */
export async function checkAggregateAndProof(
  chain: BeaconChain,
  signed: SignedAggregateAndProof,
  currentSlot: number,
): Promise<CheckedAttestation & { sets: SignatureSet[] }> {
  const c = chain.config;
  const { aggregatorIndex, aggregate, selectionProof } = signed.message;
  const checked = await checkAttestation(chain, aggregate, currentSlot);
  const { state, committee } = checked;
  if (!committee.includes(aggregatorIndex)) {
    throw new OpValidationError(`aggregator ${aggregatorIndex} is not in committee ${aggregate.data.index} of slot ${aggregate.data.slot}`);
  }
  if (!isAggregator(c, committee.length, selectionProof)) {
    throw new OpValidationError(`validator ${aggregatorIndex} is not an aggregator for slot ${aggregate.data.slot} (selection_proof)`);
  }
  const slot = aggregate.data.slot;
  const epoch = computeEpochAtSlot(c, slot);
  const pubkey = pubkeyOf(state, aggregatorIndex);
  const sets: SignatureSet[] = [
    {
      pubkey,
      signingRoot: computeSigningRoot(c, primitive.Slot, slot, getDomain(c, state.state, c.DOMAIN_SELECTION_PROOF, epoch)),
      signature: selectionProof,
    },
    {
      pubkey,
      signingRoot: computeSigningRoot(c, c.types.AggregateAndProof, signed.message, getDomain(c, state.state, c.DOMAIN_AGGREGATE_AND_PROOF, epoch)),
      signature: signed.signature,
    },
    attestationSignatureSet(state, aggregate),
  ];
  return { ...checked, sets };
}

function pubkeyOf(state: CachedBeaconState, index: number): PublicKey {
  if (index >= state.state.validators.length) throw new OpValidationError(`unknown validator ${index}`);
  const pk = state.epochCtx.pubkeyCache.getPubkey(index);
  if (!pk) throw new OpValidationError(`validator ${index} has an invalid public key`);
  return pk;
}

export { isAggregator };
