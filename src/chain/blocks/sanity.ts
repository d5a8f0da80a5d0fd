// Stage 1: the checks that need no state, cheapest first. Nothing here hashes more than the block once or touches a
// state; a block from beyond the clock is refused before anything could be asked to advance a state to its slot.
import type { BeaconConfig } from "../../config/index.js";
import type { ForkChoice } from "../../fork-choice/index.js";
import { computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import { fromHex, toHex } from "../../state-transition/util/math.js";
import type { LruCache } from "../stateCache.js";
import { BlockError } from "./errors.js";
import type { BlockInput, SaneBlock } from "./types.js";

export interface SanityContext {
  config: BeaconConfig;
  forkChoice: ForkChoice;
  /** the latest slot a block may have now: the wall clock's slot with MAXIMUM_GOSSIP_CLOCK_DISPARITY */
  latestSlot(): number;
  /** roots of blocks that failed validation (and their known descendants) */
  invalidBlocks: LruCache<true>;
}

/**
 * `segmentParent`: in a chain segment (range sync), the block before this one, verified but not yet in fork choice;
 * a block naming it as parent descends from whatever that block descends from.
 */
export function checkBlockSanity(ctx: SanityContext, input: BlockInput, segmentParent?: { root: string; slot: number }): SaneBlock {
  const { config: c, forkChoice: fc } = ctx;
  const block = input.signed.message;
  const latestSlot = ctx.latestSlot();
  if (!(block.slot <= latestSlot)) throw new BlockError({ code: "FUTURE_SLOT", slot: block.slot, latestSlot });
  const finalized = fc.getFinalizedCheckpoint();
  const finalizedSlot = computeStartSlotAtEpoch(c, finalized.epoch);
  if (block.slot <= finalizedSlot) throw new BlockError({ code: "WOULD_REVERT_FINALIZED", slot: block.slot, finalizedSlot });

  const rootBytes = input.root ? fromHex(input.root) : c.types.BeaconBlock.hashTreeRoot(block);
  const root = input.root ?? toHex(rootBytes);
  if (fc.hasBlock(root)) throw new BlockError({ code: "ALREADY_KNOWN", root });
  const parentRoot = toHex(block.parentRoot);
  if (ctx.invalidBlocks.has(root)) throw new BlockError({ code: "KNOWN_INVALID", root, invalidAncestor: root });
  if (ctx.invalidBlocks.has(parentRoot)) {
    ctx.invalidBlocks.set(root, true);
    throw new BlockError({ code: "KNOWN_INVALID", root, invalidAncestor: parentRoot });
  }
  const inSegment = segmentParent !== undefined && segmentParent.root === parentRoot;
  const parent = inSegment ? segmentParent : fc.getBlock(parentRoot);
  if (!parent) throw new BlockError({ code: "PARENT_UNKNOWN", root, parentRoot });
  if (block.slot <= parent.slot) throw new BlockError({ code: "NOT_LATER_THAN_PARENT", slot: block.slot, parentSlot: parent.slot });
  if (!inSegment && !fc.isDescendant(finalized.root, parentRoot)) {
    throw new BlockError({ code: "NOT_FINALIZED_DESCENDANT", root, parentRoot, finalizedRoot: finalized.root });
  }
  return {
    signed: input.signed,
    source: input.source,
    root,
    rootBytes,
    parentRoot,
    parentSlot: parent.slot,
    verifySignatures: input.verifySignatures ?? true,
  };
}
