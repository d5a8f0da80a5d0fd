// Looking up states and blocks the way the Beacon API names them: "head", "genesis", "finalized", "justified", a
// slot, or a 0x root (a state root for states, a block root for blocks). Recent states come from fork choice and
// the regen queue; states older than the anchor are rebuilt from the nearest cold state and the finalized blocks.
import type { BlockSummary, CheckpointHex, ProtoNode } from "../fork-choice/index.js";
import {
  createCachedBeaconState,
  processBlock,
  processSlots,
  type CachedBeaconState,
} from "../state-transition/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { bytesEqual, fromHex, toHex } from "../util/bytes.js";
import type { AttestationData, SignedBeaconBlock } from "../types/index.js";
import type { RegenCaller } from "./regen/queued.js";
import type { BeaconChain } from "./chain.js";
import { CheckpointStateCache, LruCache } from "./stateCache.js";

export type NamedId = "head" | "genesis" | "finalized" | "justified";
export type ChainObjectId = { kind: NamedId } | { kind: "slot"; slot: number } | { kind: "root"; root: string };

export type QueryErrorCode = "INVALID_ID" | "INVALID_REQUEST" | "NOT_FOUND" | "UNAVAILABLE";

/** Why a lookup could not be answered: a malformed id, something unknown, or something this node will not rebuild. */
export class QueryError extends Error {
  constructor(
    readonly code: QueryErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "QueryError";
  }
}

const NAMED = new Set<string>(["head", "genesis", "finalized", "justified"]);
const ROOT_RE = /^0x[0-9a-fA-F]{64}$/;
const SLOT_RE = /^[0-9]+$/;

function parseId(id: string, what: "state_id" | "block_id"): ChainObjectId {
  if (NAMED.has(id)) return { kind: id as NamedId };
  if (SLOT_RE.test(id)) {
    const slot = Number(id);
    if (Number.isSafeInteger(slot)) return { kind: "slot", slot };
  }
  if (ROOT_RE.test(id)) return { kind: "root", root: id.toLowerCase() };
  const root = what === "state_id" ? "state root" : "block root";
  throw new QueryError(
    "INVALID_ID",
    `invalid ${what} ${JSON.stringify(id.length > 80 ? `${id.slice(0, 77)}...` : id)}: expected head, genesis, finalized, justified, a slot or a 0x-prefixed 32-byte ${root}`,
  );
}

export function parseStateId(id: string): ChainObjectId {
  return parseId(id, "state_id");
}

export function parseBlockId(id: string): ChainObjectId {
  return parseId(id, "block_id");
}

export interface StateResult {
  state: CachedBeaconState;
  /** 0x-hex hash_tree_root of the state */
  stateRoot: string;
  /** the state is at or before the finalized checkpoint, on the finalized chain */
  finalized: boolean;
}

export interface BlockResult {
  root: string;
  block: SignedBeaconBlock;
  canonical: boolean;
  finalized: boolean;
}

export interface ChainQueryOptions {
  /** the wall clock's slot; without it, the latest slot fork choice has seen */
  currentSlot?: () => number;
  /** empty slots a lookup may process on top of a block's state (each epoch boundary costs an epoch transition) */
  maxAdvanceSlots?: number;
}

/**
 * Read-only lookups over a BeaconChain for the API. States returned are shared with the chain's caches: callers
 * must not mutate them (clone first).
 */
export class ChainQuery {
  private genesis: { state: CachedBeaconState; stateRoot: string; blockRoot: string; block: SignedBeaconBlock | null } | null = null;
  /** states built here (advanced past their block, or historical): small, since explorers re-ask the same ones */
  private readonly built = new LruCache<CachedBeaconState>(4);
  private readonly maxAdvanceSlots: number;
  /** walks of the head through empty epochs run one at a time, so concurrent duty requests share their states */
  private epochWalk: Promise<unknown> = Promise.resolve();
  /** epoch transitions done by those walks (each one is the cost of an epoch without blocks) */
  epochsAdvanced = 0;

  constructor(
    readonly chain: BeaconChain,
    private readonly opts: ChainQueryOptions = {},
  ) {
    this.maxAdvanceSlots = opts.maxAdvanceSlots ?? 4 * chain.config.SLOTS_PER_EPOCH;
  }

  get headSlot(): number {
    return this.chain.forkChoice.getBlock(this.chain.headRoot)?.slot ?? this.chain.anchorSummary.slot;
  }

  currentSlot(): number {
    if (this.opts.currentSlot) return this.opts.currentSlot();
    return Math.max(this.chain.forkChoice.getCurrentSlot(), this.headSlot);
  }

  /** The first slot of the finalized checkpoint's epoch. */
  get finalizedSlot(): number {
    return computeStartSlotAtEpoch(this.chain.config, this.chain.forkChoice.getFinalizedCheckpoint().epoch);
  }

  /** Every block fork choice holds (the finalized block and its descendants). */
  forkChoiceBlocks(): BlockSummary[] {
    return [...this.chain.forkChoice.getNodes()];
  }

  // --- fork choice, read-only, for the network, sync, the API and metrics ----------------------------------------

  getFinalizedCheckpoint(): CheckpointHex {
    return this.chain.forkChoice.getFinalizedCheckpoint();
  }

  getJustifiedCheckpoint(): CheckpointHex {
    return this.chain.forkChoice.getJustifiedCheckpoint();
  }

  /** Whether fork choice holds the block (imported, not finalized away). */
  hasBlock(root: string): boolean {
    return this.chain.forkChoice.hasBlock(root);
  }

  /** A block fork choice holds (slot, parent, checkpoints, weight). */
  getBlockSummary(root: string): Readonly<ProtoNode> | undefined {
    return this.chain.forkChoice.getBlock(root);
  }

  /** The root of the block at or before `slot` on the branch of `root`. */
  getAncestor(root: string, slot: number): string | undefined {
    return this.chain.forkChoice.getAncestor(root, slot);
  }

  /** The block failed validation here, or descends from one that did. */
  isKnownInvalid(root: string): boolean {
    return this.chain.invalidBlocks.has(root);
  }

  isDescendant(ancestorRoot: string, root: string): boolean {
    return this.chain.forkChoice.isDescendant(ancestorRoot, root);
  }

  /** The head's post-state if it is cached (no regen): for cheap reads such as metrics and the network's scoring. */
  getCachedHeadState(): CachedBeaconState | undefined {
    return this.chain.blockStates.peek(this.chain.headRoot);
  }

  /** The state of block `root` at the first slot of `epoch` (shared: do not mutate). */
  getCheckpointState(epoch: number, root: string, caller: RegenCaller): Promise<CachedBeaconState> {
    return this.chain.regen.getCheckpointState(epoch, root, caller);
  }

  /** Sizes and counters for the metrics. */
  stats() {
    const { forkChoice: fc, regen } = this.chain;
    return {
      forkChoiceSlot: fc.getCurrentSlot(),
      forkChoiceNodes: fc.nodeCount,
      forkChoiceVotes: fc.voteCount,
      forkChoiceQueuedAttestations: fc.queuedAttestationCount,
      blockStateCacheSize: this.chain.blockStates.size,
      checkpointStateCacheSize: this.chain.checkpointStates.size,
      pendingBlocks: this.chain.pending.size,
      regenQueueLength: regen.queueLength,
      regen: regen.counters,
    };
  }

  /**
   * AttestationData for `slot` and `committeeIndex` as seen from the head (validator.md's get_attestation_data):
   * the head or its ancestor at the slot, its state in the slot's epoch for the source, the epoch's target.
   */
  async produceAttestationData(slot: number, committeeIndex: number): Promise<AttestationData> {
    const c = this.chain.config;
    const current = this.currentSlot();
    if (slot > current + 1) throw new QueryError("INVALID_REQUEST", `slot ${slot} is in the future (current slot ${current})`);
    if (slot < this.finalizedSlot) throw new QueryError("INVALID_REQUEST", `slot ${slot} is before the finalized slot ${this.finalizedSlot}`);
    const headRoot = this.chain.headRoot;
    const fc = this.chain.forkChoice;
    const blockRoot = slot >= this.headSlot ? headRoot : fc.getAncestor(headRoot, slot);
    if (blockRoot === undefined) throw new QueryError("NOT_FOUND", `no block known at or before slot ${slot}`);
    const epoch = computeEpochAtSlot(c, slot);
    // the block's state in the slot's epoch: its justified checkpoint is the vote's source
    const state = await this.chain.regen.getCheckpointState(epoch, blockRoot, "validator");
    const committees = state.epochCtx.getCommitteeCountPerSlot(epoch);
    if (committeeIndex >= committees) {
      throw new QueryError("INVALID_REQUEST", `committee_index ${committeeIndex} is out of range (${committees} committees per slot)`);
    }
    const targetRoot = fc.getAncestor(blockRoot, computeStartSlotAtEpoch(c, epoch)) ?? blockRoot;
    return {
      slot,
      index: committeeIndex,
      beaconBlockRoot: fromHex(blockRoot),
      source: state.state.currentJustifiedCheckpoint.toValue(),
      target: { epoch, root: fromHex(targetRoot) },
    };
  }

  // --- blocks for req/resp and regen -------------------------------------------------------------------------

  /** A block by root, hot or finalized. */
  async getSignedBlock(rootHex: string): Promise<SignedBeaconBlock | null> {
    const recent = this.chain.recentBlock(rootHex);
    if (recent) return recent;
    const root = fromHex(rootHex);
    return (await this.chain.db.getBlock(root)) ?? (await this.chain.db.getFinalizedBlockByRoot(root));
  }

  /** A block's SSZ by root, hot or finalized (beacon_blocks_by_root). */
  async getBlockBytesByRoot(root: Uint8Array): Promise<Uint8Array | null> {
    const db = this.chain.db;
    const hot = await db.getBlockBytes(root);
    if (hot) return hot;
    const slot = await db.getFinalizedSlotByRoot(root);
    return slot === null ? null : db.getFinalizedBlockBytesBySlot(slot);
  }

  /**
   * The canonical chain's blocks in [startSlot, startSlot + count * step) as SSZ (beacon_blocks_by_range): the
   * finalized part from the cold store by slot, the rest along the head's branch in fork choice.
   */
  async *getBlockBytesByRange(startSlot: number, count: number, step: number): AsyncIterable<Uint8Array> {
    const { chain } = this;
    const db = chain.db;
    const finalizedSlot = this.finalizedSlot;
    const end = startSlot + count * step; // exclusive
    if (startSlot < finalizedSlot) {
      const n = Math.min(count, Math.ceil((finalizedSlot - startSlot) / step));
      for (const { bytes } of await db.getFinalizedBlockBytesByRange(startSlot, n, step)) yield bytes;
    }
    const roots: string[] = [];
    for (let r: string | undefined = chain.headRoot; r; ) {
      const node = chain.forkChoice.getBlock(r);
      if (!node || node.slot < Math.max(startSlot, finalizedSlot)) break;
      if (node.slot < end && (node.slot - startSlot) % step === 0) roots.push(r);
      r = node.parentRoot;
    }
    for (const r of roots.reverse()) {
      const bytes = await this.getBlockBytesByRoot(fromHex(r));
      if (bytes) yield bytes;
    }
  }

  /** The canonical chain's block root at `slot` (null for a skipped slot or a slot past the head). */
  async getCanonicalBlockRootAtSlot(slot: number): Promise<string | null> {
    const fc = this.chain.forkChoice;
    const head = this.chain.headRoot;
    const headNode = fc.getBlock(head);
    if (!headNode || slot > headNode.slot) return null;
    const finalizedSlot = fc.getBlock(fc.getFinalizedCheckpoint().root)?.slot ?? 0;
    if (slot >= finalizedSlot) {
      const r = fc.getAncestor(head, slot);
      if (r !== undefined) return fc.getBlock(r)?.slot === slot ? r : null;
    }
    const anchor = this.chain.anchorSummary;
    if (slot === anchor.slot) return anchor.root;
    const block = await this.chain.db.getFinalizedBlockBySlot(slot);
    return block ? toHex(this.chain.config.types.BeaconBlock.hashTreeRoot(block.message)) : null;
  }

  /** Whether a known block is on the canonical chain (an ancestor of the head, or finalized). */
  async isCanonical(rootHex: string): Promise<boolean> {
    const fc = this.chain.forkChoice;
    if (fc.hasBlock(rootHex)) return fc.isDescendant(rootHex, this.chain.headRoot);
    return (await this.chain.db.getFinalizedSlotByRoot(fromHex(rootHex))) !== null || rootHex === this.chain.anchorSummary.root;
  }

  async getState(id: ChainObjectId): Promise<StateResult | null> {
    const fc = this.chain.forkChoice;
    let state: CachedBeaconState | null;
    let finalized = false;
    switch (id.kind) {
      case "head":
        state = await this.chain.getHeadState("api");
        break;
      case "genesis":
        state = (await this.getGenesis())?.state ?? null;
        finalized = true;
        break;
      case "finalized": {
        const cp = fc.getFinalizedCheckpoint();
        state = await this.chain.regen.getCheckpointState(cp.epoch, cp.root, "api");
        finalized = true;
        break;
      }
      case "justified": {
        const cp = fc.getJustifiedCheckpoint();
        state = await this.chain.regen.getCheckpointState(cp.epoch, cp.root, "api");
        break;
      }
      case "slot":
        state = await this.getStateAtSlot(id.slot);
        break;
      case "root":
        state = await this.getStateByRoot(id.root);
        break;
    }
    if (!state) return null;
    if (id.kind === "slot" || id.kind === "root") finalized = state.state.slot <= this.finalizedSlot;
    return { state, stateRoot: toHex(state.state.hashTreeRoot()), finalized };
  }

  /** The canonical state at `slot`: the state of the last block at or before it, advanced with empty slots. */
  async getStateAtSlot(slot: number): Promise<CachedBeaconState | null> {
    const headRoot = this.chain.headRoot;
    const headSlot = this.headSlot;
    if (slot > Math.max(headSlot, this.currentSlot())) return null;
    const root = this.chain.forkChoice.getAncestor(headRoot, Math.min(slot, headSlot));
    if (root !== undefined) {
      const base = await this.chain.regen.getBlockState(root, "api");
      if (base.state.slot <= slot) return this.advance(base, root, slot);
    }
    return this.getHistoricalState(slot);
  }

  /**
   * A state that knows the committees of `epoch` (and, with `proposers`, is in that epoch so its proposers are
   * the epoch's), as seen from the head. Epochs ahead of the head's are reached by empty slots on the head, however
   * far the head is behind the wall clock (the current and next epoch's duties are what lets the chain resume).
   */
  async getStateForEpoch(epoch: number, opts: { proposers?: boolean } = {}): Promise<CachedBeaconState | null> {
    const c = this.chain.config;
    const headRoot = this.chain.headRoot;
    const head = await this.chain.regen.getBlockState(headRoot, "api");
    const headEpoch = head.epochCtx.epoch;
    if (epoch === headEpoch || (!opts.proposers && (epoch === headEpoch + 1 || epoch + 1 === headEpoch))) return head;
    if (epoch > headEpoch) {
      const slots = computeStartSlotAtEpoch(c, epoch) - head.state.slot;
      if (epoch > computeEpochAtSlot(c, this.currentSlot()) + 1 && slots > this.maxAdvanceSlots) {
        throw new QueryError("UNAVAILABLE", `epoch ${epoch} is ${slots} slots past the head; not computed (limit ${this.maxAdvanceSlots})`);
      }
      // a state knows the committees of its epoch and the next; proposers only of its own
      const from = opts.proposers ? epoch : epoch - 1;
      const walk = this.epochWalk.then(() => this.advanceByEpochs(head, headRoot, from, epoch));
      this.epochWalk = walk.catch(() => undefined);
      return walk;
    }
    return this.getStateAtSlot(computeStartSlotAtEpoch(c, epoch));
  }

  /**
   * `head` (the state of block `root`) at the start of an epoch in [from, to]: the newest such state already in
   * the chain's checkpoint-state cache, else one built an epoch at a time from the newest state of this block in
   * that cache, so that one epoch later the next call costs one epoch transition (regen's getCheckpointState
   * would start from the block's state every time). What it leaves in the cache also serves the next block's
   * pre-state and attestation data.
   */
  private async advanceByEpochs(head: CachedBeaconState, root: string, from: number, to: number): Promise<CachedBeaconState> {
    const c = this.chain.config;
    const cache = this.chain.checkpointStates;
    const headEpoch = head.epochCtx.epoch;
    let epoch = to;
    let base: CachedBeaconState | undefined;
    for (; epoch > headEpoch && !base; epoch--) base = cache.get(CheckpointStateCache.key(epoch, root));
    if (base) {
      epoch++;
      if (epoch >= from) return base;
    } else {
      base = head;
    }
    let state = base;
    while (epoch < from) {
      // an epoch transition at a time, so the API and imports keep being served during a long walk
      await new Promise((r) => setImmediate(r));
      epoch++;
      // keep the warm caches of a shared state with it; our own intermediate states can hand theirs on
      const next = state.clone(state === base);
      processSlots(next, computeStartSlotAtEpoch(c, epoch));
      next.state.commit();
      this.epochsAdvanced++;
      // only the last two are asked for again (this epoch's and the next's duties)
      if (epoch >= from - 1) cache.set(CheckpointStateCache.key(epoch, root), next);
      state = next;
    }
    // older states of this block would only push useful checkpoint states out of the small cache
    cache.prune((key) => {
      const [e, r] = key.split(":");
      return r === root && Number(e) > headEpoch && Number(e) < from - 1;
    });
    return state;
  }

  /** A state by its hash_tree_root: a block's post-state, or a state of the recent canonical chain (skipped slots too). */
  async getStateByRoot(rootHex: string): Promise<CachedBeaconState | null> {
    const root = rootHex.toLowerCase();
    const head = await this.chain.getHeadState("api");
    if (toHex(head.state.hashTreeRoot()) === root) return head;
    for (const block of this.forkChoiceBlocks()) {
      if (block.stateRoot !== root) continue;
      const state = await this.chain.regen.getBlockState(block.root, "api");
      if (toHex(state.state.hashTreeRoot()) === root) return state;
    }
    // the head state remembers the roots of the last SLOTS_PER_HISTORICAL_ROOT states before it
    const c = this.chain.config;
    const headStateSlot = head.state.slot;
    const roots = head.state.stateRoots.getAllReadonlyValues();
    for (let slot = headStateSlot - 1; slot >= Math.max(0, headStateSlot - c.SLOTS_PER_HISTORICAL_ROOT); slot--) {
      if (toHex(roots[slot % c.SLOTS_PER_HISTORICAL_ROOT]) === root) {
        const state = await this.getStateAtSlot(slot);
        return state && toHex(state.state.hashTreeRoot()) === root ? state : null;
      }
    }
    const genesis = await this.getGenesis();
    if (genesis && genesis.stateRoot === root) return genesis.state;
    return null;
  }

  async getBlock(id: ChainObjectId): Promise<BlockResult | null> {
    const fc = this.chain.forkChoice;
    let root: string | null;
    switch (id.kind) {
      case "head":
        root = this.chain.headRoot;
        break;
      case "genesis":
        root = (await this.getGenesis())?.blockRoot ?? null;
        break;
      case "finalized":
        root = fc.getFinalizedCheckpoint().root;
        break;
      case "justified":
        root = fc.getJustifiedCheckpoint().root;
        break;
      case "slot":
        root = id.slot === 0 ? ((await this.getGenesis())?.blockRoot ?? null) : await this.getCanonicalBlockRootAtSlot(id.slot);
        break;
      case "root":
        root = id.root.toLowerCase();
        break;
    }
    if (root === null) return null;
    return this.getBlockByRoot(root);
  }

  async getBlockByRoot(root: string): Promise<BlockResult | null> {
    let block = await this.getSignedBlock(root);
    const genesis = await this.getGenesis();
    const isGenesis = genesis !== null && genesis.blockRoot === root;
    if (!block && isGenesis) block = genesis.block;
    if (!block) return null;
    const canonical = isGenesis || (await this.isCanonical(root));
    const finalizedRoot = this.chain.forkChoice.getFinalizedCheckpoint().root;
    const finalizedBlockSlot = this.chain.forkChoice.getBlock(finalizedRoot)?.slot ?? this.finalizedSlot;
    return { root, block, canonical, finalized: canonical && block.message.slot <= finalizedBlockSlot };
  }

  /** The genesis state and block (null when the chain started from a later anchor and has no genesis state). */
  async getGenesis(): Promise<{ state: CachedBeaconState; stateRoot: string; blockRoot: string; block: SignedBeaconBlock | null } | null> {
    if (this.genesis) return this.genesis;
    const c = this.chain.config;
    let state: CachedBeaconState;
    const anchor = this.chain.anchorState;
    if (anchor.state.slot === 0) {
      state = anchor;
    } else {
      const bytes = await this.chain.db.getColdState(0);
      if (!bytes) return null;
      state = createCachedBeaconState(c, c.types.BeaconState.deserializeToViewDU(bytes), { pubkeyCache: anchor.epochCtx.pubkeyCache });
    }
    const stateRootBytes = state.state.hashTreeRoot();
    const header = state.state.latestBlockHeader.toValue();
    if (bytesEqual(header.stateRoot, new Uint8Array(32))) header.stateRoot = stateRootBytes;
    const blockRoot = toHex(c.types.BeaconBlockHeader.hashTreeRoot(header));
    // the genesis block is implied by the genesis state (empty body, no signature); rebuilt only if it matches
    const body = c.types.BeaconBlockBody.defaultValue();
    const block: SignedBeaconBlock = {
      message: { slot: header.slot, proposerIndex: header.proposerIndex, parentRoot: header.parentRoot, stateRoot: header.stateRoot, body },
      signature: new Uint8Array(96),
    };
    const matches = toHex(c.types.BeaconBlock.hashTreeRoot(block.message)) === blockRoot;
    this.genesis = { state, stateRoot: toHex(stateRootBytes), blockRoot, block: matches ? block : null };
    return this.genesis;
  }

  private advance(base: CachedBeaconState, root: string, slot: number): CachedBeaconState {
    if (base.state.slot === slot) return base;
    const key = `${root}:${slot}`;
    const hit = this.built.get(key);
    if (hit) return hit;
    if (slot - base.state.slot > this.maxAdvanceSlots) {
      throw new QueryError(
        "UNAVAILABLE",
        `the state at slot ${slot} is ${slot - base.state.slot} empty slots past its last block; not computed (limit ${this.maxAdvanceSlots})`,
      );
    }
    // dontTransferCache: keep the shared state's warm caches with it
    const state = base.clone(true);
    processSlots(state, slot);
    state.state.commit();
    this.built.set(key, state);
    return state;
  }

  /** A state before the anchor: the nearest cold state at or below `slot`, then the finalized blocks up to it. */
  private async getHistoricalState(slot: number): Promise<CachedBeaconState | null> {
    const c = this.chain.config;
    const key = `cold:${slot}`;
    const hit = this.built.get(key);
    if (hit) return hit;
    const db = this.chain.db;
    const stored = await db.getLatestColdStateAtOrBefore(slot);
    if (!stored) return null;
    const span = slot - stored.slot;
    const maxSpan = (Math.max(this.chain.opts.coldStateEveryEpochs, 1) + 1) * c.SLOTS_PER_EPOCH;
    if (span > maxSpan) {
      throw new QueryError("UNAVAILABLE", `the state at slot ${slot} needs ${span} slots replayed from the nearest stored state (limit ${maxSpan})`);
    }
    const state = createCachedBeaconState(c, c.types.BeaconState.deserializeToViewDU(stored.bytes), {
      pubkeyCache: this.chain.anchorState.epochCtx.pubkeyCache,
    });
    const blocks = span > 0 ? await db.getFinalizedBlocksByRange(stored.slot + 1, span) : [];
    let n = 0;
    for (const { block } of blocks) {
      if (block.message.slot > slot) break;
      if (state.state.slot < block.message.slot) processSlots(state, block.message.slot);
      processBlock(state, block.message, false);
      // a long replay must not starve the event loop (the node keeps serving and importing)
      if (++n % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    if (state.state.slot < slot) processSlots(state, slot);
    state.state.commit();
    this.built.set(key, state);
    return state;
  }
}
