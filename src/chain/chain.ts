// The beacon chain: one writer that imports blocks in stages, keeps fork choice, caches, regen and the database
// consistent, and persists enough to restart quickly.
//
//   SignedBeaconBlock
//     -> sanity checks (known? finalized? parent known, else held in the pending pool)
//     -> pre-state from the regen queue (cache, else replay)
//     -> signature sets sent to the BLS worker pool  ||  state transition without signatures (main thread)
//     -> fork choice (block + its attestations) and head, then ONE atomic database batch
//     -> at a new finalized checkpoint: finalized meta is in that batch; archiving and pruning run in the background
import { EventEmitter } from "node:events";
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import { ForkChoice, type BlockSummary, type CheckpointHex } from "../fork-choice/index.js";
import {
  createCachedBeaconState,
  getBlockSignatureSets,
  processBlock,
  type CachedBeaconState,
  PubkeyCache,
  ShufflingCache,
  EpochContext,
} from "../state-transition/index.js";
import { getIndexedAttestation } from "../state-transition/util/attestation.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { bytesEqual, fromHex, toHex } from "../state-transition/util/math.js";
import { isActiveValidator } from "../state-transition/util/validator.js";
import type { Attestation, BeaconBlock, SignedBeaconBlock } from "../types/index.js";
import type { BlsVerifier } from "./bls/interface.js";
import { BlockError } from "./errors.js";
import { getFullGc } from "./gc.js";
import { JobQueue, QueueFullError } from "./jobQueue.js";
import { PendingBlocks } from "./pendingBlocks.js";
import { QueuedStateRegenerator, type RegenCaller } from "./regen/queued.js";
import { StateRegenerator, type RegenStats } from "./regen/stateRegenerator.js";
import { BlockStateCache, CheckpointStateCache } from "./stateCache.js";

export interface ChainOptions {
  blockStateCacheSize: number;
  checkpointStateCacheSize: number;
  /** persist a post-state at the first block of every M-th epoch: a restart replays at most ~M epochs */
  hotStateEveryEpochs: number;
  /** how many persisted hot states to keep (newest first) besides the finalized anchor */
  hotStatesKept: number;
  /** store a finalized (cold) state every N epochs */
  coldStateEveryEpochs: number;
  maxPendingBlocks: number;
  importQueueLength: number;
  maxReplayBlocks: number;
  forkChoicePruneThreshold: number;
  /** run a full GC after the first block of every epoch (see gc.ts) */
  gcEveryEpoch: boolean;
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
  };
}

export type ImportResult = { status: "imported"; root: string; head: string } | { status: "pending"; root: string };

export interface ChainMetrics {
  blocksImported: number;
  importMs: number[];
  reorgs: number;
  finalizations: number;
  /** durations of the once-an-epoch full GCs */
  gcMs: number[];
}

/** What the chain announces (the Beacon API's event stream and the metrics listen; listeners must not throw). */
export interface HeadEvent {
  slot: number;
  block: string;
  state: string;
  epochTransition: boolean;
  previousDutyDependentRoot: string;
  currentDutyDependentRoot: string;
}
export interface ReorgEvent {
  slot: number;
  depth: number;
  oldHeadBlock: string;
  newHeadBlock: string;
  oldHeadState: string;
  newHeadState: string;
  epoch: number;
}
export interface ChainEvents {
  block: [{ slot: number; root: string }];
  head: [HeadEvent];
  reorg: [ReorgEvent];
  finalized: [{ epoch: number; root: string; stateRoot: string }];
  justified: [{ epoch: number; root: string }];
}

export class BeaconChain {
  readonly emitter = new EventEmitter<ChainEvents>();
  readonly forkChoice: ForkChoice;
  readonly regen: QueuedStateRegenerator;
  readonly blockStates: BlockStateCache;
  readonly checkpointStates: CheckpointStateCache;
  readonly pending: PendingBlocks;
  readonly metrics: ChainMetrics = { blocksImported: 0, importMs: [], reorgs: 0, finalizations: 0, gcMs: [] };
  private readonly queue: JobQueue;
  private readonly justifiedBalances = new Map<string, number[]>();
  /** unfinalized blocks known to this chain: root -> slot and parent, for archiving at finality */
  private readonly hotBlocks = new Map<string, { slot: number; parent: string }>();
  private head: string;
  private background: Promise<void> = Promise.resolve();
  private hotStateBuffer = new Uint8Array(0);
  private closed = false;

  private constructor(
    readonly config: BeaconConfig,
    readonly db: BeaconDb,
    readonly bls: BlsVerifier,
    readonly opts: ChainOptions,
    private anchor: { summary: BlockSummary; state: CachedBeaconState },
    private readonly pubkeyCache: PubkeyCache,
    /** one per chain: shufflings by (epoch, decision root), shared by every state */
    readonly shufflingCache: ShufflingCache,
    readonly regenStats: RegenStats,
  ) {
    this.blockStates = new BlockStateCache(opts.blockStateCacheSize);
    this.checkpointStates = new CheckpointStateCache(opts.checkpointStateCacheSize);
    this.pending = new PendingBlocks(opts.maxPendingBlocks);
    this.queue = new JobQueue(opts.importQueueLength);
    this.blockStates.set(anchor.summary.root, anchor.state);
    const regen = new StateRegenerator(
      config,
      this.blockStates,
      this.checkpointStates,
      { getBlock: (r) => this.getBlockByRootInternal(r), getPersistedState: (r) => this.getPersistedState(r) },
      regenStats,
      opts.maxReplayBlocks,
    );
    this.regen = new QueuedStateRegenerator(regen, this.blockStates, this.checkpointStates, regenStats);
    this.forkChoice = new ForkChoice(
      config,
      { block: anchor.summary, stateSlot: anchor.state.state.slot },
      (cp) => this.getJustifiedBalancesSync(cp),
      { pruneThreshold: opts.forkChoicePruneThreshold },
    );
    this.head = anchor.summary.root;
  }

  /** A new chain from a genesis (or other trusted anchor) state, written to an empty database. */
  static async fromAnchorState(
    config: BeaconConfig,
    db: BeaconDb,
    bls: BlsVerifier,
    anchorState: CachedBeaconState,
    opts: Partial<ChainOptions> = {},
  ): Promise<BeaconChain> {
    const state = anchorState.state;
    const header = state.latestBlockHeader.toValue();
    if (bytesEqual(header.stateRoot, new Uint8Array(32))) header.stateRoot = state.hashTreeRoot();
    const rootBytes = config.types.BeaconBlockHeader.hashTreeRoot(header);
    const root = toHex(rootBytes);
    const epoch = computeEpochAtSlot(config, state.slot);
    const summary: BlockSummary = {
      slot: header.slot,
      root,
      parentRoot: toHex(header.parentRoot),
      stateRoot: toHex(header.stateRoot),
      targetRoot: root,
      justifiedCheckpoint: { epoch, root },
      finalizedCheckpoint: { epoch, root },
    };
    const checkpoint = { epoch, root: rootBytes };
    await db
      .newBatch()
      .putColdState(state.slot, state.serialize())
      .putBlockSummary(rootBytes, summary)
      .putMeta("anchor", { slot: state.slot, blockRoot: rootBytes, stateRoot: header.stateRoot })
      .putMeta("finalizedCheckpoint", checkpoint)
      .putMeta("justifiedCheckpoint", checkpoint)
      .putMeta("headRoot", rootBytes)
      .commit();
    // the chain's states share one shuffling cache: rebuild the anchor's epoch context on it
    const shufflingCache = new ShufflingCache();
    anchorState.epochCtx = EpochContext.createFromState(config, state, anchorState.epochCtx.pubkeyCache, shufflingCache);
    return new BeaconChain(config, db, bls, { ...defaultChainOptions(config), ...opts }, { summary, state: anchorState }, anchorState.epochCtx.pubkeyCache, shufflingCache, { blocksReplayed: 0 });
  }

  /**
   * Resume from the database: fork choice is rebuilt from the stored block summaries (no block is replayed for it),
   * then the head state is regenerated from the newest persisted state below it.
   */
  static async fromDb(config: BeaconConfig, db: BeaconDb, bls: BlsVerifier, opts: Partial<ChainOptions> = {}): Promise<BeaconChain> {
    const anchorMetaValue = await db.getMeta("anchor");
    if (!anchorMetaValue) throw new Error(`database at ${db.path} has no chain anchor: start from a genesis state`);
    const anchorBytes = await db.getColdState(anchorMetaValue.slot);
    if (!anchorBytes) throw new Error(`database at ${db.path} lacks its anchor state (slot ${anchorMetaValue.slot})`);
    const pubkeyCache = new PubkeyCache();
    const shufflingCache = new ShufflingCache();
    const anchorState = createCachedBeaconState(config, config.types.BeaconState.deserializeToViewDU(anchorBytes), { pubkeyCache, shufflingCache });
    const summaries = (await db.getBlockSummaries()) as BlockSummary[];
    const anchorRoot = toHex(anchorMetaValue.blockRoot);
    const anchorSummary = summaries.find((s) => s.root === anchorRoot);
    if (!anchorSummary) throw new Error(`database at ${db.path} lacks the anchor block summary ${anchorRoot}`);
    const chain = new BeaconChain(config, db, bls, { ...defaultChainOptions(config), ...opts }, { summary: anchorSummary, state: anchorState }, pubkeyCache, shufflingCache, { blocksReplayed: 0 });
    summaries.sort((a, b) => a.slot - b.slot);
    const maxSlot = summaries.length ? summaries[summaries.length - 1].slot : anchorSummary.slot;
    for (const s of summaries) {
      if (s.root === anchorRoot || s.slot <= anchorSummary.slot) continue;
      try {
        chain.forkChoice.onBlock(s, maxSlot);
        chain.hotBlocks.set(s.root, { slot: s.slot, parent: s.parentRoot });
      } catch {
        // a block that fork choice no longer accepts (conflicts with finality): left for pruning
      }
    }
    const votes = await db.getForkChoiceVotes();
    if (votes) chain.forkChoice.importLatestMessages(votes);
    await chain.updateHead("restart");
    await chain.regen.getBlockState(chain.head, "restart");
    return chain;
  }

  get headRoot(): string {
    return this.head;
  }

  /** The head's post-state (shared: do not mutate). */
  getHeadState(caller: RegenCaller = "api"): Promise<CachedBeaconState> {
    return this.regen.getBlockState(this.head, caller);
  }

  /** Queue a block for import. Resolves when it is imported (or held as pending); rejects with a BlockError. */
  processBlock(signed: SignedBeaconBlock, opts: { verifySignatures?: boolean } = {}): Promise<ImportResult> {
    if (this.closed) return Promise.reject(new BlockError("STORE_FAILED", "chain is closed"));
    return this.queue.push(() => this.importBlock(signed, opts.verifySignatures ?? true)).catch((e) => {
      if (e instanceof QueueFullError) throw new BlockError("QUEUE_FULL", e.message);
      throw e;
    });
  }

  /** An attestation seen outside a block (gossip or the harness), its signature already checked by the caller. */
  onAttestation(attestation: Attestation, state: CachedBeaconState): void {
    try {
      const indexed = getIndexedAttestation(state.epochCtx, attestation);
      this.forkChoice.onAttestation(toForkChoiceAttestation(indexed.attestingIndices, attestation));
    } catch {
      // not applicable to fork choice (unknown block, too old): ignored, as gossip would
    }
  }

  private async importBlock(signed: SignedBeaconBlock, verifySignatures: boolean): Promise<ImportResult> {
    const start = performance.now();
    const c = this.config;
    const block = signed.message;
    const rootBytes = c.types.BeaconBlock.hashTreeRoot(block);
    const root = toHex(rootBytes);
    const parent = toHex(block.parentRoot);

    // 1. sanity
    if (this.forkChoice.hasBlock(root)) throw new BlockError("ALREADY_KNOWN", `block ${root} is already imported`);
    const finalizedSlot = computeStartSlotAtEpoch(c, this.forkChoice.getFinalizedCheckpoint().epoch);
    if (block.slot <= finalizedSlot) {
      throw new BlockError("WOULD_REVERT_FINALIZED", `block slot ${block.slot} is not after the finalized slot ${finalizedSlot}`);
    }
    if (!this.forkChoice.hasBlock(parent)) {
      this.pending.add(signed, root, parent);
      return { status: "pending", root };
    }

    // 2. pre-state
    let post: CachedBeaconState;
    try {
      post = await this.regen.getPreState(block, "importBlock");
    } catch (e) {
      throw new BlockError("REGEN_FAILED", (e as Error).message);
    }

    // 3. signatures on the worker pool while 4. the state transition runs here
    let signaturesValid: Promise<boolean> | null = null;
    if (verifySignatures) {
      try {
        signaturesValid = this.bls.verifySignatureSets(getBlockSignatureSets(post, signed));
      } catch (e) {
        throw new BlockError("INVALID_SIGNATURE", (e as Error).message);
      }
    }
    try {
      processBlock(post, block, false);
    } catch (e) {
      await signaturesValid?.catch(() => false);
      throw new BlockError("INVALID_STATE_TRANSITION", (e as Error).message);
    }
    const stateRoot = post.state.hashTreeRoot();
    if (!bytesEqual(stateRoot, block.stateRoot)) {
      await signaturesValid?.catch(() => false);
      throw new BlockError("INVALID_STATE_TRANSITION", `state root ${toHex(block.stateRoot)} != computed ${toHex(stateRoot)}`);
    }
    if (signaturesValid && !(await signaturesValid)) throw new BlockError("INVALID_SIGNATURE", `block ${root} has an invalid signature`);

    // 5. fork choice, caches, database
    const summary = this.blockSummary(post, block, root);
    const previousFinalized = this.forkChoice.getFinalizedCheckpoint();
    const previousJustified = this.forkChoice.getJustifiedCheckpoint();
    const headBefore = this.head;
    this.forkChoice.onBlock(summary, Math.max(this.forkChoice.getCurrentSlot(), block.slot));
    for (const att of block.body.attestations) this.onAttestation(att, post);
    this.blockStates.set(root, post);
    this.hotBlocks.set(root, { slot: block.slot, parent });
    await this.updateHead("importBlock");

    const batch = this.db.newBatch().putBlock(rootBytes, signed).putBlockSummary(rootBytes, summary);
    const epoch = computeEpochAtSlot(c, block.slot);
    const parentSlot = this.hotBlocks.get(parent)?.slot ?? this.forkChoice.getBlock(parent)?.slot ?? 0;
    const firstOfEpoch = computeEpochAtSlot(c, parentSlot) < epoch;
    if (epoch % this.opts.hotStateEveryEpochs === 0 && firstOfEpoch) {
      batch.putHotState(rootBytes, block.slot, this.serializeHotState(post));
    }
    // the votes, once an epoch: without them a restarted node's head is an arbitrary leaf until attestations arrive
    if (firstOfEpoch) batch.putForkChoiceVotes(this.forkChoice.exportLatestMessages());
    const justified = this.forkChoice.getJustifiedCheckpoint();
    const finalized = this.forkChoice.getFinalizedCheckpoint();
    batch
      .putMeta("headRoot", fromHex(this.head))
      .putMeta("justifiedCheckpoint", { epoch: justified.epoch, root: fromHex(justified.root) })
      .putMeta("finalizedCheckpoint", { epoch: finalized.epoch, root: fromHex(finalized.root) });
    try {
      await batch.commit();
    } catch (e) {
      throw new BlockError("STORE_FAILED", (e as Error).message);
    }
    this.metrics.blocksImported++;
    this.metrics.importMs.push(performance.now() - start);
    if (firstOfEpoch && this.opts.gcEveryEpoch) {
      const gcStart = performance.now();
      getFullGc()?.();
      this.metrics.gcMs.push(performance.now() - gcStart);
    }
    this.emitter.emit("block", { slot: block.slot, root });
    this.emitHeadEvents(headBefore);
    if (justified.epoch > previousJustified.epoch) this.emitter.emit("justified", { ...justified });

    // 6. finality: the checkpoint is already persisted; archiving and pruning must not block import
    if (finalized.epoch > previousFinalized.epoch) {
      this.metrics.finalizations++;
      const node = this.forkChoice.getBlock(finalized.root);
      this.emitter.emit("finalized", { epoch: finalized.epoch, root: finalized.root, stateRoot: node?.stateRoot ?? finalized.root });
      this.background = this.background.then(() => this.onFinalized(finalized)).catch(() => undefined);
    }

    // children that were waiting for this block
    for (const child of this.pending.takeChildren(root)) {
      void this.processBlock(child, { verifySignatures }).catch(() => undefined);
    }
    return { status: "imported", root, head: this.head };
  }

  /**
   * The state's SSZ in a buffer reused across imports (valid until the next call; imports run one at a time and
   * await their batch). Allocating ~13 MB afresh every few epochs kept the native heap fragmented.
   */
  private serializeHotState(cached: CachedBeaconState): Uint8Array {
    const state = cached.state;
    state.commit();
    const size = state.type.tree_serializedSize(state.node);
    if (this.hotStateBuffer.length < size) this.hotStateBuffer = new Uint8Array(Math.ceil(size * 1.25));
    const out = this.hotStateBuffer.subarray(0, size);
    state.serializeToBytes({ uint8Array: out, dataView: new DataView(out.buffer, out.byteOffset, out.byteLength) }, 0);
    return out;
  }

  private blockSummary(post: CachedBeaconState, block: BeaconBlock, root: string): BlockSummary {
    const c = this.config;
    const s = post.state;
    const epochStart = computeStartSlotAtEpoch(c, computeEpochAtSlot(c, block.slot));
    const targetRoot = epochStart === block.slot ? root : toHex(s.blockRoots.get(epochStart % c.SLOTS_PER_HISTORICAL_ROOT));
    return {
      slot: block.slot,
      root,
      parentRoot: toHex(block.parentRoot),
      stateRoot: toHex(block.stateRoot),
      targetRoot,
      justifiedCheckpoint: { epoch: s.currentJustifiedCheckpoint.epoch, root: toHex(s.currentJustifiedCheckpoint.root) },
      finalizedCheckpoint: { epoch: s.finalizedCheckpoint.epoch, root: toHex(s.finalizedCheckpoint.root) },
    };
  }

  /** get_head, after making sure the justified checkpoint's balances are at hand (fork choice reads them synchronously). */
  private async updateHead(caller: RegenCaller): Promise<void> {
    const justified = this.forkChoice.getJustifiedCheckpoint();
    const key = `${justified.epoch}:${justified.root}`;
    if (!this.justifiedBalances.has(key)) {
      const state = await this.regen.getCheckpointState(justified.epoch, justified.root, caller);
      const epoch = justified.epoch;
      const balances = state.state.validators.getAllReadonlyValues().map((v) => (isActiveValidator(v, epoch) ? v.effectiveBalance : 0));
      this.justifiedBalances.set(key, balances);
    }
    this.head = this.forkChoice.getHead();
  }

  /** head (and, when the old head is not an ancestor of the new one, reorg) events after the head moved. */
  private emitHeadEvents(previous: string): void {
    if (previous === this.head) return;
    const c = this.config;
    const node = this.forkChoice.getBlock(this.head);
    if (!node) return;
    const prevNode = this.forkChoice.getBlock(previous);
    const epoch = computeEpochAtSlot(c, node.slot);
    this.emitter.emit("head", {
      slot: node.slot,
      block: this.head,
      state: node.stateRoot,
      epochTransition: prevNode ? computeEpochAtSlot(c, prevNode.slot) < epoch : true,
      previousDutyDependentRoot: this.getDependentRoot(this.head, epoch - 1),
      currentDutyDependentRoot: this.getDependentRoot(this.head, epoch),
    });
    if (prevNode && !this.forkChoice.isDescendant(previous, this.head)) {
      this.metrics.reorgs++;
      let ancestorSlot = prevNode.slot;
      for (let r: string | undefined = prevNode.parentRoot; r; ) {
        const n = this.forkChoice.getBlock(r);
        if (!n) break;
        ancestorSlot = n.slot;
        if (this.forkChoice.isDescendant(r, this.head)) break;
        r = n.parentRoot;
      }
      this.emitter.emit("reorg", {
        slot: node.slot,
        depth: prevNode.slot - ancestorSlot,
        oldHeadBlock: previous,
        newHeadBlock: this.head,
        oldHeadState: prevNode.stateRoot,
        newHeadState: node.stateRoot,
        epoch,
      });
    }
  }

  /**
   * The root that duties of `epoch` depend on, seen from `root`: the block at the last slot before the epoch (for
   * proposer duties of `epoch`, and attester duties of `epoch + 1`); the anchor before the chain's start.
   */
  getDependentRoot(root: string, epoch: number): string {
    const slot = computeStartSlotAtEpoch(this.config, epoch) - 1;
    if (slot < this.anchor.summary.slot) return this.anchor.summary.root;
    return this.forkChoice.getAncestor(root, slot) ?? this.forkChoice.getFinalizedCheckpoint().root;
  }

  /** The wall clock reached `slot`: fork choice's on_tick (which may adopt a better justified checkpoint), then the head. */
  onClockSlot(slot: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queue.push(async () => {
      if (slot <= this.forkChoice.getCurrentSlot()) return;
      this.forkChoice.onTick(slot);
      const previous = this.head;
      await this.updateHead("forkChoice");
      this.emitHeadEvents(previous);
    });
  }

  // --- queries (API, sync) -------------------------------------------------------------------------------------

  get anchorSummary(): BlockSummary {
    return this.anchor.summary;
  }

  /** The anchor (genesis or latest finalized) state, which every other state descends from. Do not mutate. */
  get anchorState(): CachedBeaconState {
    return this.anchor.state;
  }

  /** A block by root, hot or finalized. */
  getBlockByRoot(rootHex: string): Promise<SignedBeaconBlock | null> {
    return this.getBlockByRootInternal(rootHex);
  }

  /** The canonical chain's block root at `slot` (null for a skipped slot or a slot past the head). */
  async getCanonicalBlockRootAtSlot(slot: number): Promise<string | null> {
    const headNode = this.forkChoice.getBlock(this.head);
    if (!headNode || slot > headNode.slot) return null;
    const finalizedSlot = this.forkChoice.getBlock(this.forkChoice.getFinalizedCheckpoint().root)?.slot ?? 0;
    if (slot >= finalizedSlot) {
      const r = this.forkChoice.getAncestor(this.head, slot);
      if (r !== undefined) return this.forkChoice.getBlock(r)?.slot === slot ? r : null;
    }
    if (slot === this.anchor.summary.slot) return this.anchor.summary.root;
    const block = await this.db.getFinalizedBlockBySlot(slot);
    return block ? toHex(this.config.types.BeaconBlock.hashTreeRoot(block.message)) : null;
  }

  /** Whether a known block is on the canonical chain (an ancestor of the head, or finalized). */
  async isCanonical(rootHex: string): Promise<boolean> {
    if (this.forkChoice.hasBlock(rootHex)) return this.forkChoice.isDescendant(rootHex, this.head);
    return (await this.db.getFinalizedSlotByRoot(fromHex(rootHex))) !== null || rootHex === this.anchor.summary.root;
  }

  private getJustifiedBalancesSync(cp: CheckpointHex): number[] {
    const balances = this.justifiedBalances.get(`${cp.epoch}:${cp.root}`);
    if (!balances) throw new Error(`justified balances for ${cp.epoch}:${cp.root} were not prepared`);
    return balances;
  }

  private async getBlockByRootInternal(rootHex: string): Promise<SignedBeaconBlock | null> {
    const root = fromHex(rootHex);
    return (await this.db.getBlock(root)) ?? (await this.db.getFinalizedBlockByRoot(root));
  }

  private async getPersistedState(rootHex: string): Promise<CachedBeaconState | null> {
    if (rootHex === this.anchor.summary.root) return this.anchor.state;
    const hot = await this.db.getHotState(fromHex(rootHex));
    if (!hot) return null;
    const view = this.config.types.BeaconState.deserializeToViewDU(hot.bytes);
    return createCachedBeaconState(this.config, view, { pubkeyCache: this.pubkeyCache, shufflingCache: this.shufflingCache });
  }

  /**
   * Runs in the background after a new finalized checkpoint: canonical blocks move to the cold store, blocks that
   * conflict with finality are deleted, caches and old hot states are pruned, a cold state is kept every N epochs.
   */
  private async onFinalized(finalized: CheckpointHex): Promise<void> {
    const c = this.config;
    const finalizedSlot = computeStartSlotAtEpoch(c, finalized.epoch);
    const canonical = new Set<string>();
    for (let r: string | undefined = finalized.root; r && this.hotBlocks.has(r); r = this.hotBlocks.get(r)?.parent) canonical.add(r);
    const batch = this.db.newBatch();
    const archived: string[] = [];
    for (const [root, info] of this.hotBlocks) {
      if (info.slot > finalizedSlot && root !== finalized.root) continue;
      if (canonical.has(root)) {
        const block = await this.db.getBlock(fromHex(root));
        if (block) batch.putFinalizedBlock({ slot: info.slot, root: fromHex(root), block });
      }
      batch.deleteBlock(fromHex(root)).deleteBlockSummaries([fromHex(root)]);
      archived.push(root);
    }
    // the finalized state becomes the new anchor, so restarts and regen never need what was pruned
    const finalizedState = await this.regen.getCheckpointState(finalized.epoch, finalized.root, "forkChoice");
    const anchorSummary = this.forkChoice.getBlock(finalized.root);
    if (anchorSummary) {
      batch
        .putColdState(finalizedState.state.slot, finalizedState.state.serialize())
        .putBlockSummary(fromHex(finalized.root), { ...anchorSummary, justifiedCheckpoint: finalized, finalizedCheckpoint: finalized })
        .putMeta("anchor", { slot: finalizedState.state.slot, blockRoot: fromHex(finalized.root), stateRoot: finalizedState.state.hashTreeRoot() });
      this.anchor = { summary: { ...anchorSummary, justifiedCheckpoint: finalized, finalizedCheckpoint: finalized }, state: finalizedState };
    }
    await batch.commit();
    for (const root of archived) if (root !== finalized.root) this.hotBlocks.delete(root);
    this.checkpointStates.pruneFinalized(finalized.epoch);
    this.blockStates.prune((root) => {
      const info = this.hotBlocks.get(root);
      return root !== finalized.root && root !== this.head && (!info || info.slot < finalizedSlot);
    });
    this.pending.pruneFinalized(finalizedSlot);
    for (const key of this.justifiedBalances.keys()) if (Number(key.split(":")[0]) < finalized.epoch) this.justifiedBalances.delete(key);
    await this.pruneHotStates(finalizedSlot);
  }

  private async pruneHotStates(finalizedSlot: number): Promise<void> {
    const all = await this.db.listHotStates();
    all.sort((a, b) => b.slot - a.slot);
    const batch = this.db.newBatch();
    let n = 0;
    all.forEach((s, i) => {
      if (i >= this.opts.hotStatesKept || s.slot < finalizedSlot) {
        batch.deleteHotState(s.root, s.slot);
        n++;
      }
    });
    if (n > 0) await batch.commit();
  }

  /** Periodic maintenance during long non-finality: keep only the newest hot states on disk. */
  async pruneHotStatesNow(): Promise<void> {
    await this.pruneHotStates(computeStartSlotAtEpoch(this.config, this.forkChoice.getFinalizedCheckpoint().epoch));
  }

  /** Wait for queued imports and background work (archiving) to finish. */
  async settle(): Promise<void> {
    await this.queue.drain();
    await this.background;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.settle();
  }
}

function toForkChoiceAttestation(attestingIndices: number[], att: Attestation) {
  return {
    attestingIndices,
    data: {
      slot: att.data.slot,
      beaconBlockRoot: toHex(att.data.beaconBlockRoot),
      target: { epoch: att.data.target.epoch, root: toHex(att.data.target.root) },
    },
  };
}

