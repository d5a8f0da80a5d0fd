// Test helpers that build valid signed blocks on top of a state with the interop keys.
import type { BeaconConfig } from "../../src/config/index.js";
import { sign } from "../../src/crypto/bls.js";
import { interopSecretKey } from "../../src/crypto/interop.js";
import {
  processBlock,
  processSlots,
  type CachedBeaconState,
} from "../../src/state-transition/index.js";
import { computeSigningRoot, getDomain } from "../../src/state-transition/util/domain.js";
import { primitive, type BeaconBlock, type SignedBeaconBlock } from "../../src/types/index.js";

/** An empty block at `slot` on `pre`, signed by its proposer (interop keys), with the correct state root. */
export function makeSignedEmptyBlock(pre: CachedBeaconState, slot: number, opts: { graffiti?: Uint8Array } = {}): SignedBeaconBlock {
  const c: BeaconConfig = pre.config;
  const cached = pre.clone();
  processSlots(cached, slot);
  const { state, epochCtx } = cached;
  const proposerIndex = epochCtx.getBeaconProposer(slot);
  const sk = interopSecretKey(proposerIndex);
  const epoch = epochCtx.epoch;
  const randaoReveal = sign(sk, computeSigningRoot(c, primitive.Epoch, epoch, getDomain(c, state, c.DOMAIN_RANDAO, epoch)));
  const body = { ...c.types.BeaconBlockBody.defaultValue(), randaoReveal, eth1Data: state.eth1Data.toValue() };
  if (opts.graffiti) body.graffiti = opts.graffiti;
  const block: BeaconBlock = {
    slot,
    proposerIndex,
    parentRoot: state.latestBlockHeader.hashTreeRoot(),
    stateRoot: new Uint8Array(32),
    body,
  };
  processBlock(cached, block, false);
  block.stateRoot = cached.state.hashTreeRoot();
  const signature = sign(sk, computeSigningRoot(c, c.types.BeaconBlock, block, getDomain(c, state, c.DOMAIN_BEACON_PROPOSER, epoch)));
  return { message: block, signature };
}
