// The beacon chain: the one writer of fork choice, the state caches and the hot database. Blocks come in through one
// door, processBlock(), from gossip, the API, range sync, parent lookup and the harness alike, and go through the
// staged pipeline of blocks/ (see blocks/types.ts): sanity -> proposer -> state transition -> stored -> head.
// Around it: head and reorg events (events.ts), archiving at finality (archiver.ts), restarts (fromDb) and the
// read-only lookups everything outside src/chain uses (query.ts). Nothing outside src/chain touches fork choice,
// regen or the state caches.
import { EventEmitter } from "node:events";
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import { ForkChoice, toForkChoiceAttestation, type BlockSummary, type CheckpointHex } from "../fork-choice/index.js";
import { MAXIMUM_GOSSIP_CLOCK_DISPARITY_MS } from "../params/index.js";
import type { CachedBeaconState, PubkeyCache, ShufflingCache } from "../state-transition/index.js";
import { computeEpochAtSlot } from "../state-transition/util/epoch.js";
import type { PubkeyTable, SignatureSet } from "../crypto/bls.js";
import { getIndexedAttestation } from "../state-transition/util/attestation.js";
import type { Attestation, SignedBeaconBlock } from "../types/index.js";
import { yieldToEventLoop } from "../util/eventLoop.js";
import { Archiver, type ArchiveStats } from "./archiver.js";
import type { BlsVerifier } from "./bls/interface.js";
import { BlockError, blockErrorOutcome } from "./blocks/errors.js";
import { importVerifiedBlock } from "./blocks/importBlock.js";
import { checkProposerIndex, verifyProposer } from "./blocks/proposer.js";
import { checkBlockSanity } from "./blocks/sanity.js";
import { transitionBlock, verifyBlockStateTransition } from "./blocks/stateTransition.js";
import { validateGossipBlock, type SeenProposers } from "./blocks/gossip.js";
import type { BlockInput, FullyVerifiedBlock, GossipVerifiedBlock, ImportResult } from "./blocks/types.js";
import { emitHeadEvents, getDependentRoot, type ChainEvents } from "./events.js";
import { loadHotState, readStoredChain, writeAnchor, type AnchorBlock } from "./init.js";
import { JustifiedBalances } from "./justifiedBalances.js";
import { FullGcScheduler } from "./gc.js";
import { VerifiedAttestations } from "./verifiedAttestations.js";
import { JobQueue, QueueFullError } from "./jobQueue.js";
import { PendingBlocks } from "./pendingBlocks.js";
import { ChainQuery } from "./query.js";
import { QueuedStateRegenerator, type RegenCaller } from "./regen/queued.js";
import { StateRegenerator, type RegenStats } from "./regen/stateRegenerator.js";
import { BlockStateCache, CheckpointStateCache, LruCache } from "./stateCache.js";
import { defaultChainOptions, type ChainMetrics, type ChainOptions } from "./options.js";

export type { ImportResult } from "./blocks/types.js";

/**
 * Signature sets of consecutive segment blocks verified as one batch: enough for both workers of a 2-core pool to
 * share (the pool cuts a batch into jobs of 16 sets or more), few enough that the first verdict comes early.
 */
const SEGMENT_SETS_PER_BATCH = 32;
/** imported blocks kept decoded in memory for the API (~0.1 MB each at mainnet size) */
const RECENT_BLOCKS = 32;
/** blocks the segment's producer may be ahead of its committer (each holds a post-state until committed) */
const SEGMENT_MAX_LEAD = 64;

export interface SegmentOptions {
  /** default true */
  verifySignatures?: boolean;
  /** each block as it is imported, in order */
  onImported?: (slot: number, root: string) => void;
  maxSetsPerBatch?: number;
  /** blocks the producer may run ahead of the committer (default SEGMENT_MAX_LEAD) */
  maxLead?: number;
}

/** Why a segment stopped at block `index` (the blocks after it were not imported). */
export type SegmentStop = { index: number; error: BlockError } | { index: number; parentUnknown: true; root: string };

export interface SegmentResult {
  imported: number;
  /** leading blocks already known, or at or before the finalized slot */
  skipped: number;
  stop: SegmentStop | null;
}

interface SegmentItem {
  fv: FullyVerifiedBlock;
  /** null when signatures are not verified */
  verdict: Promise<boolean> | null;
  start: number;
  index: number;
}
export { defaultChainOptions, type ChainMetrics, type ChainOptions } from "./options.js";
export type { ChainEvents, HeadEvent, ReorgEvent } from "./events.js";

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
  /** attestations whose signatures were verified here: a block carrying one again skips its signature set */
  readonly verifiedAttestations: VerifiedAttestations;
  readonly metrics: ChainMetrics = { blocksImported: 0, importMs: [], reorgs: 0, finalizations: 0, gcMs: [], metaWriteFailures: 0 };
  private readonly queue: JobQueue;
  private readonly gc: FullGcScheduler;
  private readonly archiver: Archiver;
  private readonly justifiedBalances = new JustifiedBalances();
  /**
   * The last RECENT_BLOCKS imported blocks, decoded, by root, while fork choice holds them: what the API asks for
   * most (the head's header and block) is served without a database read, which would cost the request a turn of
   * a busy event loop.
   */
  private readonly recentBlocks = new Map<string, SignedBeaconBlock>();
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
    this.gc = new FullGcScheduler(opts.gcMinIntervalMs);
    this.verifiedAttestations = new VerifiedAttestations(config);
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
    this.forkChoice = new ForkChoice(config, { block: anchor.summary, stateSlot: anchor.state.state.slot }, (cp) => this.justifiedBalances.get(cp), {
      pruneThreshold: opts.forkChoicePruneThreshold,
    });
    this.head = anchor.summary.root;
    this.query = new ChainQuery(this);
    this.archiver = new Archiver({
      config,
      db,
      forkChoice: this.forkChoice,
      hotStatesKept: opts.hotStatesKept,
      coldStateEveryEpochs: opts.coldStateEveryEpochs,
      headRoot: () => this.head,
      getCheckpointState: (epoch, root) => this.regen.getCheckpointState(epoch, root, "forkChoice"),
      anchorSlot: () => this.anchor.state.state.slot,
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
    anchorBlock?: AnchorBlock,
  ): Promise<BeaconChain> {
    const { summary, state, shufflingCache } = await writeAnchor(config, db, anchorState, anchorBlock);
    const o = { ...defaultChainOptions(config), ...opts };
    return new BeaconChain(config, db, bls, o, { summary, state }, state.epochCtx.pubkeyCache, shufflingCache, { blocksReplayed: 0 });
  }

  /**
   * Resume from the database: fork choice is rebuilt from the stored block summaries (no block is replayed for it),
   * then the head state is regenerated from the nearest persisted state below it (the anchor, at worst).
   */
  static async fromDb(config: BeaconConfig, db: BeaconDb, bls: BlsVerifier, opts: Partial<ChainOptions> = {}): Promise<BeaconChain> {
    const stored = await readStoredChain(config, db);
    const o = { ...defaultChainOptions(config), ...opts };
    const chain = new BeaconChain(config, db, bls, o, stored.anchor, stored.pubkeyCache, stored.shufflingCache, { blocksReplayed: 0 });
    const maxSlot = stored.summaries.length ? stored.summaries[stored.summaries.length - 1].slot : stored.anchor.summary.slot;
    for (const s of stored.summaries) {
      try {
        chain.forkChoice.onBlock(s, maxSlot);
        chain.hotBlocks.set(s.root, { slot: s.slot, parent: s.parentRoot });
      } catch {
        // a block that fork choice no longer accepts (conflicts with finality): left for pruning
      }
    }
    if (stored.votes) chain.forkChoice.importLatestMessages(stored.votes);
    await chain.updateHead("restart");
    await chain.regen.getBlockState(chain.head, "restart");
    return chain;
  }

  /** The validators' keys by index, as signature sets name them (shared with every state of this chain). */
  get pubkeyTable(): PubkeyTable {
    return this.pubkeyCache;
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
  latestSlot(): number {
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
    return validateGossipBlock({ ...this.pipelineContext, getHeadState: () => this.getHeadState("gossip") }, signed, seen);
  }

  private async runPipeline(input: BlockInput | GossipVerifiedBlock): Promise<ImportResult> {
    const start = performance.now();
    let root = input.root;
    try {
      const sane = checkBlockSanity(this.pipelineContext, input);
      root = sane.root;
      // range sync verifies the proposer signature in the block's batch (one multi-pairing); the others first, alone
      const gv =
        "proposerState" in input
          ? { ...input, ...sane }
          : await verifyProposer(this, sane, { verifySignature: sane.source !== "sync" && sane.source !== "harness" });
      await yieldToEventLoop();
      const fv = await verifyBlockStateTransition(this, gv);
      await yieldToEventLoop();
      await this.commitBlock(fv, start);
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

  /** Stage 4 and after: stored, in fork choice, the head recomputed, then events and background work. */
  private async commitBlock(fv: FullyVerifiedBlock, start: number): Promise<void> {
    const headBefore = this.head;
    const justifiedBefore = this.forkChoice.getJustifiedCheckpoint();
    const finalizedBefore = this.forkChoice.getFinalizedCheckpoint();
    const { firstOfEpoch } = await importVerifiedBlock(this.importContext, fv);
    this.hotBlocks.set(fv.root, { slot: fv.signed.message.slot, parent: fv.parentRoot });
    await this.updateHead("importBlock");
    this.afterImport(fv.signed, fv.root, start, firstOfEpoch, headBefore, justifiedBefore, finalizedBefore);
  }

  /**
   * Range sync's door: a downloaded batch of consecutive blocks, imported as a pipeline in one turn of the import
   * queue. Block N+1's state transition runs on this thread while the signatures of block N (and of the blocks
   * grouped with it in one batch) are verified on the BLS pool; blocks are committed strictly in order as their
   * verdicts come in, and none is stored or seen by fork choice before its signatures are valid. Blocks already
   * known (or at or before finality) at the start are skipped. The first failure stops the segment: the blocks
   * before it are imported, the ones after it are not tried.
   */
  processChainSegment(blocks: SignedBeaconBlock[], opts: SegmentOptions = {}): Promise<SegmentResult> {
    if (this.closed) return Promise.reject(new BlockError({ code: "CHAIN_CLOSED" }));
    return this.queue.push(() => this.runSegment(blocks, opts)).catch((e: unknown) => {
      if (e instanceof QueueFullError) throw new BlockError({ code: "QUEUE_FULL", queueLength: this.queue.length });
      throw e;
    });
  }

  private async runSegment(blocks: SignedBeaconBlock[], opts: SegmentOptions): Promise<SegmentResult> {
    const result: SegmentResult = { imported: 0, skipped: 0, stop: null };
    const stopAt = (stop: SegmentStop) => {
      if (result.stop === null || stop.index < result.stop.index) result.stop = stop;
    };
    const verifySignatures = opts.verifySignatures ?? true;
    const maxGroupSets = opts.maxSetsPerBatch ?? SEGMENT_SETS_PER_BATCH;
    const maxLead = Math.max(1, opts.maxLead ?? SEGMENT_MAX_LEAD);

    // produced blocks, in order, waiting for their verdicts; the committer takes them from the front
    const ready: SegmentItem[] = [];
    let produced = false;
    // the committer stopped at a block: nothing after it will be imported, so nothing more is worth verifying
    let aborted = false;
    let wakeCommitter: (() => void) | null = null;
    const wake = () => {
      const w = wakeCommitter;
      wakeCommitter = null;
      w?.();
    };

    // signature sets of consecutive blocks, verified as one batch; a failed batch is retried block by block
    let inFlight = 0;
    let group: { sets: SignatureSet[]; items: { sets: SignatureSet[]; resolve: (ok: boolean) => void }[] } = { sets: [], items: [] };
    const flush = () => {
      const g = group;
      group = { sets: [], items: [] };
      if (g.items.length === 0) return;
      if (aborted) {
        for (const it of g.items) it.resolve(false);
        return;
      }
      inFlight++;
      const all = this.bls.verifySignatureSets(g.sets).catch(() => false);
      void all.then(() => inFlight--);
      for (const it of g.items) {
        void all
          .then((ok) => ok || (g.items.length > 1 && !aborted && this.bls.verifySignatureSets(it.sets).catch(() => false)))
          .then((ok) => it.resolve(ok === true));
      }
    };

    // the producer waits when it is this far ahead of the committer (each block ahead holds a post-state)
    let committedUpTo = 0;
    let wakeProducer: (() => void) | null = null;
    const wakeP = () => {
      const w = wakeProducer;
      wakeProducer = null;
      w?.();
    };
    const committer = (async () => {
      try {
        for (;;) {
          if (committedUpTo >= ready.length) {
            if (produced) return;
            await new Promise<void>((r) => (wakeCommitter = r));
            continue;
          }
          const item = ready[committedUpTo];
          if (!(await this.commitSegmentItem(item, result, opts, stopAt))) {
            aborted = true;
            return;
          }
          committedUpTo++;
          wakeP();
        }
      } finally {
        // however it ends (done, a stop, an unexpected error), nothing more is produced for it
        aborted = true;
        wakeP();
      }
    })();
    void committer.catch(() => undefined);

    let prev: FullyVerifiedBlock | null = null;
    try {
      for (let i = 0; i < blocks.length && !aborted; i++) {
        if (ready.length - committedUpTo >= maxLead) {
          // what the committer waits for must be on its way first
          flush();
          while (!aborted && ready.length - committedUpTo >= maxLead) await new Promise<void>((r) => (wakeProducer = r));
          if (aborted) break;
        }
        const start = performance.now();
        const input: BlockInput = { signed: blocks[i], source: "sync", verifySignatures };
        let root: string | undefined;
        try {
          const sane = checkBlockSanity(this.pipelineContext, input, prev ? { root: prev.root, slot: prev.signed.message.slot } : undefined);
          root = sane.root;
          const gv: GossipVerifiedBlock =
            prev !== null && sane.parentRoot === prev.root
              ? { ...sane, proposerState: await this.segmentProposerState(prev, sane.signed.message.slot), proposerSignatureVerified: false }
              : await verifyProposer(this, sane, { verifySignature: false });
          checkProposerIndex(gv.proposerState, sane.signed.message.slot, sane.signed.message.proposerIndex);
          let verdict: Promise<boolean> | null = null;
          const fv = await transitionBlock(this, gv, (sets) => {
            verdict = new Promise<boolean>((resolve) => group.items.push({ sets, resolve }));
            for (const set of sets) group.sets.push(set);
          });
          ready.push({ fv, verdict, start, index: i });
          prev = fv;
          // a full batch goes at once; so does a partial one when the pool has nothing of this segment to do
          if (group.sets.length >= maxGroupSets || inFlight === 0) flush();
          wake();
        } catch (e) {
          if (!(e instanceof BlockError)) throw e;
          const code = e.data.code;
          if (prev === null && (code === "ALREADY_KNOWN" || code === "WOULD_REVERT_FINALIZED")) {
            result.skipped++;
            continue;
          }
          root = "root" in e.data ? e.data.root : root;
          if (code === "PARENT_UNKNOWN") stopAt({ index: i, parentUnknown: true, root: root ?? "" });
          else {
            if (root && blockErrorOutcome(e).markInvalid) this.invalidBlocks.set(root, true);
            stopAt({ index: i, error: e });
          }
          break;
        }
        await yieldToEventLoop();
      }
    } finally {
      flush();
      produced = true;
      wake();
      await committer;
    }
    return result;
  }

  /** A produced segment block, once its verdict is in: committed (true), or the segment's stop recorded (false). */
  private async commitSegmentItem(item: SegmentItem, result: SegmentResult, opts: SegmentOptions, stop: (s: SegmentStop) => void): Promise<boolean> {
    if (item.verdict && !(await item.verdict)) {
      stop({ index: item.index, error: new BlockError({ code: "INVALID_SIGNATURE", root: item.fv.root }) });
      return false;
    }
    try {
      await this.commitBlock(item.fv, item.start);
    } catch (e) {
      if (!(e instanceof BlockError)) throw e;
      stop({ index: item.index, error: e });
      return false;
    }
    result.imported++;
    opts.onImported?.(item.fv.signed.message.slot, item.fv.root);
    return true;
  }

  /** The base of a segment block's pre-state: its parent's post-state, or the parent's checkpoint state. */
  private segmentProposerState(parent: FullyVerifiedBlock, slot: number): Promise<CachedBeaconState> | CachedBeaconState {
    const epoch = computeEpochAtSlot(this.config, slot);
    if (computeEpochAtSlot(this.config, parent.postState.state.slot) === epoch) return parent.postState;
    // as regen makes it, from a parent regen cannot find yet (it is not imported): siblings of the epoch and fork
    // choice's justified balances ask for it later
    return this.regen.checkpointStateFrom(epoch, parent.root, parent.postState);
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
    // through a long non-finality nothing else drops old hot states (a 13 MB file every 2 epochs at mainnet size)
    if (firstOfEpoch) {
      this.background = this.background
        .then(async () => void (await this.archiver.pruneHotStates(this.head)))
        .catch(() => undefined);
    }
    if (firstOfEpoch && this.opts.gcEveryEpoch) this.gc.maybeRun(this.metrics.gcMs);
    this.recentBlocks.set(root, signed);
    if (this.recentBlocks.size > RECENT_BLOCKS) this.recentBlocks.delete(this.recentBlocks.keys().next().value!);
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
      if (node) {
        const block = { ...node };
        this.background = this.background.then(() => this.archiver.onFinalized(finalized, block, this.hotBlocks)).catch(() => undefined);
      }
    }
    for (const child of this.pending.takeChildren(root)) void this.processBlock({ signed: child, source: "pending" }).catch(() => undefined);
  }

  /**
   * An attestation for fork choice: seen on gossip, by the API's pools or the harness (its signature checked by the
   * caller), or in an imported block (`signatureVerified` false when the block's signatures were not verified).
   */
  onAttestation(attestation: Attestation, state: CachedBeaconState, signatureVerified = true): void {
    try {
      const { attestingIndices } = getIndexedAttestation(state.epochCtx, attestation);
      if (signatureVerified) this.verifiedAttestations.add(attestation, attestingIndices);
      this.forkChoice.onAttestation(toForkChoiceAttestation(attestingIndices, attestation));
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

  /** What the archiver did at the last finalization, and whether it is at work now. */
  get archiveStats(): Readonly<ArchiveStats> {
    return this.archiver.stats;
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
    await this.justifiedBalances.prepare(justified, () => this.regen.getCheckpointState(justified.epoch, justified.root, caller));
    this.head = this.forkChoice.getHead();
  }

  private get pipelineContext() {
    return { config: this.config, forkChoice: this.forkChoice, invalidBlocks: this.invalidBlocks, latestSlot: () => this.latestSlot(), regen: this.regen, bls: this.bls };
  }

  private get importContext() {
    return {
      config: this.config,
      db: this.db,
      forkChoice: this.forkChoice,
      blockStates: this.blockStates,
      checkpointStates: this.checkpointStates,
      hotStateEveryEpochs: this.opts.hotStateEveryEpochs,
      serializeHotState: (s: CachedBeaconState) => this.archiver.serializeHotState(s),
      onAttestation: (a: Attestation, s: CachedBeaconState, verified: boolean) => this.onAttestation(a, s, verified),
    };
  }

  private getPersistedState(rootHex: string): Promise<CachedBeaconState | null> {
    if (rootHex === this.anchor.summary.root) return Promise.resolve(this.anchor.state);
    return loadHotState(this.config, this.db, rootHex, { pubkeyCache: this.pubkeyCache, shufflingCache: this.shufflingCache });
  }

  private pruneCaches(finalized: CheckpointHex, finalizedSlot: number): void {
    this.checkpointStates.pruneFinalized(finalized.epoch);
    this.blockStates.prune((root) => {
      const info = this.hotBlocks.get(root);
      return root !== finalized.root && root !== this.head && (!info || info.slot < finalizedSlot);
    });
    this.pending.pruneFinalized(finalizedSlot);
    this.justifiedBalances.pruneFinalized(finalized.epoch);
    // archiving deletes the blocks that conflict with finality: the cache must not outlive them (finalized blocks
    // leave with them, the cold store has those)
    for (const root of this.recentBlocks.keys()) if (!this.forkChoice.hasBlock(root)) this.recentBlocks.delete(root);
  }

  /** An imported block from memory, if it is among the last few imported (null otherwise: read the database). */
  recentBlock(root: string): SignedBeaconBlock | null {
    return this.recentBlocks.get(root) ?? null;
  }
}
