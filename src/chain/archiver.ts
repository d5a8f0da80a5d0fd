// What happens to the database as the chain moves: the small checkpoint meta after each block, the votes once an
// epoch, and at each new finalized checkpoint the archiving (canonical blocks to the cold store, the rest deleted,
// a new anchor state) and the pruning of hot states, in the background so that import never waits for it.
//
// Hot states are what a restart and regen start from. Pruning keeps, besides the newest few, the newest persisted
// state on the branch of the head, of the justified checkpoint and of every fork-choice leaf, so that whatever fork
// choice still holds can be rebuilt after a restart without replaying from the anchor.
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import { NONE, type CheckpointHex, type ForkChoice } from "../fork-choice/index.js";
import type { CachedBeaconState } from "../state-transition/index.js";
import { computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { fromHex, toHex } from "../state-transition/util/math.js";
import type { BlockSummary } from "../fork-choice/index.js";
import { runSteps, yieldToEventLoop } from "../util/eventLoop.js";
import { serializeContainerSteps } from "../types/serializeSteps.js";

export interface ArchiverContext {
  config: BeaconConfig;
  db: BeaconDb;
  forkChoice: ForkChoice;
  hotStatesKept: number;
  /** finalized states kept as history: those at epochs that are multiples of this (and the first anchor) */
  coldStateEveryEpochs: number;
  /** the chain's current head */
  headRoot(): string;
  /** the finalized checkpoint state (through regen) */
  getCheckpointState(epoch: number, root: string): Promise<CachedBeaconState>;
  /** the slot of the anchor state: hot states at or below it are covered by it */
  anchorSlot(): number;
  /** the new anchor, once it is written */
  setAnchor(summary: BlockSummary, state: CachedBeaconState): void;
  /** caches to prune once the new anchor is written */
  pruneCaches(finalized: CheckpointHex, finalizedSlot: number): void;
}

/** What the archiver did at the last finalization (and how long it took): read by the harness and metrics. */
export interface ArchiveStats {
  /** finalizations archived so far */
  runs: number;
  /** finalizations left to a newer one queued behind them */
  skipped: number;
  /** an archive run is under way */
  busy: boolean;
  last: { epoch: number; ms: number; blocksMoved: number; blocksDeleted: number; hotStatesPruned: number } | null;
}

/** canonical blocks read and copied to the cold store per write batch when archiving (a few MB at mainnet sizes) */
const COLD_BATCH_BLOCKS = 256;
/** synchronous archiving work between two turns of the event loop */
const YIELD_AFTER_MS = 10;

export class Archiver {
  private hotBuffer = new Uint8Array(0);
  readonly stats: ArchiveStats = { runs: 0, skipped: 0, busy: false, last: null };

  constructor(private readonly ctx: ArchiverContext) {}

  /**
   * The state's SSZ in a buffer reused across imports (valid until the next call; imports run one at a time and
   * await their batch). Allocating ~13 MB afresh every few epochs kept the native heap fragmented.
   */
  async serializeHotState(cached: CachedBeaconState): Promise<Uint8Array> {
    const state = cached.state;
    state.commit();
    const size = state.type.tree_serializedSize(state.node);
    if (this.hotBuffer.length < size) this.hotBuffer = new Uint8Array(Math.ceil(size * 1.25));
    return serializeStateYielding(cached, this.hotBuffer.subarray(0, size));
  }

  /** Head and checkpoints after a block (informational: a restart rebuilds them from the block summaries), votes once an epoch. */
  async persistHead(head: string, withVotes: boolean): Promise<void> {
    const fc = this.ctx.forkChoice;
    const justified = fc.getJustifiedCheckpoint();
    const finalized = fc.getFinalizedCheckpoint();
    const batch = this.ctx.db
      .newBatch()
      .putMeta("headRoot", fromHex(head))
      .putMeta("justifiedCheckpoint", { epoch: justified.epoch, root: fromHex(justified.root) })
      .putMeta("finalizedCheckpoint", { epoch: finalized.epoch, root: fromHex(finalized.root) });
    // without the votes a restarted node's head is an arbitrary leaf until attestations arrive
    if (withVotes) batch.putForkChoiceVotes(fc.exportLatestMessagesPacked());
    await batch.commit();
  }

  /**
   * After a new finalized checkpoint: canonical blocks move to the cold store, blocks that conflict with finality
   * are deleted, the finalized state becomes the anchor, caches and old hot states are pruned.
   */
  async onFinalized(
    finalized: CheckpointHex,
    /** the finalized block's summary, taken when finality was seen: fork choice may be pruned past it by now */
    finalizedBlock: BlockSummary,
    hotBlocks: Map<string, { slot: number; parent: string }>,
  ): Promise<void> {
    // Runs are queued one per finalization. One that starts behind a newer finalized checkpoint (the first archive
    // after a long gap takes a while, and a syncing node finalizes every few seconds) is left to that newer run, which
    // archives everything up to it: each run needs its checkpoint's state, and a stale one has left the state caches
    // (rebuilding it cost a replay and an unshared state tree per run).
    const fc = this.ctx.forkChoice;
    const newest = fc.getFinalizedCheckpoint();
    if (newest.epoch > finalized.epoch && fc.hasBlock(newest.root)) {
      this.stats.skipped++;
      return;
    }
    const start = performance.now();
    this.stats.busy = true;
    try {
      const { moved, deleted, pruned } = await this.archive(finalized, finalizedBlock, hotBlocks);
      this.stats.last = { epoch: finalized.epoch, ms: performance.now() - start, blocksMoved: moved, blocksDeleted: deleted, hotStatesPruned: pruned };
      this.stats.runs++;
    } finally {
      this.stats.busy = false;
    }
  }

  private async archive(
    finalized: CheckpointHex,
    finalizedBlock: BlockSummary,
    hotBlocks: Map<string, { slot: number; parent: string }>,
  ): Promise<{ moved: number; deleted: number; pruned: number }> {
    const { config: c, db } = this.ctx;
    // The new anchor's state, taken first, while the caches hold it (sharing its tree with the hot states). Asked for
    // after copying a long gap (~4 s for 32,000 blocks, while a syncing node or the harness imports on), it had left
    // the caches: loaded from disk, an unshared tree (~95 MB of heap at 100,000 validators) was kept as the anchor
    // until the next archive.
    const finalizedState = await this.ctx.getCheckpointState(finalized.epoch, finalized.root);
    const finalizedSlot = computeStartSlotAtEpoch(c, finalized.epoch);
    const canonical = new Set<string>();
    for (let r: string | undefined = finalized.root; r && hotBlocks.has(r); r = hotBlocks.get(r)?.parent) canonical.add(r);
    const archived = [...hotBlocks].filter(([root, info]) => info.slot <= finalizedSlot || root === finalized.root);
    // Canonical blocks are copied to the cold store as bytes, a few hundred per read and per write batch: after a long
    // non-finality, one batch for the whole gap held every block of it in memory at once, and one read per block
    // crawled while import kept the event loop busy. A copy made before a crash is harmless: those blocks are final,
    // and the next finalization copies them again.
    const toCopy = archived.filter(([root]) => canonical.has(root));
    let moved = 0;
    for (let i = 0; i < toCopy.length; i += COLD_BATCH_BLOCKS) {
      const chunk = toCopy.slice(i, i + COLD_BATCH_BLOCKS);
      const blocks = await db.getBlocksBytes(chunk.map(([root]) => fromHex(root)));
      const cold = db.newBatch();
      chunk.forEach(([root, info], j) => {
        const bytes = blocks[j];
        if (bytes === null) return;
        cold.putFinalizedBlock({ slot: info.slot, root: fromHex(root), bytes });
        moved++;
      });
      if (cold.length > 0) await cold.commit();
    }
    const batch = db.newBatch();
    let lastYield = performance.now();
    for (const [root] of archived) {
      batch.deleteBlock(fromHex(root)).deleteBlockSummaries([fromHex(root)]);
      // keep the node serving meanwhile, without a turn of the event loop per block
      if (performance.now() - lastYield > YIELD_AFTER_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
    // the new anchor goes in the same batch as the deletions: a restart never finds blocks gone below an old anchor
    const anchor: BlockSummary = { ...finalizedBlock, justifiedCheckpoint: finalized, finalizedCheckpoint: finalized };
    // The anchor's state is stored at every finalization (a restart starts from it), but only every
    // coldStateEveryEpochs-th epoch's stays as history: the previous anchor's goes in the same batch unless it is
    // such an archive point or the first anchor (genesis, or the checkpoint synced from). Kept at every finality, the
    // cold states grew by a whole state an epoch: ~13 MB at 100,000 validators, ~3 GB a day.
    const previousAnchorSlot = this.ctx.anchorSlot();
    const archivePoint = c.SLOTS_PER_EPOCH * Math.max(1, this.ctx.coldStateEveryEpochs);
    if (previousAnchorSlot < finalizedState.state.slot && previousAnchorSlot % archivePoint !== 0) {
      const [first] = await db.listColdStateSlots();
      if (first !== undefined && first < previousAnchorSlot) batch.deleteColdState(previousAnchorSlot);
    }
    batch
      .putColdState(finalizedState.state.slot, await serializeStateYielding(finalizedState))
      .putBlockSummary(fromHex(finalized.root), anchor)
      .putMeta("anchor", { slot: finalizedState.state.slot, blockRoot: fromHex(finalized.root), stateRoot: finalizedState.state.hashTreeRoot() });
    await batch.commit();
    this.ctx.setAnchor(anchor, finalizedState);
    for (const [root] of archived) if (root !== finalized.root) hotBlocks.delete(root);
    this.ctx.pruneCaches(finalized, finalizedSlot);
    const pruned = await this.pruneHotStates(this.ctx.headRoot());
    return { moved, deleted: archived.length - toCopy.length, pruned };
  }

  /**
   * Keep the newest `hotStatesKept` hot states, the newest one on the branch of the head, of the justified
   * checkpoint and of each fork-choice leaf, and the newest one at or below the finalized block until the anchor
   * moves there; drop those at or below the anchor (it covers them).
   */
  async pruneHotStates(headRoot: string): Promise<number> {
    const { db, forkChoice: fc } = this.ctx;
    const anchorSlot = this.ctx.anchorSlot();
    const all = await db.listHotStates();
    const byRoot = new Map(all.map((s) => [toHex(s.root), s]));
    const keep = new Set<string>();
    const protect = (root: string) => {
      for (let r: string | undefined = root; r !== undefined; ) {
        if (byRoot.has(r)) {
          keep.add(r);
          return;
        }
        const node = fc.getBlock(r);
        r = node && fc.hasBlock(node.parentRoot) ? node.parentRoot : undefined;
      }
    };
    protect(headRoot);
    protect(fc.getJustifiedCheckpoint().root);
    protect(fc.getBestJustifiedCheckpoint().root);
    for (const leaf of leaves(fc)) protect(leaf);
    const sorted = [...all].sort((a, b) => b.slot - a.slot);
    sorted.slice(0, this.ctx.hotStatesKept).forEach((s) => keep.add(toHex(s.root)));
    // Finality is known before the archiver has moved the anchor to it (it runs in the background, and after a long
    // non-finality it has a long gap to archive). Until then the anchor does not cover the states below the
    // finalized block, and the archiver regenerates the finalized state from the newest of them: dropping it made
    // that regen replay the whole gap from the old anchor.
    const finalizedBlockSlot = fc.getBlock(fc.getFinalizedCheckpoint().root)?.slot ?? anchorSlot;
    const base = sorted.find((s) => s.slot <= finalizedBlockSlot);
    if (base && base.slot > anchorSlot) keep.add(toHex(base.root));
    const batch = db.newBatch();
    let n = 0;
    for (const s of all) {
      if (s.slot > anchorSlot && keep.has(toHex(s.root))) continue;
      batch.deleteHotState(s.root, s.slot);
      n++;
    }
    if (n > 0) await batch.commit();
    return n;
  }
}

/** Blocks of fork choice without children (by the nodes' parent indices: no set of 32,000 roots in a long non-finality). */
function leaves(fc: ForkChoice): string[] {
  const nodes = fc.getNodes();
  const hasChild = new Uint8Array(nodes.length);
  for (const n of nodes) if (n.parent !== NONE) hasChild[n.parent] = 1;
  return nodes.filter((_, i) => hasChild[i] === 0).map((n) => n.root);
}

/**
 * The state's SSZ, written into `out` (a fresh buffer when absent) field by field and the registry in slices, with
 * turns of the event loop between (~13 MB and 40 to 90 ms in one piece at 100,000 validators). The tree is
 * immutable: what is serialized is the state as it was when this was called, whatever happens meanwhile.
 */
export async function serializeStateYielding(cached: CachedBeaconState, out?: Uint8Array): Promise<Uint8Array> {
  const state = cached.state;
  state.commit();
  const node = state.node;
  const bytes = out ?? new Uint8Array(state.type.tree_serializedSize(node));
  const end = await runSteps(serializeContainerSteps(state.type, node, { uint8Array: bytes, dataView: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) }, 0));
  if (end !== bytes.length) throw new Error(`state serialized to ${end} bytes, expected ${bytes.length}`);
  return bytes;
}
