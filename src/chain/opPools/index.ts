// The operation pools: what the node has seen outside blocks and may put in the blocks it produces. Everything
// that enters is checked first (gossip rules, signatures, the state transition's own checks on the head state);
// accepted attestations also go to fork choice; attestations and exits are announced on `emitter`.
import { EventEmitter } from "node:events";
import { verifySignatureSets, verifySignatureSetsEach, type SignatureSet } from "../../crypto/bls.js";
import {
  processAttesterSlashing,
  processProposerSlashing,
  processVoluntaryExit,
  type CachedBeaconState,
} from "../../state-transition/index.js";
import { computeEpochAtSlot } from "../../state-transition/util/epoch.js";
import { toHex } from "../../util/bytes.js";
import type {
  Attestation,
  AttesterSlashing,
  ProposerSlashing,
  SignedAggregateAndProof,
  SignedVoluntaryExit,
} from "../../types/index.js";
import type { BeaconChain } from "../chain.js";
import {
  AggregatedAttestationPool,
  AttestationPool,
  countBits,
  type AttestationFilter,
  type PooledAttestation,
} from "./attestationPool.js";
import { OpPool } from "./opPool.js";
import { attestationSignatureSet, checkAggregateAndProof, checkAttestation, OpValidationError, type CheckedAttestation } from "./validation.js";

export { AggregatedAttestationPool, AttestationPool, PoolFullError, type AttestationFilter, type PooledAttestation } from "./attestationPool.js";
export { OpPool, type BlockOperations } from "./opPool.js";
export { isAggregator, OpValidationError, ATTESTATION_PROPAGATION_SLOT_RANGE } from "./validation.js";
export { produceBlockOnHead, selectAttestations, ProduceBlockError, type ProduceBlockRequest } from "./blockProduction.js";

export interface OpPoolEvents {
  /** an attestation or aggregate accepted into a pool */
  attestation: [Attestation];
  voluntaryExit: [SignedVoluntaryExit];
}

export interface OpPoolsOptions {
  /** the wall clock's slot; without it, the latest slot fork choice has seen */
  currentSlot?: () => number;
  /** attestation data roots each attestation pool holds at most */
  maxAttestationData?: number;
  /** exits, proposer slashings, attester slashings held at most (each) */
  maxOperations?: number;
}

/** One rejected item of a list submission: its position in the list and why. */
export interface SubmitFailure {
  index: number;
  message: string;
}

export type SubmitResult = "accepted" | "known";

export class OpPools {
  readonly emitter = new EventEmitter<OpPoolEvents>();
  /** single-attester attestations, folded into one aggregate per attestation data */
  readonly attestations: AttestationPool;
  /** aggregates from aggregators, for block inclusion */
  readonly aggregates: AggregatedAttestationPool;
  readonly operations: OpPool;
  /** gossip's "first attestation of this validator for this target epoch" (and the same for aggregators) */
  private readonly seenAttesters = new Map<number, Set<number>>();
  private readonly seenAggregators = new Map<number, Set<number>>();
  /** validators seen doing their duties, by epoch (for liveness queries) */
  private readonly live = new Map<number, Set<number>>();

  constructor(
    readonly chain: BeaconChain,
    private readonly opts: OpPoolsOptions = {},
  ) {
    this.attestations = new AttestationPool(opts.maxAttestationData);
    this.aggregates = new AggregatedAttestationPool(opts.maxAttestationData);
    this.operations = new OpPool(opts.maxOperations);
  }

  currentSlot(): number {
    if (this.opts.currentSlot) return this.opts.currentSlot();
    const head = this.chain.forkChoice.getBlock(this.chain.headRoot)?.slot ?? 0;
    return Math.max(this.chain.forkChoice.getCurrentSlot(), head);
  }

  /**
   * Unaggregated attestations (exactly one bit each), as POST pool/attestations sends them. Each is checked on
   * its own; the valid ones are pooled even when others fail. Signatures are verified as one batch.
   */
  async submitAttestations(atts: Attestation[]): Promise<SubmitFailure[]> {
    this.prune();
    const currentSlot = this.currentSlot();
    const failures: SubmitFailure[] = [];
    const pending: { i: number; att: Attestation; checked: CheckedAttestation; validator: number; set: SignatureSet }[] = [];
    for (let i = 0; i < atts.length; i++) {
      const att = atts[i];
      try {
        const bit = att.aggregationBits.getSingleTrueBit();
        if (bit === null) throw new OpValidationError("an unaggregated attestation must have exactly one aggregation bit set");
        const checked = await checkAttestation(this.chain, att, currentSlot);
        const validator = checked.committee[bit];
        if (this.seenAttesters.get(att.data.target.epoch)?.has(validator)) continue; // already seen: ignored
        pending.push({ i, att, checked, validator, set: attestationSignatureSet(checked.state, att) });
      } catch (e) {
        failures.push({ index: i, message: messageOf(e) });
      }
    }
    const valid = verifyBatch(pending.map((p) => [p.set]));
    for (let k = 0; k < pending.length; k++) {
      const { i, att, checked, validator } = pending[k];
      if (!valid[k]) {
        failures.push({ index: i, message: "invalid signature" });
        continue;
      }
      const epoch = att.data.target.epoch;
      const seen = getOrCreate(this.seenAttesters, epoch);
      if (seen.has(validator)) continue; // the same validator twice in one request
      let added: "added" | "known";
      try {
        added = this.attestations.add(att, checked.dataRoot);
      } catch (e) {
        failures.push({ index: i, message: messageOf(e) });
        continue;
      }
      seen.add(validator);
      // live even when the same attestation was pooled already (another client signing with the same key)
      this.recordLiveness(epoch, [validator]);
      if (added === "added") this.accept(att, checked.state, epoch, []);
    }
    failures.sort((a, b) => a.index - b.index);
    return failures;
  }

  /** Signed aggregates from aggregators (POST validator/aggregate_and_proofs): selection proof, aggregator and aggregate signatures. */
  async submitAggregateAndProofs(items: SignedAggregateAndProof[]): Promise<SubmitFailure[]> {
    this.prune();
    const currentSlot = this.currentSlot();
    const failures: SubmitFailure[] = [];
    const pending: { i: number; item: SignedAggregateAndProof; checked: CheckedAttestation; sets: SignatureSet[] }[] = [];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      try {
        const checked = await checkAggregateAndProof(this.chain, item, currentSlot);
        const epoch = item.message.aggregate.data.target.epoch;
        if (this.seenAggregators.get(epoch)?.has(item.message.aggregatorIndex)) continue; // first aggregate per epoch only
        pending.push({ i, item, checked, sets: checked.sets });
      } catch (e) {
        failures.push({ index: i, message: messageOf(e) });
      }
    }
    const valid = verifyBatch(pending.map((p) => p.sets));
    for (let k = 0; k < pending.length; k++) {
      const { i, item, checked } = pending[k];
      if (!valid[k]) {
        failures.push({ index: i, message: "invalid signature (selection proof, aggregator or aggregate)" });
        continue;
      }
      const att = item.message.aggregate;
      const epoch = att.data.target.epoch;
      const seen = getOrCreate(this.seenAggregators, epoch);
      if (seen.has(item.message.aggregatorIndex)) continue;
      let added: "added" | "known";
      try {
        added = this.aggregates.add(att, checked.dataRoot);
      } catch (e) {
        failures.push({ index: i, message: messageOf(e) });
        continue;
      }
      seen.add(item.message.aggregatorIndex);
      const attesters = att.aggregationBits.intersectValues(checked.committee);
      this.recordLiveness(epoch, [item.message.aggregatorIndex, ...attesters]);
      if (added === "added") this.accept(att, checked.state, epoch, []);
    }
    failures.sort((a, b) => a.index - b.index);
    return failures;
  }

  /**
   * A voluntary exit, checked by process_voluntary_exit (signature included) on the head state; checked before
   * the duplicate test, so an invalid one is reported even when a valid one for that validator is pooled.
   */
  async submitVoluntaryExit(exit: SignedVoluntaryExit): Promise<SubmitResult> {
    const index = exit.message.validatorIndex;
    const head = await this.chain.getHeadState("api");
    checkWith(() => processVoluntaryExit(head.clone(true), exit, true));
    if (this.operations.hasVoluntaryExit(index)) return "known";
    this.operations.addVoluntaryExit(exit);
    this.recordLiveness(head.epochCtx.epoch, [index]);
    this.emit("voluntaryExit", exit);
    return "accepted";
  }

  async submitProposerSlashing(slashing: ProposerSlashing): Promise<SubmitResult> {
    const head = await this.chain.getHeadState("api");
    checkWith(() => processProposerSlashing(head.clone(true), slashing, true));
    if (this.operations.hasProposerSlashing(slashing.signedHeader1.message.proposerIndex)) return "known";
    this.operations.addProposerSlashing(slashing);
    return "accepted";
  }

  async submitAttesterSlashing(slashing: AttesterSlashing): Promise<SubmitResult> {
    const root = toHex(this.chain.config.types.AttesterSlashing.hashTreeRoot(slashing));
    const head = await this.chain.getHeadState("api");
    checkWith(() => processAttesterSlashing(head.clone(true), slashing, true));
    if (this.operations.hasAttesterSlashing(root)) return "known";
    this.operations.addAttesterSlashing(root, slashing);
    return "accepted";
  }

  /** The aggregate with the most attesters for this attestation data, from either pool. */
  getAggregate(slot: number, dataRoot: string): Attestation | null {
    const a = this.attestations.getAggregate(slot, dataRoot);
    const b = this.aggregates.getBest(slot, dataRoot);
    if (!a || !b) return a ?? b;
    return countBits(b.aggregationBits) > countBits(a.aggregationBits) ? b : a;
  }

  /** Everything both attestation pools hold (optionally for one slot / committee). */
  getAttestations(filter: AttestationFilter = {}): PooledAttestation[] {
    return [...this.attestations.getAll(filter), ...this.aggregates.getAll(filter)];
  }

  /** Validators seen attesting, aggregating, proposing or exiting in `epoch`. */
  isLive(epoch: number, validatorIndex: number): boolean {
    return this.live.get(epoch)?.has(validatorIndex) ?? false;
  }

  recordLiveness(epoch: number, indices: Iterable<number>): void {
    const set = getOrCreate(this.live, epoch);
    for (const i of indices) set.add(i);
  }

  /** Drops attestations past their inclusion window and seen-caches of old epochs. Cheap; called on every submission. */
  prune(): void {
    const c = this.chain.config;
    const slot = this.currentSlot();
    const minSlot = slot - c.SLOTS_PER_EPOCH - 1;
    this.attestations.pruneBefore(minSlot);
    this.aggregates.pruneBefore(minSlot);
    const epoch = computeEpochAtSlot(c, slot);
    for (const m of [this.seenAttesters, this.seenAggregators]) for (const e of m.keys()) if (e < epoch - 1) m.delete(e);
    for (const e of this.live.keys()) if (e < epoch - 4 || e > epoch + 1) this.live.delete(e);
  }

  /** Exits and slashings that the head state shows done are dropped. */
  pruneOperations(head: CachedBeaconState): void {
    this.operations.prune(head);
  }

  private accept(att: Attestation, state: CachedBeaconState, epoch: number, attesters: number[]): void {
    this.chain.onAttestation(att, state);
    if (attesters.length > 0) this.recordLiveness(epoch, attesters);
    this.emit("attestation", att);
  }

  /** Listeners (the event stream) must not make a valid submission fail. */
  private emit<K extends keyof OpPoolEvents>(event: K, ...args: OpPoolEvents[K]): void {
    try {
      (this.emitter.emit as (e: K, ...a: OpPoolEvents[K]) => boolean)(event, ...args);
    } catch {
      // a listener's failure is its own
    }
  }
}

/** One verification for the whole request; when it fails, each item alone to find the bad ones. */
function verifyBatch(setsPerItem: SignatureSet[][]): boolean[] {
  if (setsPerItem.length === 0) return [];
  if (verifySignatureSets(setsPerItem.flat())) return setsPerItem.map(() => true);
  return setsPerItem.map((sets) => verifySignatureSetsEach(sets).every(Boolean));
}

function checkWith(apply: () => void): void {
  try {
    apply();
  } catch (e) {
    throw new OpValidationError(messageOf(e));
  }
}

function messageOf(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split(/\r?\n/)[0];
}

function getOrCreate<K, V>(m: Map<K, Set<V>>, k: K): Set<V> {
  let s = m.get(k);
  if (!s) {
    s = new Set();
    m.set(k, s);
  }
  return s;
}
