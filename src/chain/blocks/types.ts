// The block import pipeline as type-states. Each stage takes the previous stage's type and returns the next one,
// carrying forward what it proved, so no later stage (or caller) hashes or verifies the same thing again:
//
//   BlockInput                    a SignedBeaconBlock and where it came from (gossip, api, sync, lookup, harness)
//     -> SaneBlock                sanity.ts: root computed once; slot against the clock and finality; known or
//                                 known-invalid; parent known (else it waits in the pending pool) and earlier
//     -> GossipVerifiedBlock      proposer.ts: the shuffling of the block's epoch on its branch (parent state, or
//                                 its checkpoint state across an epoch boundary); proposer index; proposer signature
//     -> FullyVerifiedBlock       stateTransition.ts: pre-state, state transition, state root, every other signature
//                                 on the BLS pool while the transition runs on this thread
//     -> imported                 importBlock.ts: stored first (block, summary, hot state), then fork choice and head
//
// No stage advances a state further than the wall clock allows: the slot check comes before any state work.
import type { BlockSummary } from "../../fork-choice/index.js";
import type { CachedBeaconState } from "../../state-transition/index.js";
import type { SignedBeaconBlock } from "../../types/index.js";

export type BlockSource = "gossip" | "api" | "sync" | "lookup" | "pending" | "harness" | "test";

export interface BlockInput {
  signed: SignedBeaconBlock;
  source: BlockSource;
  /** 0x root of the block, when the caller has it already (never recomputed) */
  root?: string;
  /** false only for blocks this node made itself or already verified (harness, replays); default true */
  verifySignatures?: boolean;
}

export interface SaneBlock {
  signed: SignedBeaconBlock;
  source: BlockSource;
  root: string;
  rootBytes: Uint8Array;
  parentRoot: string;
  parentSlot: number;
  verifySignatures: boolean;
}

export interface GossipVerifiedBlock extends SaneBlock {
  /**
   * The parent's state, or its checkpoint state when the block starts a new epoch: the shuffling the proposer was
   * checked against and the base of the pre-state. Shared with the caches: never mutated.
   */
  proposerState: CachedBeaconState;
  /** the proposer signature was verified (false only when signatures are not verified at all) */
  proposerSignatureVerified: boolean;
}

export interface FullyVerifiedBlock extends GossipVerifiedBlock {
  postState: CachedBeaconState;
  summary: BlockSummary;
}

export type ImportResult = { status: "imported"; root: string; head: string } | { status: "pending"; root: string };
