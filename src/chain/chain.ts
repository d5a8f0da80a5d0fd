// The beacon chain: the one writer of fork choice, the state caches and the hot database. Blocks come in through one
// door, processBlock(), from gossip, the API, range sync, parent lookup and the harness alike, and go through the
// staged pipeline of blocks/ (see blocks/types.ts): sanity -> proposer -> state transition -> stored -> head.
// Around it: head and reorg events (events.ts), archiving at finality (archiver.ts), restarts (fromDb) and the
// read-only lookups everything outside src/chain uses (query.ts). Nothing outside src/chain touches fork choice,
// regen or the state caches.
import { EventEmitter } from "node:events";
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import { ForkChoice, type BlockSummary, type CheckpointHex } from "../fork-choice/index.js";
import { MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS } from "../params/index.js";
import { createCachedBeaconState, type CachedBeaconState, PubkeyCache, ShufflingCache, EpochContext } from "../state-transition/index.js";
import { getIndexedAttestation } from "../state-transition/util/attestation.js";
import { computeEpochAtSlot } from "../state-transition/util/epoch.js";
import { bytesEqual, fromHex, toHex } from "../state-transition/util/math.js";
import { isActiveValidator } from "../state-transition/util/validator.js";
import type { Attestation, SignedBeaconBlock } from "../types/index.js";
import { yieldToEventLoop } from "../util/eventLoop.js";
import { Archiver } from "./archiver.js";
import type { BlsVerifier } from "./bls/interface.js";
import { BlockError, blockErrorOutcome } from "./blocks/errors.js";
import { importVerifiedBlock } from "./blocks/importBlock.js";
import { verifyProposer } from "./blocks/proposer.js";
import { checkBlockSanity } from "./blocks/sanity.js";
import { verifyBlockStateTransition } from "./blocks/stateTransition.js";
import { validateGossipBlock, type SeenProposers } from "./blocks/gossip.js";
import type { BlockInput, GossipVerifiedBlock, ImportResult } from "./blocks/types.js";
import { emitHeadEvents, getDependentRoot, type ChainEvents } from "./events.js";
import { getFullGc } from "./gc.js";
import { JobQueue, QueueFullError } from "./jobQueue.js";
import { PendingBlocks } from "./pendingBlocks.js";
import { ChainQuery } from "./query.js";
import { QueuedStateRegenerator, type RegenCaller } from "./regen/queued.js";
import { StateRegenerator, type RegenStats } from "./regen/stateRegenerator.js";
import { BlockStateCache, CheckpointStateCache, LruCache } from "./stateCache.js";

export type { ImportResult } from "./blocks/types.js";
export type { ChainEvents, HeadEvent, ReorgEvent } from "./events.js";

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
  /** run a full GC after the first block of every epoch (see gc.ts) */
  gcEveryEpoch: boolean;
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

export class BeaconChain {
  readonly emitter = new EventEmitter<ChainEvents>();
  readonly query: ChainQuery;
  /** src/chain only */
  readonly forkChoice: ForkChoice;
  readonly regen: QueuedStateRegenerator;
  readonly blockStates: BlockStateCache;
  readonly checkpointStates: CheckpointStateCache;
  readonly pending: PendingBlocks;
  /** roots of blocks that failed validation, and of their descendants seen since */
  readonly invalidBlocks = new LruCache<true>(1024);
  readonly metrics: ChainMetrics = { blocksImported: 0, importMs: [], reorgs: 0, finalizations: 0, gcMs: [], metaWriteFailures: 0 };
  private readonly queue: JobQueue;
  private readonly archiver: Archiver;
  private readonly justifiedBalances = new Map<string, number[]>();
  /** unfinalized blocks known to this chain: root -> slot and parent, for archiving at finality */
  private readonly hotBlocks = new Map<string, { slot: number; parent: string }>();
  private head: string;
  private background: Promise<void> = Promise.resolve();
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
    regenStats: RegenStats,
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
      { getBlock: (r) => this.query.getSignedBlock(r), getPersistedState: (r) => this.getPersistedState(r) },
      regenStats,
      opts.maxReplayBlocks,
    );
    this.regen = new QueuedStateRegenerator(regen, this.blockStates, this.checkpointStates, regenStats);
    this.forkChoice = new ForkChoice(config, { block: anchor.summary, stateSlot: anchor.state.state.slot }, (cp) => this.getJustifiedBalancesSync(cp), {
      pruneThreshold: opts.forkChoicePruneThreshold,
    });
    this.head = anchor.summary.root;
    this.query = new ChainQuery(this);
    this.archiver = new Archiver({
      config,
      db,
      forkChoice: this.forkChoice,
      hotStatesKept: opts.hotStatesKept,
      headRoot: () => this.head,
      getCheckpointState: (epoch, root) => this.regen.getCheckpointState(epoch, root, "forkChoice"),
      setAnchor: (summary, state) => (this.anchor = { summary, state }),
      pruneCaches: (finalized, finalizedSlot) => this.pruneCaches(finalized, finalizedSlot),
    });
  }

  /**
   * A new chain from a genesis (or other trusted anchor) state, written to an empty database. A checkpoint anchor
   * comes with its block, stored as the first finalized block (served to peers and the API); history before it is
   * filled in later by backfill (src/sync/backfill.ts), from the position written here.
   */
  static async fromAnchorState(
    config: BeaconConfig,
    db: BeaconDb,
    bls: BlsVerifier,
    anchorState: CachedBeaconState,
    opts: Partial<ChainOptions> = {},
    anchorBlock?: { block: SignedBeaconBlock; genesisBlockRoot: Uint8Array | null },
  ): Promise<BeaconChain> {
    const state = anchorState.state;
    const header = state.latestBlockHeader.toValue();
    if (bytesEqual(header.stateRoot, new Uint8Array(32))) header.stateRoot = state.hashTreeRoot();
    const rootBytes = config.types.BeaconBlockHeader.hashTreeRoot(header);
    const root = toHex(rootBytes);
    if (anchorBlock && toHex(config.types.BeaconBlock.hashTreeRoot(anchorBlock.block.message)) !== root) {
      throw new Error(`the anchor block is not the anchor state's latest block ${root}`);
    }
    const epoch = computeEpochAtSlot(config, state.slot);
    const checkpoint = { epoch, root };
    const summary: BlockSummary = {
      slot: header.slot,
      root,
      parentRoot: toHex(header.parentRoot),
      stateRoot: toHex(header.stateRoot),
      targetRoot: root,
      justifiedCheckpoint: checkpoint,
      finalizedCheckpoint: checkpoint,
    };
    const batch = db
      .newBatch()
      .putColdState(state.slot, state.serialize())
      .putBlockSummary(rootBytes, summary)
      .putMeta("anchor", { slot: state.slot, blockRoot: rootBytes, stateRoot: header.stateRoot })
      .putMeta("finalizedCheckpoint", { epoch, root: rootBytes })
      .putMeta("justifiedCheckpoint", { epoch, root: rootBytes })
      .putMeta("headRoot", rootBytes);
    if (anchorBlock) {
      const { block, genesisBlockRoot } = anchorBlock;
      const complete = block.message.slot === 0 || (genesisBlockRoot !== null && bytesEqual(block.message.parentRoot, genesisBlockRoot));
      batch
        .putFinalizedBlock({ slot: block.message.slot, root: rootBytes, block })
        .putMeta("backfill", { slot: block.message.slot, parentRoot: block.message.parentRoot, genesisBlockRoot, complete });
    }
    await batch.commit();
    // the chain's states share one shuffling cache: rebuild the anchor's epoch context on it
    const shufflingCache = new ShufflingCache();
    anchorState.epochCtx = EpochContext.createFromState(config, state, anchorState.epochCtx.pubkeyCache, shufflingCache);
    const o = { ...defaultChainOptions(config), ...opts };
    return new BeaconChain(config, db, bls, o, { summary, state: anchorState }, anchorState.epochCtx.pubkeyCache, shufflingCache, { blocksReplayed: 0 });
  }

  /**
   * Resume from the database: fork choice is rebuilt from the stored block summaries (no block is replayed for it),
   * then the head state is regenerated from the nearest persisted state below it (the anchor, at worst).
   */
  static async fromDb(config: BeaconConfig, db: BeaconDb, bls: BlsVerifier, opts: Partial<ChainOptions> = {}): Promise<BeaconChain> {
    const anchorMeta = await db.getMeta("anchor");
    if (!anchorMeta) throw new Error(`database at ${db.path} has no chain anchor: start from a genesis state`);
    const anchorBytes = await db.getColdState(anchorMeta.slot);
    if (!anchorBytes) throw new Error(`database at ${db.path} lacks its anchor state (slot ${anchorMeta.slot})`);
    const pubkeyCache = new PubkeyCache();
    const shufflingCache = new ShufflingCache();
    const anchorState = createCachedBeaconState(config, config.types.BeaconState.deserializeToViewDU(anchorBytes), { pubkeyCache, shufflingCache });
    const summaries = (await db.getBlockSummaries()) as BlockSummary[];
    const anchorRoot = toHex(anchorMeta.blockRoot);
    const anchorSummary = summaries.find((s) => s.root === anchorRoot);
    if (!anchorSummary) throw new Error(`database at ${db.path} lacks the anchor block summary ${anchorRoot}`);
    const o = { ...defaultChainOptions(config), ...opts };
    const chain = new BeaconChain(config, db, bls, o, { summary: anchorSummary, state: anchorState }, pubkeyCache, shufflingCache, { blocksReplayed: 0 });
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

  get anchorSummary(): BlockSummary {
    return this.anchor.summary;
  }

  /** The anchor (genesis or latest finalized) state, which every other state descends from. Do not mutate. */
  get anchorState(): CachedBeaconState {
    return this.anchor.state;
  }

  /** The latest slot a block may have now: the wall clock's slot, with MAXIMUM_GOSSIP_CLOCK_DISPARITY. */
  latestAcceptableSlot(): number {
    const genesisMs = this.anchor.state.state.genesisTime * 1000;
    return Math.floor((this.opts.now() + MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS - genesisMs) / (this.config.SECONDS_PER_SLOT * 1000));
  }

  /** The head's post-state (shared: do not mutate). */
  getHeadState(caller: RegenCaller = "api"): Promise<CachedBeaconState> {
    return this.regen.getBlockState(this.head, caller);
  }

  /**
   * The one door for blocks. Resolves when the block is imported or held until its parent arrives; rejects with a
   * BlockError (blockErrorOutcome() says whose fault). A GossipVerifiedBlock keeps what gossip validation proved.
   */
  processBlock(input: BlockInput | GossipVerifiedBlock): Promise<ImportResult> {
    if (this.closed) return Promise.reject(new BlockError({ code: "CHAIN_CLOSED" }));
    return this.queue.push(() => this.runPipeline(input)).catch((e: unknown) => {
      if (e instanceof QueueFullError) throw new BlockError({ code: "QUEUE_FULL", queueLength: this.queue.length });
      throw e;
    });
  }

  /** The beacon_block gossip rules (blocks/gossip.ts); the result goes on to processBlock(). */
  validateGossipBlock(signed: SignedBeaconBlock, seen: SeenProposers): Promise<GossipVerifiedBlock> {
    return validateGossipBlock({ ...this.sanityContext, regen: this.regen, bls: this.bls, getHeadState: () => this.getHeadState("gossip") }, signed, seen);
  }

  private async runPipeline(input: BlockInput | GossipVerifiedBlock): Promise<ImportResult> {
    const start = performance.now();
    let root = input.root;
    try {
      const sane = checkBlockSanity(this.sanityContext, input);
      root = sane.root;
      // range sync verifies the proposer signature in the block's batch (one multi-pairing); the others first, alone
      const gv =
        "proposerState" in input
          ? { ...input, ...sane }
          : await verifyProposer(this, sane, { verifySignature: sane.source !== "sync" && sane.source !== "harness" });
      await yieldToEventLoop();
      const fv = await verifyBlockStateTransition(this, gv);
      await yieldToEventLoop();
      const headBefore = this.head;
      const justifiedBefore = this.forkChoice.getJustifiedCheckpoint();
      const finalizedBefore = this.forkChoice.getFinalizedCheckpoint();
      const { firstOfEpoch } = await importVerifiedBlock(this.importContext, fv);
      this.hotBlocks.set(fv.root, { slot: fv.signed.message.slot, parent: fv.parentRoot });
      await this.updateHead("importBlock");
      this.afterImport(fv.signed, fv.root, start, firstOfEpoch, headBefore, justifiedBefore, finalizedBefore);
      return { status: "imported", root: fv.root, head: this.head };
    } catch (e) {
      if (!(e instanceof BlockError)) throw e;
      if (e.data.code === "PARENT_UNKNOWN") {
        this.pending.add(input.signed, e.data.root, e.data.parentRoot);
        return { status: "pending", root: e.data.root };
      }
      root = "root" in e.data ? e.data.root : root;
      if (root && blockErrorOutcome(e).markInvalid) this.invalidBlocks.set(root, true);
      throw e;
    }
  }

  private afterImport(
    signed: SignedBeaconBlock,
    root: string,
    start: number,
    firstOfEpoch: boolean,
    headBefore: string,
    justifiedBefore: CheckpointHex,
    finalizedBefore: CheckpointHex,
  ): void {
    this.metrics.blocksImported++;
    this.metrics.importMs.push(performance.now() - start);
    this.background = this.background
      .then(() => this.archiver.persistHead(this.head, firstOfEpoch))
      .catch(() => void this.metrics.metaWriteFailures++);
    if (firstOfEpoch && this.opts.gcEveryEpoch) {
      const gcStart = performance.now();
      getFullGc()?.();
      this.metrics.gcMs.push(performance.now() - gcStart);
    }
    this.emitter.emit("block", { slot: signed.message.slot, root });
    if (emitHeadEvents(this, headBefore)) this.metrics.reorgs++;
    const justified = this.forkChoice.getJustifiedCheckpoint();
    if (justified.epoch > justifiedBefore.epoch) this.emitter.emit("justified", { ...justified });
    const finalized = this.forkChoice.getFinalizedCheckpoint();
    if (finalized.epoch > finalizedBefore.epoch) {
      // the checkpoint is known from the block summaries; archiving and pruning must not block import
      this.metrics.finalizations++;
      const node = this.forkChoice.getBlock(finalized.root);
      this.emitter.emit("finalized", { epoch: finalized.epoch, root: finalized.root, stateRoot: node?.stateRoot ?? finalized.root });
      this.background = this.background.then(() => this.archiver.onFinalized(finalized, this.hotBlocks)).catch(() => undefined);
    }
    for (const child of this.pending.takeChildren(root)) void this.processBlock({ signed: child, source: "pending" }).catch(() => undefined);
  }

  /** An attestation seen outside a block (gossip or the harness), its signature already checked by the caller. */
  onAttestation(attestation: Attestation, state: CachedBeaconState): void {
    try {
      const indexed = getIndexedAttestation(state.epochCtx, attestation);
      const data = attestation.data;
      this.forkChoice.onAttestation({
        attestingIndices: indexed.attestingIndices,
        data: { slot: data.slot, beaconBlockRoot: toHex(data.beaconBlockRoot), target: { epoch: data.target.epoch, root: toHex(data.target.root) } },
      });
    } catch {
      // not applicable to fork choice (unknown block, too old): ignored, as gossip would
    }
  }

  /** The wall clock reached `slot`: fork choice's on_tick (which may adopt a better justified checkpoint), then the head. */
  onClockSlot(slot: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return this.queue.push(async () => {
      if (slot <= this.forkChoice.getCurrentSlot()) return;
      this.forkChoice.onTick(slot);
      const previous = this.head;
      await this.updateHead("forkChoice");
      if (emitHeadEvents(this, previous)) this.metrics.reorgs++;
    });
  }

  /** See events.ts. */
  getDependentRoot(root: string, epoch: number): string {
    return getDependentRoot(this, root, epoch);
  }

  /** Periodic maintenance during long non-finality: keep only the hot states that restarts and regen need. */
  async pruneHotStatesNow(): Promise<void> {
    await this.archiver.pruneHotStates(this.head);
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

  private getJustifiedBalancesSync(cp: CheckpointHex): number[] {
    const balances = this.justifiedBalances.get(`${cp.epoch}:${cp.root}`);
    if (!balances) throw new Error(`justified balances for ${cp.epoch}:${cp.root} were not prepared`);
    return balances;
  }

  private get sanityContext() {
    return { config: this.config, forkChoice: this.forkChoice, invalidBlocks: this.invalidBlocks, latestSlot: () => this.latestAcceptableSlot() };
  }

  private get importContext() {
    return {
      config: this.config,
      db: this.db,
      forkChoice: this.forkChoice,
      blockStates: this.blockStates,
      hotStateEveryEpochs: this.opts.hotStateEveryEpochs,
      serializeHotState: (s: CachedBeaconState) => this.archiver.serializeHotState(s),
      onAttestation: (a: Attestation, s: CachedBeaconState) => this.onAttestation(a, s),
    };
  }

  private async getPersistedState(rootHex: string): Promise<CachedBeaconState | null> {
    if (rootHex === this.anchor.summary.root) return this.anchor.state;
    const hot = await this.db.getHotState(fromHex(rootHex));
    if (!hot) return null;
    const view = this.config.types.BeaconState.deserializeToViewDU(hot.bytes);
    return createCachedBeaconState(this.config, view, { pubkeyCache: this.pubkeyCache, shufflingCache: this.shufflingCache });
  }

  private pruneCaches(finalized: CheckpointHex, finalizedSlot: number): void {
    this.checkpointStates.pruneFinalized(finalized.epoch);
    this.blockStates.prune((root) => {
      const info = this.hotBlocks.get(root);
      return root !== finalized.root && root !== this.head && (!info || info.slot < finalizedSlot);
    });
    this.pending.pruneFinalized(finalizedSlot);
    for (const key of this.justifiedBalances.keys()) if (Number(key.split(":")[0]) < finalized.epoch) this.justifiedBalances.delete(key);
  }
}
