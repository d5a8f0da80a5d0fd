import type { CachedBeaconState } from "../state-transition/index.js";
import { processBlock, validateAttestation } from "../state-transition/index.js";
import type { Attestation, BeaconBlock, Eth1Data } from "../types/index.js";

export interface BlockContents {
  randaoReveal: Uint8Array;
  graffiti?: Uint8Array;
  eth1Data?: Eth1Data;
  attestations?: Attestation[];
}

/**
 * An unsigned block at `pre.state.slot` (the pre-state must already be advanced to the block's slot), with the
 * post-state root filled in. Operations that the state would reject are left out, so the block is always valid.
 * `pre` is not modified.
 */
export function produceBlock(pre: CachedBeaconState, contents: BlockContents): { block: BeaconBlock; post: CachedBeaconState } {
  const c = pre.config;
  const state = pre.state;
  const slot = state.slot;
  const eth1Data = contents.eth1Data ?? state.eth1Data.toValue();
  const attestations: Attestation[] = [];
  for (const att of contents.attestations ?? []) {
    if (attestations.length >= c.MAX_ATTESTATIONS) break;
    try {
      validateAttestation(pre, att);
      attestations.push(att);
    } catch {
      // not includable here (wrong source, too old, another fork's committee): leave it out
    }
  }
  const block: BeaconBlock = {
    slot,
    proposerIndex: pre.epochCtx.getBeaconProposer(slot),
    parentRoot: state.latestBlockHeader.hashTreeRoot(),
    stateRoot: new Uint8Array(32),
    body: {
      ...c.types.BeaconBlockBody.defaultValue(),
      randaoReveal: contents.randaoReveal,
      graffiti: contents.graffiti ?? new Uint8Array(32),
      eth1Data,
      attestations,
    },
  };
  const post = pre.clone();
  processBlock(post, block, false);
  block.stateRoot = post.state.hashTreeRoot();
  return { block, post };
}
