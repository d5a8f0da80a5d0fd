// Stage 4: import. The block, its summary and (at the first block of every M-th epoch of its branch) its post-state
// are committed before fork choice sees the block: a head root always has its block in the database, and a failed
// commit leaves fork choice as it was. Only then does the block become part of fork choice and the head move.
import type { BeaconConfig } from "../../config/index.js";
import type { BeaconDb } from "../../db/index.js";
import type { ForkChoice } from "../../fork-choice/index.js";
import type { CachedBeaconState } from "../../state-transition/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../../state-transition/util/epoch.js";
import type { Attestation } from "../../types/index.js";
import { CheckpointStateCache, type BlockStateCache } from "../stateCache.js";
import { BlockError } from "./errors.js";
import type { FullyVerifiedBlock } from "./types.js";

export interface ImportContext {
  config: BeaconConfig;
  db: BeaconDb;
  forkChoice: ForkChoice;
  blockStates: BlockStateCache;
  checkpointStates: CheckpointStateCache;
  hotStateEveryEpochs: number;
  /** the state's SSZ, for the hot-state file */
  serializeHotState(state: CachedBeaconState): Promise<Uint8Array>;
  /** an attestation carried by an imported block, for fork choice (and, when verified, the verified cache) */
  onAttestation(attestation: Attestation, state: CachedBeaconState, signatureVerified: boolean): void;
}

export interface ImportOutcome {
  /** the first block of its epoch on its branch */
  firstOfEpoch: boolean;
}

export async function importVerifiedBlock(ctx: ImportContext, fv: FullyVerifiedBlock): Promise<ImportOutcome> {
  const c = ctx.config;
  const block = fv.signed.message;
  const epoch = computeEpochAtSlot(c, block.slot);
  const firstOfEpoch = computeEpochAtSlot(c, fv.parentSlot) < epoch;

  const batch = ctx.db.newBatch().putBlock(fv.rootBytes, fv.signed).putBlockSummary(fv.rootBytes, fv.summary);
  if (firstOfEpoch && epoch % ctx.hotStateEveryEpochs === 0) {
    batch.putHotState(fv.rootBytes, block.slot, await ctx.serializeHotState(fv.postState));
  }
  try {
    await batch.commit();
  } catch (e) {
    throw new BlockError({ code: "STORE_FAILED", root: fv.root, reason: (e as Error).message });
  }

  // stored: now visible. Nothing below awaits before the head is recomputed by the caller.
  const fc = ctx.forkChoice;
  fc.onBlock(fv.summary, Math.max(fc.getCurrentSlot(), block.slot));
  for (const att of block.body.attestations) ctx.onAttestation(att, fv.postState, fv.verifySignatures);
  ctx.blockStates.set(fv.root, fv.postState);
  // A block at its epoch's first slot is that epoch's checkpoint on its branch. Its state is asked for again when
  // the checkpoint is justified and finalized, an epoch or more later, long after the block-state cache has dropped
  // it: rebuilt then from a hot-state file, it cost a replay and a fresh, unshared 100,000-validator tree each epoch.
  if (block.slot === computeStartSlotAtEpoch(c, epoch)) ctx.checkpointStates.set(CheckpointStateCache.key(epoch, fv.root), fv.postState);
  return { firstOfEpoch };
}
