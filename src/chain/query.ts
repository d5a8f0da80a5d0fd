// Looking up states and blocks the way the Beacon API names them: "head", "genesis", "finalized", "justified", a
// slot, or a 0x root (a state root for states, a block root for blocks). Recent states come from fork choice and
// the regen queue; states older than the anchor are rebuilt from the nearest cold state and the finalized blocks.
import type { BlockSummary } from "../fork-choice/index.js";
import {
  createCachedBeaconState,
  processBlock,
  processSlots,
  type CachedBeaconState,
} from "../state-transition/index.js";
import { computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { bytesEqual, toHex } from "../util/bytes.js";
import type { SignedBeaconBlock } from "../types/index.js";
import type { BeaconChain } from "./chain.js";
import { LruCache } from "./stateCache.js";

export type NamedId = "head" | "genesis" | "finalized" | "justified";
export type ChainObjectId = { kind: NamedId } | { kind: "slot"; slot: number } | { kind: "root"; root: string };

export type QueryErrorCode = "INVALID_ID" | "NOT_FOUND" | "UNAVAILABLE";

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
   * the epoch's), as seen from the head. Epochs ahead of the head's are reached by empty slots on the head.
   */
  async getStateForEpoch(epoch: number, opts: { proposers?: boolean } = {}): Promise<CachedBeaconState | null> {
    const c = this.chain.config;
    const head = await this.chain.getHeadState("api");
    const headEpoch = head.epochCtx.epoch;
    if (epoch === headEpoch || (!opts.proposers && (epoch === headEpoch + 1 || epoch + 1 === headEpoch))) return head;
    if (epoch > headEpoch) {
      const slots = computeStartSlotAtEpoch(c, epoch) - head.state.slot;
      if (slots > this.maxAdvanceSlots) {
        throw new QueryError("UNAVAILABLE", `epoch ${epoch} is ${slots} slots past the head; not computed (limit ${this.maxAdvanceSlots})`);
      }
      return this.chain.regen.getCheckpointState(epoch, this.chain.headRoot, "api");
    }
    return this.getStateAtSlot(computeStartSlotAtEpoch(c, epoch));
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
        root = id.slot === 0 ? ((await this.getGenesis())?.blockRoot ?? null) : await this.chain.getCanonicalBlockRootAtSlot(id.slot);
        break;
      case "root":
        root = id.root.toLowerCase();
        break;
    }
    if (root === null) return null;
    return this.getBlockByRoot(root);
  }

  async getBlockByRoot(root: string): Promise<BlockResult | null> {
    let block = await this.chain.getBlockByRoot(root);
    const genesis = await this.getGenesis();
    const isGenesis = genesis !== null && genesis.blockRoot === root;
    if (!block && isGenesis) block = genesis.block;
    if (!block) return null;
    const canonical = isGenesis || (await this.chain.isCanonical(root));
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
