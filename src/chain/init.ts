// A chain's beginning and its return: the anchor written to an empty database, and what a restart reads back.
import type { BeaconConfig } from "../config/index.js";
import type { BeaconDb } from "../db/index.js";
import type { BlockSummary } from "../fork-choice/index.js";
import { createCachedBeaconState, EpochContext, PubkeyCache, ShufflingCache, type CachedBeaconState } from "../state-transition/index.js";
import { computeEpochAtSlot } from "../state-transition/util/epoch.js";
import type { SignedBeaconBlock } from "../types/index.js";
import { bytesEqual, fromHex, toHex } from "../util/bytes.js";

/** A checkpoint anchor's block, and the genesis block root when known (backfill stops there). */
export interface AnchorBlock {
  block: SignedBeaconBlock;
  genesisBlockRoot: Uint8Array | null;
}

/**
 * Writes the anchor (genesis or a trusted finalized state) to an empty database; its block is the state's latest
 * header. A checkpoint anchor's block is stored as the first finalized block, with the backfill position.
 */
export async function writeAnchor(
  config: BeaconConfig,
  db: BeaconDb,
  anchorState: CachedBeaconState,
  anchorBlock?: AnchorBlock,
): Promise<{ summary: BlockSummary; state: CachedBeaconState; shufflingCache: ShufflingCache }> {
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
  return { summary, state: anchorState, shufflingCache };
}

export interface StoredChain {
  anchor: { summary: BlockSummary; state: CachedBeaconState };
  pubkeyCache: PubkeyCache;
  shufflingCache: ShufflingCache;
  /** the unfinalized blocks after the anchor, oldest first */
  summaries: BlockSummary[];
  votes: Awaited<ReturnType<BeaconDb["getForkChoiceVotes"]>>;
}

/** What a restart needs: the anchor state and block summary, every later block summary, the fork-choice votes. */
export async function readStoredChain(config: BeaconConfig, db: BeaconDb): Promise<StoredChain> {
  const anchorMeta = await db.getMeta("anchor");
  if (!anchorMeta) throw new Error(`database at ${db.path} has no chain anchor: start from a genesis state`);
  const anchorBytes = await db.getColdState(anchorMeta.slot);
  if (!anchorBytes) throw new Error(`database at ${db.path} lacks its anchor state (slot ${anchorMeta.slot})`);
  const pubkeyCache = new PubkeyCache();
  const shufflingCache = new ShufflingCache();
  const state = createCachedBeaconState(config, config.types.BeaconState.deserializeToViewDU(anchorBytes), { pubkeyCache, shufflingCache });
  const all = (await db.getBlockSummaries()) as BlockSummary[];
  const anchorRoot = toHex(anchorMeta.blockRoot);
  const summary = all.find((s) => s.root === anchorRoot);
  if (!summary) throw new Error(`database at ${db.path} lacks the anchor block summary ${anchorRoot}`);
  const summaries = all.filter((s) => s.root !== anchorRoot && s.slot > summary.slot).sort((a, b) => a.slot - b.slot);
  return { anchor: { summary, state }, pubkeyCache, shufflingCache, summaries, votes: await db.getForkChoiceVotes() };
}

/** A persisted hot state by its block root, on the chain's shared caches; null when none is stored. */
export async function loadHotState(
  config: BeaconConfig,
  db: BeaconDb,
  rootHex: string,
  caches: { pubkeyCache: PubkeyCache; shufflingCache: ShufflingCache },
): Promise<CachedBeaconState | null> {
  const hot = await db.getHotState(fromHex(rootHex));
  if (!hot) return null;
  return createCachedBeaconState(config, config.types.BeaconState.deserializeToViewDU(hot.bytes), caches);
}
