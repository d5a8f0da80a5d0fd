import { digest } from "@chainsafe/as-sha256";
import type { BeaconConfig } from "../../config/index.js";
import { FAR_FUTURE_EPOCH, GENESIS_EPOCH } from "../../params/index.js";
import type { BeaconStateView, ValidatorView } from "../../types/index.js";
import { computeActivationExitEpoch, computeEpochAtSlot, computeStartSlotAtEpoch } from "../util/epoch.js";
import { uint64ToBytes } from "../util/math.js";
import { getSeed } from "../util/seed.js";
import { computeShuffledIndex } from "../util/shuffle.js";
import { getChurnLimit } from "../util/validator.js";
import { computeEpochShuffling, computeEpochShufflingSteps, getActiveValidatorIndicesFromState, type EpochShuffling } from "./epochShuffling.js";
import { PubkeyCache } from "./pubkeyCache.js";
import type { ShufflingCache } from "./shufflingCache.js";
import { runToEnd } from "../util/steps.js";

/**
 * Everything derivable from a state that the transition needs more than once per epoch: the three shufflings
 * (previous, current, next), the current epoch's proposers, the churn limit and the exit queue. Built once per
 * state load, rotated at each epoch boundary, shallow-copied with the state (shufflings are immutable and shared).
 */
export class EpochContext {
  constructor(
    readonly config: BeaconConfig,
    readonly pubkeyCache: PubkeyCache,
    public epoch: number,
    public previousShuffling: EpochShuffling,
    public currentShuffling: EpochShuffling,
    public nextShuffling: EpochShuffling,
    /** proposers[slot % SLOTS_PER_EPOCH] for the current epoch */
    public proposers: number[],
    public churnLimit: number,
    /** highest exit epoch of any validator (or -1), and how many validators exit in it */
    public exitQueueEpoch: number,
    public exitQueueChurn: number,
    /** shared across the chain's states when given */
    readonly shufflingCache: ShufflingCache | null = null,
  ) {}

  static createFromState(
    config: BeaconConfig,
    state: BeaconStateView,
    pubkeyCache = new PubkeyCache(),
    shufflingCache: ShufflingCache | null = null,
  ): EpochContext {
    // bulk reads (getAllReadonlyValues) see only committed nodes
    state.commit();
    pubkeyCache.syncWith(state);
    const epoch = computeEpochAtSlot(config, state.slot);
    const previousEpoch = epoch === GENESIS_EPOCH ? GENESIS_EPOCH : epoch - 1;
    const shuffle = (e: number) =>
      shufflingCache
        ? shufflingCache.getOrCompute(config, state, e)
        : computeEpochShuffling(config, state, getActiveValidatorIndicesFromState(state, e), e);
    const current = shuffle(epoch);
    const previous = previousEpoch === epoch ? current : shuffle(previousEpoch);
    const next = shuffle(epoch + 1);

    let exitQueueEpoch = -1;
    let exitQueueChurn = 0;
    state.validators.forEachValue((v) => {
      if (v.exitEpoch === FAR_FUTURE_EPOCH) return;
      if (v.exitEpoch > exitQueueEpoch) {
        exitQueueEpoch = v.exitEpoch;
        exitQueueChurn = 1;
      } else if (v.exitEpoch === exitQueueEpoch) exitQueueChurn++;
    });

    const ctx = new EpochContext(
      config,
      pubkeyCache,
      epoch,
      previous,
      current,
      next,
      [],
      getChurnLimit(config, current.activeIndices.length),
      exitQueueEpoch,
      exitQueueChurn,
      shufflingCache,
    );
    ctx.proposers = ctx.computeProposers(state);
    return ctx;
  }

  copy(): EpochContext {
    return new EpochContext(
      this.config,
      this.pubkeyCache,
      this.epoch,
      this.previousShuffling,
      this.currentShuffling,
      this.nextShuffling,
      this.proposers,
      this.churnLimit,
      this.exitQueueEpoch,
      this.exitQueueChurn,
      this.shufflingCache,
    );
  }

  /**
   * Called after process_epoch, with state.slot already in the new epoch. `nextActiveIndices`, when given, are
   * get_active_validator_indices(new epoch + 1) as process_epoch collected them; otherwise they are read here.
   */
  afterProcessEpoch(state: BeaconStateView, nextActiveIndices: Uint32Array | null = null): void {
    runToEnd(this.afterProcessEpochSteps(state, nextActiveIndices));
  }

  /**
   * afterProcessEpoch in steps: it stops inside the next epoch's shuffle (~45 ms at 100,000 validators). The
   * context is rotated only at the end, all at once: between steps it is still the previous epoch's.
   */
  *afterProcessEpochSteps(state: BeaconStateView, nextActiveIndices: Uint32Array | null = null): Generator<void, void, void> {
    state.commit();
    const epoch = computeEpochAtSlot(this.config, state.slot);
    const next = this.shufflingCache
      ? yield* this.shufflingCache.getOrComputeSteps(this.config, state, epoch + 1, nextActiveIndices ?? undefined)
      : yield* computeEpochShufflingSteps(this.config, state, nextActiveIndices ?? getActiveValidatorIndicesFromState(state, epoch + 1), epoch + 1);
    this.epoch = epoch;
    this.previousShuffling = this.currentShuffling;
    this.currentShuffling = this.nextShuffling;
    this.nextShuffling = next;
    this.proposers = this.computeProposers(state);
    this.churnLimit = getChurnLimit(this.config, this.currentShuffling.activeIndices.length);
  }

  // get_beacon_proposer_index for every slot of the current epoch at once
  private computeProposers(state: BeaconStateView): number[] {
    const c = this.config;
    const epochSeed = getSeed(c, state, this.epoch, c.DOMAIN_BEACON_PROPOSER);
    const start = computeStartSlotAtEpoch(c, this.epoch);
    const indices = this.currentShuffling.activeIndices;
    const out: number[] = [];
    if (indices.length === 0) return out;
    const input = new Uint8Array(40);
    input.set(epochSeed, 0);
    for (let slot = start; slot < start + c.SLOTS_PER_EPOCH; slot++) {
      input.set(uint64ToBytes(slot), 32);
      out.push(computeProposerIndex(c, state, indices, digest(input)));
    }
    return out;
  }

  getBeaconProposer(slot: number): number {
    const epoch = computeEpochAtSlot(this.config, slot);
    if (epoch !== this.epoch) throw new Error(`proposer requested for slot ${slot} outside the current epoch ${this.epoch}`);
    return this.proposers[slot % this.config.SLOTS_PER_EPOCH];
  }

  getShufflingAtEpoch(epoch: number): EpochShuffling {
    if (epoch === this.currentShuffling.epoch) return this.currentShuffling;
    if (epoch === this.previousShuffling.epoch) return this.previousShuffling;
    if (epoch === this.nextShuffling.epoch) return this.nextShuffling;
    throw new Error(`no shuffling for epoch ${epoch} (current epoch ${this.epoch})`);
  }

  // get_committee_count_per_slot
  getCommitteeCountPerSlot(epoch: number): number {
    return this.getShufflingAtEpoch(epoch).committeesPerSlot;
  }

  // get_beacon_committee
  getBeaconCommittee(slot: number, index: number): Uint32Array {
    const shuffling = this.getShufflingAtEpoch(computeEpochAtSlot(this.config, slot));
    if (index >= shuffling.committeesPerSlot) {
      throw new Error(`committee index ${index} out of range (${shuffling.committeesPerSlot} per slot)`);
    }
    return shuffling.committees[slot % this.config.SLOTS_PER_EPOCH][index];
  }

  /** The exit epoch initiate_validator_exit assigns next; records it in the queue. */
  assignExitEpoch(): number {
    let exitQueueEpoch = Math.max(this.exitQueueEpoch, computeActivationExitEpoch(this.config, this.epoch));
    let churn = exitQueueEpoch === this.exitQueueEpoch ? this.exitQueueChurn : 0;
    if (churn >= this.churnLimit) {
      exitQueueEpoch += 1;
      churn = 0;
    }
    this.exitQueueEpoch = exitQueueEpoch;
    this.exitQueueChurn = churn + 1;
    return exitQueueEpoch;
  }
}

// compute_proposer_index
export function computeProposerIndex(
  c: BeaconConfig,
  state: BeaconStateView,
  indices: ArrayLike<number>,
  seed: Uint8Array,
): number {
  if (indices.length === 0) throw new Error("computeProposerIndex: no active validators");
  const MAX_RANDOM_BYTE = 255;
  const total = indices.length;
  const input = new Uint8Array(40);
  input.set(seed, 0);
  let hash: Uint8Array | null = null;
  for (let i = 0; ; i++) {
    const candidate = indices[computeShuffledIndex(i % total, total, seed, c.SHUFFLE_ROUND_COUNT)];
    if (i % 32 === 0) {
      input.set(uint64ToBytes(Math.floor(i / 32)), 32);
      hash = digest(input);
    }
    const randomByte = (hash as Uint8Array)[i % 32];
    const effectiveBalance = (state.validators.getReadonly(candidate) as ValidatorView).effectiveBalance;
    if (effectiveBalance * MAX_RANDOM_BYTE >= c.MAX_EFFECTIVE_BALANCE * randomByte) return candidate;
  }
}
