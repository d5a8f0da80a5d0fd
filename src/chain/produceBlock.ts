import type { CachedBeaconState } from "../state-transition/index.js";
import { processBlock, validateAttestation } from "../state-transition/index.js";
import type { Attestation, BeaconBlock, Deposit, Eth1Data } from "../types/index.js";

export interface BlockContents {
  randaoReveal: Uint8Array;
  graffiti?: Uint8Array;
  eth1Data?: Eth1Data;
  attestations?: Attestation[];
  /** exactly the deposits the state requires after this block's eth1 vote (the state transition checks) */
  deposits?: Deposit[];
}

/** What block production needs from the eth1 follower (src/eth1 implements it; the node wires it in). */
export interface Eth1ForBlockProduction {
  /** The eth1 vote for a block on `pre` (a state at the block's slot) and the deposits the block must carry. */
  getEth1DataAndDeposits(pre: CachedBeaconState): { eth1Data: Eth1Data; deposits: Deposit[] };
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
      deposits: contents.deposits ?? [],
    },
  };
  const post = pre.clone();
  processBlock(post, block, false);
  block.stateRoot = post.state.hashTreeRoot();
  return { block, post };
}
