// Stage 3: the state transition. The pre-state is the proposer stage's state advanced through the empty slots to
// the block's slot; the block's other signatures go to the BLS pool (whose workers also aggregate the attesters'
// keys) while the transition runs on this thread.
import type { BlockSummary } from "../../fork-choice/index.js";
import type { SignatureSet } from "../../crypto/bls.js";
import { iterateBlockSignatureSets, processBlock, processSlots, type CachedBeaconState } from "../../state-transition/index.js";
import { getAttestingIndices } from "../../state-transition/util/attestation.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import { bytesEqual, toHex } from "../../state-transition/util/math.js";
import type { Attestation, BeaconBlock } from "../../types/index.js";
import { yieldToEventLoop } from "../../util/eventLoop.js";
import type { BlsVerifier } from "../bls/interface.js";
import { BlockError } from "./errors.js";
import type { FullyVerifiedBlock, GossipVerifiedBlock } from "./types.js";

/**
 * Signature sets built between yields to the event loop. An attestation's set aggregates its committee's keys, and
 * the first time a validator signs its key is decompressed too (~50 µs): a block's sets at 100,000 validators took
 * ~1 s of main thread in one piece on a shared 2-core machine while syncing the first epoch.
 */
const SETS_PER_SLICE = 4;

export interface StateTransitionContext {
  bls: BlsVerifier;
  /** attestations verified before (gossip, API): their signature sets are not verified again */
  verifiedAttestations?: { has(att: Attestation, attestingIndices: () => ArrayLike<number>): boolean };
}

export async function verifyBlockStateTransition(ctx: StateTransitionContext, gv: GossipVerifiedBlock): Promise<FullyVerifiedBlock> {
  let verdict: Promise<boolean> | null = null;
  let fv: FullyVerifiedBlock;
  try {
    // the sets go to the pool before the transition runs, so the two overlap
    fv = await transitionBlock(ctx, gv, (sets) => (verdict = ctx.bls.verifySignatureSets(sets).catch(() => false)));
  } catch (e) {
    await verdict;
    throw e;
  }
  if (verdict && !(await verdict)) throw new BlockError({ code: "INVALID_SIGNATURE", root: gv.root });
  return fv;
}

/**
 * The pre-state (a copy of the proposer stage's state advanced to the block's slot), the block's signature sets
 * (handed to `onSets` as soon as they are built, before the transition; not when signatures are not verified), the
 * transition and the state root. The signatures are the caller's to verify: the block is not valid before they are.
 */
export async function transitionBlock(
  ctx: StateTransitionContext,
  gv: GossipVerifiedBlock,
  onSets: (sets: SignatureSet[]) => void,
): Promise<FullyVerifiedBlock> {
  const block = gv.signed.message;
  const post = gv.proposerState.clone();
  if (post.state.slot < block.slot) processSlots(post, block.slot);

  if (gv.verifySignatures) {
    const sets: SignatureSet[] = [];
    try {
      const verified = ctx.verifiedAttestations;
      for (const set of iterateBlockSignatureSets(post, gv.signed, {
        skipProposerSignature: gv.proposerSignatureVerified,
        // the attesters as this branch's committee names them: they must be the ones the signature was verified with
        skipAttestation: verified ? (att) => verified.has(att, () => getAttestingIndices(post.epochCtx, att.data, att.aggregationBits)) : undefined,
      })) {
        // `post` is this import's own copy: nothing else touches it while the API and the network get a turn
        if (sets.push(set) % SETS_PER_SLICE === 0) await yieldToEventLoop();
      }
    } catch {
      // a set that cannot be built (a signer outside the registry, an empty aggregate) is an invalid signature
      throw new BlockError({ code: "INVALID_SIGNATURE", root: gv.root });
    }
    onSets(sets);
  }
  try {
    processBlock(post, block, false);
  } catch (e) {
    throw new BlockError({ code: "INVALID_STATE_TRANSITION", root: gv.root, reason: (e as Error).message });
  }
  const stateRoot = post.state.hashTreeRoot();
  if (!bytesEqual(stateRoot, block.stateRoot)) {
    throw new BlockError({ code: "INVALID_STATE_ROOT", root: gv.root, expected: toHex(block.stateRoot), actual: toHex(stateRoot) });
  }
  return { ...gv, postState: post, summary: blockSummary(post, block, gv.root) };
}

/** What fork choice keeps of a block: its checkpoints as its post-state sees them and its epoch's target root. */
export function blockSummary(post: CachedBeaconState, block: BeaconBlock, root: string): BlockSummary {
  const c = post.config;
  const s = post.state;
  const epochStart = computeStartSlotAtEpoch(c, computeEpochAtSlot(c, block.slot));
  const targetRoot = epochStart === block.slot ? root : toHex(s.blockRoots.get(epochStart % c.SLOTS_PER_HISTORICAL_ROOT));
  return {
    slot: block.slot,
    root,
    parentRoot: toHex(block.parentRoot),
    stateRoot: toHex(block.stateRoot),
    targetRoot,
    justifiedCheckpoint: { epoch: s.currentJustifiedCheckpoint.epoch, root: toHex(s.currentJustifiedCheckpoint.root) },
    finalizedCheckpoint: { epoch: s.finalizedCheckpoint.epoch, root: toHex(s.finalizedCheckpoint.root) },
  };
}
