import { verifySignatureSets } from "../crypto/bls.js";
import type { SignedBeaconBlock } from "../types/index.js";
import { processBlock } from "./block/index.js";
import type { CachedBeaconState } from "./cache/cachedBeaconState.js";
import { getBlockSignatureSets } from "./signatureSets/index.js";
import { processSlots } from "./slot/index.js";
import { assert } from "./util/assert.js";
import { bytesEqual, toHex } from "../util/bytes.js";

export { processSlots, processSlot, processSlotsSteps } from "./slot/index.js";
export { StateTransitionError, UnsupportedValueError } from "./util/assert.js";

export interface StateTransitionOpts {
  /** Check every signature of the block (as one batch). Default true. */
  verifySignatures?: boolean;
  /** Check block.stateRoot against the post-state root. Default true. */
  verifyStateRoot?: boolean;
}

// state_transition. Returns a new post-state; `pre` is left untouched.
export function stateTransition(
  pre: CachedBeaconState,
  signedBlock: SignedBeaconBlock,
  opts: StateTransitionOpts = {},
): CachedBeaconState {
  const verifySignatures = opts.verifySignatures ?? true;
  const verifyStateRoot = opts.verifyStateRoot ?? true;
  const block = signedBlock.message;
  const post = pre.clone();
  processSlots(post, block.slot);
  if (verifySignatures) {
    // One batch for the proposer signature and every operation's signature, instead of one pairing each.
    let sets;
    try {
      sets = getBlockSignatureSets(post, signedBlock);
    } catch (e) {
      assert(false, `block signatures cannot be checked: ${(e as Error).message}`);
    }
    assert(verifySignatureSets(sets), "block has an invalid signature");
  }
  processBlock(post, block, false);
  if (verifyStateRoot) {
    const root = post.state.hashTreeRoot();
    assert(bytesEqual(block.stateRoot, root), `block state root ${toHex(block.stateRoot)} != post-state root ${toHex(root)}`);
  }
  return post;
}
