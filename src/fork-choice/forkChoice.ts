// The spec's fork-choice Store (v0.12.3) on top of the proto-array: time, the justified/finalized/best-justified
// checkpoints, latest messages, and the on_tick / on_block / on_attestation / get_head handlers.
//
// Single-threaded and synchronous: the chain serializes calls, which makes every handler atomic with respect to
// the head. A handler that throws leaves the store as it was (every check runs before the first change), except
// that onBlock first advances the clock to the caller's slot.
import type { ChainConfig } from "../params/index.js";
import { GENESIS_EPOCH } from "../params/index.js";
import { computeEpochAtSlot, computeStartSlotAtEpoch } from "../state-transition/util/epoch.js";
import { toHex } from "../util/bytes.js";
import { addDeltas, createVotes, ensureVote, remapVotes, type Votes } from "./computeDeltas.js";
import { ForkChoiceError } from "./errors.js";
import { grownCapacity, NONE, ProtoArray, type BlockSummary, type CheckpointHex, type ProtoNode, type RootHex } from "./protoArray.js";
import type { SpecStore } from "./reference.js";

/** An indexed attestation as fork choice needs it (its signature and committee already checked by the caller). */
export interface ForkChoiceAttestation {
  attestingIndices: ArrayLike<number>;
  data: { slot: number; beaconBlockRoot: RootHex; target: CheckpointHex };
}

/** An attestation's data as fork choice keeps it (hex roots), with its attesters. */
export function toForkChoiceAttestation(
  attestingIndices: ArrayLike<number>,
  att: { data: { slot: number; beaconBlockRoot: Uint8Array; target: { epoch: number; root: Uint8Array } } },
): ForkChoiceAttestation {
  const d = att.data;
  return { attestingIndices, data: { slot: d.slot, beaconBlockRoot: toHex(d.beaconBlockRoot), target: { epoch: d.target.epoch, root: toHex(d.target.root) } } };
}

/**
 * Effective balances of the checkpoint state's validators, indexed by validator index: the effective balance of
 * validators active at the state's current epoch and 0 for the others (get_latest_attesting_balance's weights).
 * Called when getHead first meets a justified checkpoint (a checkpoint state's balances never change); the
 * array is kept until the next checkpoint's and must not be mutated by the caller.
 */
export type JustifiedBalancesGetter = (checkpoint: CheckpointHex) => ArrayLike<number>;

export interface ForkChoiceAnchor {
  /** The anchor block (genesis for a full client), with its state's checkpoints. */
  block: BlockSummary;
  /** The anchor state's slot, which may be past the block's after empty slots; defaults to the block's slot. */
  stateSlot?: number;
}

export interface ForkChoiceOpts {
  /** See ProtoArrayOpts.pruneThreshold. */
  pruneThreshold?: number;
}

export interface LatestMessage {
  epoch: number;
  /** undefined when the message's block has been pruned (it conflicts with finality). */
  root: RootHex | undefined;
}

interface QueuedAttestation {
  slot: number;
  attestingIndices: number[];
  blockRoot: RootHex;
  targetEpoch: number;
}

export class ForkChoice {
  private readonly protoArray: ProtoArray;
  private readonly votes: Votes = createVotes();
  private votesCount = 0;
  private currentSlot: number;
  private justifiedCheckpoint: CheckpointHex;
  private finalizedCheckpoint: CheckpointHex;
  private bestJustifiedCheckpoint: CheckpointHex;
  /** The balances the proto-array weights currently hold, and the checkpoint they were read for. */
  private appliedBalances: ArrayLike<number> = [];
  private appliedBalancesCheckpoint: CheckpointHex | null = null;
  /** Attestations whose slot is not yet past: they count from the slot after theirs (on_attestation). */
  private queuedAttestations: QueuedAttestation[] = [];
  /** addDeltas' output, reused from one getHead to the next and all zero between them */
  private deltasBuffer = new Float64Array(0);

  constructor(
    private readonly config: ChainConfig,
    anchor: ForkChoiceAnchor,
    private readonly getJustifiedBalances: JustifiedBalancesGetter,
    opts: ForkChoiceOpts = {},
  ) {
    // get_forkchoice_store: the anchor is trusted, justified and finalized at the anchor state's epoch.
    const stateSlot = anchor.stateSlot ?? anchor.block.slot;
    const checkpoint = { epoch: computeEpochAtSlot(config, stateSlot), root: anchor.block.root };
    this.currentSlot = stateSlot;
    this.justifiedCheckpoint = checkpoint;
    this.finalizedCheckpoint = { ...checkpoint };
    this.bestJustifiedCheckpoint = { ...checkpoint };
    this.protoArray = new ProtoArray({ slotsPerEpoch: config.SLOTS_PER_EPOCH, pruneThreshold: opts.pruneThreshold }, anchor.block);
  }

  // --- Reading the store ---------------------------------------------------------------------------------------

  getCurrentSlot(): number {
    return this.currentSlot;
  }
  getJustifiedCheckpoint(): CheckpointHex {
    return { ...this.justifiedCheckpoint };
  }
  getFinalizedCheckpoint(): CheckpointHex {
    return { ...this.finalizedCheckpoint };
  }
  getBestJustifiedCheckpoint(): CheckpointHex {
    return { ...this.bestJustifiedCheckpoint };
  }
  hasBlock(root: RootHex): boolean {
    return this.protoArray.hasBlock(root);
  }
  getBlock(root: RootHex): Readonly<ProtoNode> | undefined {
    return this.protoArray.getNode(root);
  }
  /** get_ancestor; undefined when the chain of `root` is not known down to `slot`. */
  getAncestor(root: RootHex, slot: number): RootHex | undefined {
    return this.protoArray.getAncestor(root, slot);
  }
  isDescendant(ancestorRoot: RootHex, root: RootHex): boolean {
    return this.protoArray.isDescendant(ancestorRoot, root);
  }
  getLatestMessage(validatorIndex: number): LatestMessage | undefined {
    const epoch = this.votes.nextEpochs[validatorIndex];
    if (epoch === undefined || epoch === -1) return undefined;
    const index = this.votes.nextIndices[validatorIndex];
    return { epoch, root: index === NONE ? undefined : this.protoArray.nodes[index].root };
  }
  /** Every block fork choice holds (the finalized block and its descendants, plus what is not yet pruned), parents first. */
  getNodes(): readonly Readonly<ProtoNode>[] {
    return this.protoArray.nodes;
  }
  /** Blocks in the proto-array (the finalized block and everything after it, plus what is not yet pruned). */
  get nodeCount(): number {
    return this.protoArray.length;
  }
  /** Validators with a latest message. */
  get voteCount(): number {
    return this.votesCount;
  }
  get queuedAttestationCount(): number {
    return this.queuedAttestations.length;
  }

  // --- Handlers ------------------------------------------------------------------------------------------------

  /**
   * on_tick, in slots. Time only moves forward (an earlier slot is ignored). A jump over several slots acts as a
   * tick at each of them: the best justified checkpoint is adopted if an epoch start was passed, and every queued
   * attestation whose slot is now past is applied.
   */
  onTick(currentSlot: number): void {
    if (currentSlot <= this.currentSlot) return;
    const previousSlot = this.currentSlot;
    this.currentSlot = currentSlot;
    if (
      computeEpochAtSlot(this.config, currentSlot) > computeEpochAtSlot(this.config, previousSlot) &&
      this.bestJustifiedCheckpoint.epoch > this.justifiedCheckpoint.epoch
    ) {
      this.justifiedCheckpoint = { ...this.bestJustifiedCheckpoint };
    }
    this.applyQueuedAttestations();
  }

  /**
   * on_block for a block whose state transition succeeded. `block` carries its post-state's checkpoints;
   * `currentSlot` is the caller's clock (the store is advanced to it first). A known block is a no-op.
   */
  onBlock(block: BlockSummary, currentSlot: number): void {
    this.onTick(currentSlot);
    if (this.protoArray.hasBlock(block.root)) return;

    const parent = this.protoArray.getNode(block.parentRoot);
    if (!parent) throw new ForkChoiceError({ code: "UNKNOWN_PARENT", root: block.root, parentRoot: block.parentRoot });
    if (block.slot > this.currentSlot) {
      throw new ForkChoiceError({ code: "FUTURE_SLOT", root: block.root, slot: block.slot, currentSlot: this.currentSlot });
    }
    const finalizedSlot = computeStartSlotAtEpoch(this.config, this.finalizedCheckpoint.epoch);
    if (block.slot <= finalizedSlot) {
      throw new ForkChoiceError({ code: "NOT_AFTER_FINALIZED_SLOT", root: block.root, slot: block.slot, finalizedSlot });
    }
    if (this.protoArray.getAncestor(block.parentRoot, finalizedSlot) !== this.finalizedCheckpoint.root) {
      throw new ForkChoiceError({ code: "NOT_FINALIZED_DESCENDANT", root: block.root, finalizedRoot: this.finalizedCheckpoint.root });
    }
    this.protoArray.onBlock(block);

    const justified = block.justifiedCheckpoint;
    const finalized = block.finalizedCheckpoint;
    if (justified.epoch > this.justifiedCheckpoint.epoch) {
      if (justified.epoch > this.bestJustifiedCheckpoint.epoch) this.bestJustifiedCheckpoint = { ...justified };
      if (this.shouldUpdateJustifiedCheckpoint(justified)) this.justifiedCheckpoint = { ...justified };
    }

    if (finalized.epoch > this.finalizedCheckpoint.epoch) {
      this.finalizedCheckpoint = { ...finalized };
      if (!sameCheckpoint(this.justifiedCheckpoint, justified)) {
        if (justified.epoch > this.justifiedCheckpoint.epoch) {
          this.justifiedCheckpoint = { ...justified };
        } else {
          // The store's justified checkpoint is not in the chain of the new finalized one.
          const newFinalizedSlot = computeStartSlotAtEpoch(this.config, finalized.epoch);
          if (this.protoArray.getAncestor(this.justifiedCheckpoint.root, newFinalizedSlot) !== finalized.root) {
            this.justifiedCheckpoint = { ...justified };
          }
        }
      }
      this.prune();
    }
  }

  /**
   * on_attestation after the caller checked the signature (is_valid_indexed_attestation). Throws on the
   * validate_on_attestation checks; an attestation whose slot is not yet past is queued and counts from the next
   * slot. A validator's latest message only moves to a later target epoch.
   *
   * One departure from the spec, which never forgets a block: a vote for a block already pruned (one conflicting
   * with finality) is rejected as UNKNOWN_HEAD_BLOCK instead of becoming the validator's latest message. It
   * could only have counted below a root conflicting with finality, so it never weighs on the head; it can only
   * let that validator's later vote of the same epoch count.
   */
  onAttestation(attestation: ForkChoiceAttestation): void {
    const { slot, beaconBlockRoot, target } = attestation.data;
    const currentEpoch = computeEpochAtSlot(this.config, this.currentSlot);
    const previousEpoch = currentEpoch > GENESIS_EPOCH ? currentEpoch - 1 : GENESIS_EPOCH;
    if (target.epoch > currentEpoch) throw new ForkChoiceError({ code: "FUTURE_EPOCH", targetEpoch: target.epoch, currentEpoch });
    if (target.epoch < previousEpoch) throw new ForkChoiceError({ code: "PAST_EPOCH", targetEpoch: target.epoch, currentEpoch });
    if (target.epoch !== computeEpochAtSlot(this.config, slot)) {
      throw new ForkChoiceError({ code: "BAD_TARGET_EPOCH", targetEpoch: target.epoch, slot });
    }
    if (!this.protoArray.hasBlock(target.root)) throw new ForkChoiceError({ code: "UNKNOWN_TARGET_ROOT", root: target.root });
    const block = this.protoArray.getNode(beaconBlockRoot);
    if (!block) throw new ForkChoiceError({ code: "UNKNOWN_HEAD_BLOCK", root: beaconBlockRoot });
    if (block.slot > slot) throw new ForkChoiceError({ code: "ATTESTS_TO_FUTURE_BLOCK", blockSlot: block.slot, slot });
    // The LMD vote must be consistent with the FFG target.
    const ancestorAtTarget = this.protoArray.getAncestor(beaconBlockRoot, computeStartSlotAtEpoch(this.config, target.epoch));
    if (ancestorAtTarget !== target.root) {
      throw new ForkChoiceError({ code: "INVALID_TARGET", targetRoot: target.root, ancestorAtTarget });
    }
    const indices = Array.from(attestation.attestingIndices);
    for (const index of indices) {
      if (!Number.isSafeInteger(index) || index < 0) throw new ForkChoiceError({ code: "INVALID_VALIDATOR_INDEX", index });
    }

    if (slot >= this.currentSlot) {
      this.queuedAttestations.push({ slot, attestingIndices: indices, blockRoot: beaconBlockRoot, targetEpoch: target.epoch });
    } else {
      this.updateLatestMessages(indices, beaconBlockRoot, target.epoch);
    }
  }

  /**
   * get_head: moves the votes changed since the last call into the proto-array weights (with the justified
   * state's balances), then reads the head off the justified node.
   */
  getHead(): RootHex {
    const justified = this.justifiedCheckpoint;
    if (!this.protoArray.hasBlock(justified.root)) throw new ForkChoiceError({ code: "UNKNOWN_JUSTIFIED_ROOT", root: justified.root });
    const newBalances =
      this.appliedBalancesCheckpoint && sameCheckpoint(this.appliedBalancesCheckpoint, justified)
        ? this.appliedBalances
        : this.getJustifiedBalances({ ...justified });
    const n = this.protoArray.length;
    if (this.deltasBuffer.length < n) this.deltasBuffer = new Float64Array(grownCapacity(n));
    // the buffer is kept all zero between calls: only the range the votes touched is cleared after use
    const deltas = this.deltasBuffer.subarray(0, n);
    const lowestDelta = addDeltas(deltas, this.votes, this.appliedBalances, newBalances);
    this.appliedBalances = newBalances;
    this.appliedBalancesCheckpoint = { ...justified };
    try {
      this.protoArray.applyScoreChanges(deltas, justified, this.finalizedCheckpoint, lowestDelta);
    } finally {
      deltas.fill(0, Math.min(lowestDelta, n), n);
    }
    return this.protoArray.findHead(justified.root);
  }

  /**
   * The store as the spec's get_head reads it (blocks, latest messages, justified balances), for checking getHead
   * against the slow reference specGetHead. Pruned blocks and messages for them are left out: they never descend
   * from the justified root, so the spec's head does not depend on them.
   */
  toSpecStore(): SpecStore {
    const blocks = new Map<RootHex, BlockSummary>();
    for (const node of this.protoArray.nodes) blocks.set(node.root, node);
    const latestMessages = new Map<number, { epoch: number; root: RootHex }>();
    for (let v = 0; v < this.votes.nextEpochs.length; v++) {
      const index = this.votes.nextIndices[v];
      if (index !== NONE) latestMessages.set(v, { epoch: this.votes.nextEpochs[v], root: this.protoArray.nodes[index].root });
    }
    return {
      slotsPerEpoch: this.config.SLOTS_PER_EPOCH,
      justifiedCheckpoint: { ...this.justifiedCheckpoint },
      finalizedCheckpoint: { ...this.finalizedCheckpoint },
      blocks,
      latestMessages,
      justifiedBalances: this.getJustifiedBalances({ ...this.justifiedCheckpoint }),
    };
  }

  // --- Internals -----------------------------------------------------------------------------------------------

  /** should_update_justified_checkpoint: late in an epoch, only a justified checkpoint in our chain is adopted. */
  private shouldUpdateJustifiedCheckpoint(newJustified: CheckpointHex): boolean {
    const slotsSinceEpochStart = this.currentSlot - computeStartSlotAtEpoch(this.config, computeEpochAtSlot(this.config, this.currentSlot));
    if (slotsSinceEpochStart < this.config.SAFE_SLOTS_TO_UPDATE_JUSTIFIED) return true;
    const justifiedSlot = computeStartSlotAtEpoch(this.config, this.justifiedCheckpoint.epoch);
    return this.protoArray.getAncestor(newJustified.root, justifiedSlot) === this.justifiedCheckpoint.root;
  }

  /** update_latest_messages. A block pruned since the attestation was checked still moves the epoch forward. */
  /** Every latest message whose block is still known, for persisting across restarts. */
  exportLatestMessages(): { validatorIndex: number; epoch: number; root: RootHex }[] {
    const out = [];
    const { nextIndices, nextEpochs } = this.votes;
    for (let v = 0; v < nextEpochs.length; v++) {
      if (nextEpochs[v] >= 0 && nextIndices[v] !== NONE) {
        out.push({ validatorIndex: v, epoch: nextEpochs[v], root: this.protoArray.nodes[nextIndices[v]].root });
      }
    }
    return out;
  }

  /**
   * The latest messages packed for storage: the distinct roots, and per vote its validator, epoch and root's index
   * among them. No object per validator (100,000 of them took ~50 ms of allocation and collection once an epoch).
   */
  exportLatestMessagesPacked(): PackedVotes {
    const { nextIndices, nextEpochs } = this.votes;
    const rootOfNode = new Map<number, number>();
    const roots: RootHex[] = [];
    let n = 0;
    for (let v = 0; v < nextEpochs.length; v++) if (nextEpochs[v] >= 0 && nextIndices[v] !== NONE) n++;
    const validatorIndices = new Uint32Array(n);
    const epochs = new Uint32Array(n);
    const rootIndices = new Uint32Array(n);
    let k = 0;
    for (let v = 0; v < nextEpochs.length; v++) {
      const node = nextIndices[v];
      if (nextEpochs[v] < 0 || node === NONE) continue;
      let r = rootOfNode.get(node);
      if (r === undefined) {
        r = roots.length;
        rootOfNode.set(node, r);
        roots.push(this.protoArray.nodes[node].root);
      }
      validatorIndices[k] = v;
      epochs[k] = nextEpochs[v];
      rootIndices[k] = r;
      k++;
    }
    return { roots, validatorIndices, epochs, rootIndices };
  }

  /**
   * Restore latest messages saved by exportLatestMessages (after a restart, before new attestations arrive). Only
   * moves a vote forward in epoch, as on_attestation does; messages for unknown blocks are dropped.
   */
  importLatestMessages(messages: { validatorIndex: number; epoch: number; root: RootHex }[]): void {
    for (const m of messages) {
      if (!Number.isSafeInteger(m.validatorIndex) || m.validatorIndex < 0 || !this.protoArray.hasBlock(m.root)) continue;
      this.updateLatestMessages([m.validatorIndex], m.root, m.epoch);
    }
  }

  private updateLatestMessages(indices: number[], blockRoot: RootHex, targetEpoch: number): void {
    const node = this.protoArray.getIndex(blockRoot) ?? NONE;
    const { nextIndices, nextEpochs } = this.votes;
    for (const v of indices) {
      ensureVote(this.votes, v);
      if (targetEpoch > nextEpochs[v]) {
        if (nextEpochs[v] === -1) this.votesCount++;
        nextIndices[v] = node;
        nextEpochs[v] = targetEpoch;
      }
    }
  }

  /**
   * Applies the queued attestations whose slot is now past. After a jump over several slots they are applied by
   * slot, then in arrival order, as ticking at each slot would have (a validator's first message of an epoch wins).
   */
  private applyQueuedAttestations(): void {
    if (this.queuedAttestations.length === 0) return;
    const ready: QueuedAttestation[] = [];
    const waiting: QueuedAttestation[] = [];
    for (const a of this.queuedAttestations) (a.slot < this.currentSlot ? ready : waiting).push(a);
    ready.sort((a, b) => a.slot - b.slot); // stable: arrival order within a slot
    for (const a of ready) this.updateLatestMessages(a.attestingIndices, a.blockRoot, a.targetEpoch);
    this.queuedAttestations = waiting;
  }

  /**
   * Drops the blocks that conflict with the finalized checkpoint. Deferred while the justified or best justified
   * root is not below the finalized root (possible only with conflicting finalized checkpoints), so that neither
   * is ever pruned.
   */
  private prune(): void {
    const finalizedRoot = this.finalizedCheckpoint.root;
    if (!this.protoArray.isDescendant(finalizedRoot, this.justifiedCheckpoint.root)) return;
    if (!this.protoArray.isDescendant(finalizedRoot, this.bestJustifiedCheckpoint.root)) return;
    const result = this.protoArray.maybePrune(finalizedRoot);
    if (result) remapVotes(this.votes, result.newIndexOf);
  }
}

function sameCheckpoint(a: CheckpointHex, b: CheckpointHex): boolean {
  return a.epoch === b.epoch && a.root === b.root;
}

/** Latest messages as exportLatestMessagesPacked() gives them: vote k is (validatorIndices[k], epochs[k], roots[rootIndices[k]]). */
export interface PackedVotes {
  roots: RootHex[];
  validatorIndices: Uint32Array;
  epochs: Uint32Array;
  rootIndices: Uint32Array;
}
