import type { BeaconConfig } from "../../config/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import { processBlock, processSlots, processSlotsSteps, type CachedBeaconState } from "../../state-transition/index.js";
import type { BeaconBlock, SignedBeaconBlock } from "../../types/index.js";
import { toHex } from "../../state-transition/util/math.js";
import { runSteps, yieldToEventLoop } from "../../util/eventLoop.js";
import type { BlockStateCache, CheckpointStateCache } from "../stateCache.js";
import { CheckpointStateCache as Cps } from "../stateCache.js";

export interface RegenBlockSource {
  /** A block by root (hex) from memory or the database. */
  getBlock(rootHex: string): Promise<SignedBeaconBlock | null>;
  /** A persisted (hot or anchor) post-state of the block with this root, if one is stored. */
  getPersistedState(rootHex: string): Promise<CachedBeaconState | null>;
}

export class RegenError extends Error {
  constructor(
    readonly code: "BLOCK_NOT_FOUND" | "NO_BASE_STATE" | "TOO_MANY_BLOCKS",
    message: string,
  ) {
    super(message);
    this.name = "RegenError";
  }
}

export interface RegenStats {
  blocksReplayed: number;
}

/**
 * Rebuilds states that are not in the caches by replaying stored blocks (without signature checks: they were
 * verified at import) on top of the nearest cached or persisted ancestor state. Not safe for concurrent use on its
 * own: QueuedStateRegenerator serializes and deduplicates calls.
 */
export class StateRegenerator {
  constructor(
    private readonly config: BeaconConfig,
    private readonly blockStates: BlockStateCache,
    private readonly checkpointStates: CheckpointStateCache,
    private readonly blocks: RegenBlockSource,
    private readonly stats: RegenStats,
    /** The most blocks one request may replay; beyond it the request fails instead of stalling the node. */
    private readonly maxReplayBlocks: number,
  ) {}

  /**
   * The post-state of the block `rootHex` (shared: callers must not mutate it). `maxReplayBlocks` bounds the work
   * for callers that must not start long replays (queries); the chain's own callers replay whatever it takes, so a
   * restart or an import never fails for want of a nearer state.
   */
  async getBlockState(rootHex: string, maxReplayBlocks = this.maxReplayBlocks): Promise<CachedBeaconState> {
    const cached = this.blockStates.get(rootHex);
    if (cached) return cached;

    const toReplay: SignedBeaconBlock[] = [];
    let base: CachedBeaconState | null = null;
    let cursor = rootHex;
    for (;;) {
      base = this.blockStates.get(cursor) ?? null;
      if (base) break;
      base = await this.blocks.getPersistedState(cursor);
      if (base) {
        // loaded once: later requests for this block share it (and the states built on it share its tree)
        this.blockStates.set(cursor, base);
        // a hot state is a block's at the first slot of its epoch (when no slot was skipped): that epoch's checkpoint
        // state, which the justified and finalized checkpoints ask for later (after a restart, first of all)
        const epoch = computeEpochAtSlot(this.config, base.state.slot);
        if (base.state.slot === computeStartSlotAtEpoch(this.config, epoch)) this.checkpointStates.set(Cps.key(epoch, cursor), base);
        break;
      }
      const block = await this.blocks.getBlock(cursor);
      if (!block) {
        throw new RegenError(
          toReplay.length === 0 ? "BLOCK_NOT_FOUND" : "NO_BASE_STATE",
          `no state or block for root ${cursor} while regenerating ${rootHex}`,
        );
      }
      toReplay.push(block);
      if (toReplay.length > maxReplayBlocks) {
        throw new RegenError("TOO_MANY_BLOCKS", `regenerating ${rootHex} needs more than ${maxReplayBlocks} blocks`);
      }
      cursor = toHex(block.message.parentRoot);
    }

    let state = base.clone();
    for (let i = toReplay.length - 1; i >= 0; i--) {
      const block = toReplay[i].message;
      if (state.state.slot < block.slot) processSlots(state, block.slot);
      processBlock(state, block, false);
      this.stats.blocksReplayed++;
      // a long replay (a restart after long non-finality) must leave the event loop to the API and the network
      if (i % 8 === 0) await yieldToEventLoop();
    }
    state.state.commit();
    if (toReplay.length > 0) this.blockStates.set(rootHex, state);
    else state = base;
    return state;
  }

  /** The state of block `rootHex` advanced to the first slot of `epoch` (shared: callers must not mutate it). */
  async getCheckpointState(epoch: number, rootHex: string, maxReplayBlocks = this.maxReplayBlocks): Promise<CachedBeaconState> {
    const key = Cps.key(epoch, rootHex);
    const cached = this.checkpointStates.get(key);
    if (cached) return cached;
    return this.checkpointStateFrom(epoch, rootHex, await this.getBlockState(rootHex, maxReplayBlocks));
  }

  /**
   * The checkpoint state (epoch, block root) made from that block's post-state, and cached: the one place the rule
   * lives (regen, and the segment import for a block not yet in the caches, use it).
   */
  async checkpointStateFrom(epoch: number, rootHex: string, blockState: CachedBeaconState): Promise<CachedBeaconState> {
    const key = Cps.key(epoch, rootHex);
    const cached = this.checkpointStates.get(key);
    if (cached) return cached;
    const startSlot = computeStartSlotAtEpoch(this.config, epoch);
    if (blockState.state.slot >= startSlot) {
      // kept under the checkpoint too: the justified checkpoint's state is asked for again when it is finalized (the
      // new anchor), after the block-state cache has dropped it; rebuilding it then meant loading a hot state from
      // disk, replaying, and hashing a fresh 100,000-validator tree, and keeping that unshared copy as the anchor
      this.checkpointStates.set(key, blockState);
      return blockState;
    }
    const state = blockState.clone();
    // a copy nothing else holds: the event loop runs between slots and inside the epoch transition (~60 ms at 100,000
    // validators in one piece otherwise)
    await runSteps(processSlotsSteps(state, startSlot));
    state.state.commit();
    this.checkpointStates.set(key, state);
    return state;
  }

  /** A fresh, mutable state at `block.slot` on top of its parent: the input of the block's state transition. */
  async getPreState(block: BeaconBlock): Promise<CachedBeaconState> {
    const parentRootHex = toHex(block.parentRoot);
    const parentState = await this.getBlockState(parentRootHex, Infinity);
    const blockEpoch = computeEpochAtSlot(this.config, block.slot);
    // Crossing into a new epoch goes through the checkpoint state, which sibling blocks of that epoch share.
    const base =
      computeEpochAtSlot(this.config, parentState.state.slot) < blockEpoch
        ? await this.getCheckpointState(blockEpoch, parentRootHex, Infinity)
        : parentState;
    const pre = base.clone();
    if (pre.state.slot < block.slot) processSlots(pre, block.slot);
    return pre;
  }
}
