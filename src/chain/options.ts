// What a chain can be tuned by, and what it counts.
import type { BeaconConfig } from "../config/index.js";

export interface ChainOptions {
  blockStateCacheSize: number;
  checkpointStateCacheSize: number;
  /** persist a post-state at the first block of every M-th epoch: a restart replays at most ~M epochs */
  hotStateEveryEpochs: number;
  /** how many persisted hot states to keep (newest first) besides those on the head's, justified and leaves' branches */
  hotStatesKept: number;
  /** store a finalized (cold) state every N epochs */
  coldStateEveryEpochs: number;
  maxPendingBlocks: number;
  importQueueLength: number;
  /** the most blocks a query (API, gossip) may replay; the chain's own regen replays what it must */
  maxReplayBlocks: number;
  forkChoicePruneThreshold: number;
  /** run a full GC after the first block of an epoch (see gc.ts) */
  gcEveryEpoch: boolean;
  /**
   * ...but not more often than this: on mainnet an epoch is 6.4 minutes, but a syncing node crosses one every few
   * hundred ms, and a GC each time (~0.1-0.3 s on the event loop) would halve the sync rate and stall the API.
   * The harness sets 0 (an epoch's worth of garbage is what its memory figures are about).
   */
  gcMinIntervalMs: number;
  /** the wall clock in ms (tests inject one): no block beyond its slot (plus the gossip disparity) is processed */
  now: () => number;
}

export function defaultChainOptions(config: BeaconConfig): ChainOptions {
  return {
    blockStateCacheSize: 16,
    checkpointStateCacheSize: 8,
    hotStateEveryEpochs: 2,
    hotStatesKept: 4,
    coldStateEveryEpochs: 32,
    maxPendingBlocks: 64,
    importQueueLength: 1024,
    maxReplayBlocks: config.SLOTS_PER_EPOCH * 4,
    forkChoicePruneThreshold: 0,
    gcEveryEpoch: true,
    gcMinIntervalMs: 60_000,
    now: Date.now,
  };
}

export interface ChainMetrics {
  blocksImported: number;
  importMs: number[];
  reorgs: number;
  finalizations: number;
  /** durations of the once-an-epoch full GCs */
  gcMs: number[];
  /** head/checkpoint meta writes that failed after a stored block (the block itself is safe) */
  metaWriteFailures: number;
}
