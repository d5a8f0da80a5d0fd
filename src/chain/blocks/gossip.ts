// The beacon_block gossip rules (p2p-interface.md) as the first two stages of the import pipeline: what gossip
// proves (the root, the proposer and its signature, the shuffling state) is returned as a GossipVerifiedBlock and
// handed to chain.processBlock(), which does not do it again.
//
//   [IGNORE] slot not in the future (clock disparity allowed)      sanity: FUTURE_SLOT
//   [IGNORE] slot after the finalized slot                         sanity: WOULD_REVERT_FINALIZED
//   [IGNORE] first block of this proposer for this slot            REPEAT_PROPOSAL (checked again after the awaits)
//   [REJECT] proposer signature valid                              proposer stage
//   [IGNORE] parent seen (the block waits while it is looked up)   PARENT_UNKNOWN, signature checked on the head state
//   [REJECT] parent valid; descends from the finalized checkpoint  sanity: KNOWN_INVALID, NOT_FINALIZED_DESCENDANT
//   [REJECT] the expected proposer of the slot                     proposer stage: INCORRECT_PROPOSER
import type { CachedBeaconState } from "../../state-transition/index.js";
import { fromHex } from "../../state-transition/util/math.js";
import type { SignedBeaconBlock } from "../../types/index.js";
import { BlockError, blockErrorOutcome } from "./errors.js";
import { verifyProposer, verifyProposerSignature, type ProposerContext } from "./proposer.js";
import { checkBlockSanity, type SanityContext } from "./sanity.js";
import type { GossipVerifiedBlock } from "./types.js";

/** Gossip's first-seen cache of (slot, proposer). */
export interface SeenProposers {
  has(slot: number, proposerIndex: number): boolean;
  add(slot: number, proposerIndex: number): void;
}

export interface GossipBlockContext extends SanityContext, ProposerContext {
  getHeadState(): Promise<CachedBeaconState>;
}

/** Resolves to the verified block (ACCEPT) or rejects with a BlockError; blockErrorOutcome() gives IGNORE/REJECT. */
export async function validateGossipBlock(ctx: GossipBlockContext, signed: SignedBeaconBlock, seen: SeenProposers): Promise<GossipVerifiedBlock> {
  const block = signed.message;
  const repeat = () => seen.has(block.slot, block.proposerIndex) && new BlockError({ code: "REPEAT_PROPOSAL", slot: block.slot, proposerIndex: block.proposerIndex });
  let gv: GossipVerifiedBlock;
  try {
    const sane = checkBlockSanity(ctx, { signed, source: "gossip" });
    const dup = repeat();
    if (dup) throw dup;
    gv = await verifyProposer(ctx, sane, { verifySignature: true });
  } catch (e) {
    if (e instanceof BlockError && e.data.code === "PARENT_UNKNOWN") {
      const dup = repeat();
      if (dup) throw dup;
      await checkOrphanSignature(ctx, signed, e.data.root);
    } else if (e instanceof BlockError && blockErrorOutcome(e).markInvalid && e.data.code !== "KNOWN_INVALID") {
      const root = "root" in e.data ? e.data.root : undefined;
      if (root) ctx.invalidBlocks.set(root, true);
    }
    throw e;
  }
  // validation awaited: another block of this proposer and slot may have won meanwhile
  const dup = repeat();
  if (dup) throw dup;
  seen.add(block.slot, block.proposerIndex);
  return gv;
}

/**
 * A block whose parent is unknown: its proposer signature can still be checked with the head state (same fork,
 * same keys), so junk is rejected here instead of sending a parent lookup after it.
 */
async function checkOrphanSignature(ctx: GossipBlockContext, signed: SignedBeaconBlock, root: string): Promise<void> {
  let state: CachedBeaconState;
  try {
    state = await ctx.getHeadState();
  } catch (e) {
    throw new BlockError({ code: "REGEN_FAILED", root, reason: (e as Error).message });
  }
  // a proposer the head state does not know may exist on the unknown branch: left to the import
  if (signed.message.proposerIndex >= state.state.validators.length) return;
  await verifyProposerSignature(ctx.bls, state, { signed, root, rootBytes: fromHex(root) });
}
