// The "first seen" caches of the gossip rules. Every one is bounded: keyed caches are pruned by slot or epoch, and
// the others drop their oldest entries past a size cap.
import { ATTESTATION_PROPAGATION_SLOT_RANGE } from "../../params/index.js";

/** Sets of values per slot (or epoch); keys below a bound are pruned, and at most `maxKeys` keys are kept. */
export class KeyedSeenSet<V> {
  private readonly map = new Map<number, Set<V>>();
  constructor(private readonly maxKeys: number) {}

  has(key: number, value: V): boolean {
    return this.map.get(key)?.has(value) ?? false;
  }

  add(key: number, value: V): void {
    let set = this.map.get(key);
    if (!set) {
      set = new Set();
      this.map.set(key, set);
      if (this.map.size > this.maxKeys) this.map.delete(Math.min(...this.map.keys()));
    }
    set.add(value);
  }

  pruneBelow(minKey: number): void {
    for (const k of this.map.keys()) if (k < minKey) this.map.delete(k);
  }

  get size(): number {
    let n = 0;
    for (const s of this.map.values()) n += s.size;
    return n;
  }
}

/** A set that forgets its oldest entries beyond `max`. */
export class BoundedSeenSet<V> {
  private readonly set = new Set<V>();
  constructor(private readonly max: number) {}

  has(v: V): boolean {
    return this.set.has(v);
  }

  add(v: V): void {
    this.set.delete(v);
    this.set.add(v);
    if (this.set.size > this.max) this.set.delete(this.set.values().next().value as V);
  }

  get size(): number {
    return this.set.size;
  }
}

export class GossipSeenCaches {
  /** beacon_block: (slot, proposer index) of blocks with a valid signature */
  readonly blockProposers = new KeyedSeenSet<number>(1024);
  /** beacon_attestation_{subnet}: (target epoch, validator index) */
  readonly attesters = new KeyedSeenSet<number>(4);
  /** beacon_aggregate_and_proof: (target epoch, aggregator index) and hash_tree_root(aggregate) by slot */
  readonly aggregators = new KeyedSeenSet<number>(4);
  readonly aggregateRoots = new KeyedSeenSet<string>(2 * ATTESTATION_PROPAGATION_SLOT_RANGE);
  /** voluntary_exit, proposer_slashing: validator indices; attester_slashing: indices already slashed by one */
  readonly exits = new BoundedSeenSet<number>(1 << 16);
  readonly proposerSlashings = new BoundedSeenSet<number>(1 << 16);
  readonly attesterSlashed = new BoundedSeenSet<number>(1 << 18);
  private prunedAt: number | null = null;

  /** Drops what the rules no longer need; cheap to call on every message (works once per slot). */
  prune(currentSlot: number, finalizedSlot: number, slotsPerEpoch: number): void {
    if (this.prunedAt === currentSlot) return;
    this.prunedAt = currentSlot;
    this.blockProposers.pruneBelow(finalizedSlot + 1);
    const epoch = Math.floor(Math.max(0, currentSlot) / slotsPerEpoch);
    this.attesters.pruneBelow(epoch - 1);
    this.aggregators.pruneBelow(epoch - 1);
    this.aggregateRoots.pruneBelow(currentSlot - ATTESTATION_PROPAGATION_SLOT_RANGE - 1);
  }
}
