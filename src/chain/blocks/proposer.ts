// Stage 2: the proposer. The shuffling of the block's epoch on its own branch decides who may propose; the state
// that carries it (the parent's post-state, or the parent's checkpoint state when the block opens an epoch) is kept
// on the block as the base of its pre-state, so the import does not ask regen for it again.
import type { BeaconConfig } from "../../config/index.js";
import { getProposerSignatureSet, type CachedBeaconState } from "../../state-transition/index.js";
import { computeEpochAtSlot } from "../../state-transition/util/epoch.js";
import type { BlsVerifier } from "../bls/interface.js";
import type { QueuedStateRegenerator, RegenCaller } from "../regen/queued.js";
import { BlockError } from "./errors.js";
import type { GossipVerifiedBlock, SaneBlock } from "./types.js";

export interface ProposerContext {
  config: BeaconConfig;
  regen: QueuedStateRegenerator;
  bls: BlsVerifier;
}

/** The state whose epoch context has the proposers of `slot` on the branch of `parentRoot`. */
export async function getProposerShufflingState(
  ctx: ProposerContext,
  parentRoot: string,
  slot: number,
  caller: RegenCaller,
): Promise<CachedBeaconState> {
  const c = ctx.config;
  const epoch = computeEpochAtSlot(c, slot);
  const parentState = await ctx.regen.getBlockState(parentRoot, caller);
  return computeEpochAtSlot(c, parentState.state.slot) < epoch ? ctx.regen.getCheckpointState(epoch, parentRoot, caller) : parentState;
}

/**
 * Proposer index against the shuffling, then (with `verifySignature`) the proposer signature alone: one pairing
 * before any state transition, so a forged block costs a sender one signature check of ours, not an import.
 */
export async function verifyProposer(ctx: ProposerContext, sane: SaneBlock, opts: { verifySignature: boolean }): Promise<GossipVerifiedBlock> {
  const block = sane.signed.message;
  let state: CachedBeaconState;
  try {
    state = await getProposerShufflingState(ctx, sane.parentRoot, block.slot, "importBlock");
  } catch (e) {
    throw new BlockError({ code: "REGEN_FAILED", root: sane.root, reason: (e as Error).message });
  }
  checkProposerIndex(state, block.slot, block.proposerIndex);
  const verify = opts.verifySignature && sane.verifySignatures;
  if (verify) await verifyProposerSignature(ctx.bls, state, sane);
  return { ...sane, proposerState: state, proposerSignatureVerified: verify };
}

export function checkProposerIndex(state: CachedBeaconState, slot: number, proposerIndex: number): void {
  const validatorCount = state.state.validators.length;
  if (proposerIndex >= validatorCount) throw new BlockError({ code: "PROPOSER_INDEX_OUT_OF_RANGE", proposerIndex, validatorCount });
  const expected = state.epochCtx.getBeaconProposer(slot);
  if (proposerIndex !== expected) throw new BlockError({ code: "INCORRECT_PROPOSER", slot, expected, actual: proposerIndex });
}

/** The proposer signature against any state of the block's fork that knows the proposer's key. */
export async function verifyProposerSignature(
  bls: BlsVerifier,
  state: CachedBeaconState,
  block: { signed: SaneBlock["signed"]; root: string; rootBytes: Uint8Array },
): Promise<void> {
  let valid: boolean;
  try {
    valid = await bls.verifySignatureSets([getProposerSignatureSet(state, block.signed, block.rootBytes)]);
  } catch {
    // an index without a valid key is a signature that cannot verify
    valid = false;
  }
  if (!valid) throw new BlockError({ code: "PROPOSAL_SIGNATURE_INVALID", root: block.root });
}
