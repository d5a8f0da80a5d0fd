// <preset>/phase0/sanity: empty-slot transitions (slots) and full block transitions (blocks).
import { toNum, type Runner, type SpecCase } from "../harness.js";
import { stateCase, verifySignatures, type CachedBeaconState, type StateTransitionModule } from "../stateUtils.js";

/** Apply blocks_0..blocks_{blocks_count-1} in order with the full state transition (shared with finality). */
export function applyBlocks(st: StateTransitionModule, cached: CachedBeaconState, c: SpecCase): CachedBeaconState {
  const count = toNum(c.meta().blocks_count, "blocks_count");
  const verify = verifySignatures(c);
  let state = cached;
  for (let i = 0; i < count; i++) {
    const block = c.config.types.SignedBeaconBlock.deserialize(c.bytes(`blocks_${i}.ssz`));
    state = st.stateTransition(state, block, { verifySignatures: verify });
  }
  return state;
}

export const sanityRunner: Runner = {
  handlers: {
    slots: stateCase((st, cached, c) => {
      const slots = toNum(c.yaml("slots.yaml"), "slots");
      st.processSlots(cached, cached.state.slot + slots);
    }),
    blocks: stateCase(applyBlocks),
  },
};
