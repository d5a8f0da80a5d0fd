// Cairn behind the comparison protocol.
import { PubkeyCache } from "../../src/state-transition/cache/pubkeyCache.js";
import {
  createCachedBeaconState,
  processSlots,
  stateTransition,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import type { BeaconStateView, SignedBeaconBlock } from "../../src/types/index.js";
import type { Adapter } from "./compare.js";
import { benchConfig } from "./fixtures.js";

export function cairnAdapter(): Adapter<CachedBeaconState, BeaconStateView, SignedBeaconBlock> {
  const c = benchConfig();
  const t = c.types;
  // One pubkey cache per chain, shared by every state of it (as a node holds it).
  const pubkeyCache = new PubkeyCache();
  return {
    name: "cairn",
    load: (bytes) => createCachedBeaconState(c, t.BeaconState.deserializeToViewDU(bytes), { pubkeyCache }),
    // clone() moves the tree caches to the copy (as Lodestar's does) and leaves the original without them. A node's
    // head state has them (each block's post-state got its parent's), so each run starts from a copy with warm
    // caches, exactly as for Lodestar.
    fresh: (base) => {
      const s = base.clone(true);
      s.state.validators.getAllReadonlyValues();
      return s;
    },
    epochTransition: (pre, slot) => {
      const post = pre.clone();
      processSlots(post, slot);
      post.state.commit();
      return post;
    },
    decodeBlock: (bytes) => t.SignedBeaconBlock.deserialize(bytes),
    blockTransition: (pre, block) => stateTransition(pre, block, { verifySignatures: false, verifyStateRoot: true }),
    hashTreeRoot: (s) => s.state.hashTreeRoot(),
    serialize: (s) => s.state.serialize(),
    deserialize: (bytes) => t.BeaconState.deserializeToViewDU(bytes),
    viewHashTreeRoot: (v) => v.hashTreeRoot(),
  };
}
