// Attestations waiting for a block, keyed by slot and attestation data root. Both pools are bounded and pruned by
// slot: an attestation can only be included within SLOTS_PER_EPOCH slots of its own.
import type { BitArray } from "@chainsafe/ssz";
import { aggregateSignatures } from "../../crypto/bls.js";
import type { Attestation, AttestationData } from "../../types/index.js";

export class PoolFullError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PoolFullError";
  }
}

export interface AttestationFilter {
  slot?: number;
  committeeIndex?: number;
}

/** An attestation with its data root, as the pools hand candidates to block production. */
export interface PooledAttestation {
  dataRoot: string;
  attestation: Attestation;
}

const POPCOUNT = Uint8Array.from({ length: 256 }, (_, b) => {
  let n = 0;
  for (let x = b; x; x >>= 1) n += x & 1;
  return n;
});

export function countBits(bits: BitArray): number {
  let n = 0;
  for (const byte of bits.uint8Array) n += POPCOUNT[byte];
  return n;
}

/** How many bits of `bits` are not set in `covered` (bits already counted elsewhere). */
export function countNewBits(bits: BitArray, covered: Uint8Array | undefined): number {
  if (!covered) return countBits(bits);
  let n = 0;
  const b = bits.uint8Array;
  for (let i = 0; i < b.length; i++) n += POPCOUNT[b[i] & ~(covered[i] ?? 0) & 0xff];
  return n;
}

/** Every bit of `b` is set in `a`. */
export function isSuperset(a: BitArray, b: BitArray): boolean {
  if (a.bitLen !== b.bitLen) return false;
  for (let i = 0; i < a.uint8Array.length; i++) if ((b.uint8Array[i] & ~a.uint8Array[i]) !== 0) return false;
  return true;
}

export function isDisjoint(a: BitArray, b: BitArray): boolean {
  if (a.bitLen !== b.bitLen) return false;
  for (let i = 0; i < a.uint8Array.length; i++) if ((a.uint8Array[i] & b.uint8Array[i]) !== 0) return false;
  return true;
}

function matches(data: AttestationData, filter: AttestationFilter): boolean {
  return (filter.slot === undefined || data.slot === filter.slot) && (filter.committeeIndex === undefined || data.index === filter.committeeIndex);
}

interface Aggregate {
  bits: BitArray;
  signature: Uint8Array;
}

/** Slot -> data root -> entry, with a bound on the number of data roots; old slots go first. */
class SlotMap<E> {
  private readonly bySlot = new Map<number, Map<string, E>>();
  private count = 0;
  constructor(
    private readonly maxEntries: number,
    private readonly what: string,
  ) {}

  get size(): number {
    return this.count;
  }

  get(slot: number, dataRoot: string): E | undefined {
    return this.bySlot.get(slot)?.get(dataRoot);
  }

  /** Room for a new entry at `slot`: evicts whole older slots when full, refuses if only newer ones remain. */
  insert(slot: number, dataRoot: string, entry: E): void {
    while (this.count >= this.maxEntries) {
      const oldest = Math.min(...this.bySlot.keys());
      if (oldest >= slot) throw new PoolFullError(`${this.what} pool is full (${this.count} attestation data)`);
      this.count -= this.bySlot.get(oldest)?.size ?? 0;
      this.bySlot.delete(oldest);
    }
    let m = this.bySlot.get(slot);
    if (!m) {
      m = new Map();
      this.bySlot.set(slot, m);
    }
    m.set(dataRoot, entry);
    this.count++;
  }

  *entries(): Generator<[number, string, E]> {
    for (const [slot, m] of this.bySlot) for (const [root, e] of m) yield [slot, root, e];
  }

  pruneBefore(minSlot: number): void {
    for (const [slot, m] of this.bySlot) {
      if (slot < minSlot) {
        this.count -= m.size;
        this.bySlot.delete(slot);
      }
    }
  }
}

/**
 * Unaggregated attestations (one attester each, from the API or gossip), folded as they arrive into one aggregate
 * per attestation data: what an aggregator asks for with aggregate_attestation.
 */
export class AttestationPool {
  private readonly entries: SlotMap<{ data: AttestationData; agg: Aggregate }>;

  constructor(maxDataRoots = 16384) {
    this.entries = new SlotMap(maxDataRoots, "attestation");
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds an attestation with exactly one bit set; "known" when that attester is already in the aggregate. */
  add(att: Attestation, dataRoot: string): "added" | "known" {
    const bit = att.aggregationBits.getSingleTrueBit();
    if (bit === null) throw new Error("an unaggregated attestation must have exactly one bit set");
    const entry = this.entries.get(att.data.slot, dataRoot);
    if (!entry) {
      this.entries.insert(att.data.slot, dataRoot, {
        data: att.data,
        agg: { bits: att.aggregationBits.clone(), signature: att.signature },
      });
      return "added";
    }
    if (entry.agg.bits.get(bit)) return "known";
    // aggregate first: if it throws, the entry is unchanged
    const signature = aggregateSignatures([entry.agg.signature, att.signature]);
    entry.agg.bits.set(bit, true);
    entry.agg.signature = signature;
    return "added";
  }

  getAggregate(slot: number, dataRoot: string): Attestation | null {
    const entry = this.entries.get(slot, dataRoot);
    return entry ? { data: entry.data, aggregationBits: entry.agg.bits.clone(), signature: entry.agg.signature } : null;
  }

  getAll(filter: AttestationFilter = {}): PooledAttestation[] {
    const out: PooledAttestation[] = [];
    for (const [, dataRoot, e] of this.entries.entries()) {
      if (!matches(e.data, filter)) continue;
      out.push({ dataRoot, attestation: { data: e.data, aggregationBits: e.agg.bits.clone(), signature: e.agg.signature } });
    }
    return out;
  }

  pruneBefore(minSlot: number): void {
    this.entries.pruneBefore(minSlot);
  }
}

/**
 * Aggregates (from aggregate_and_proofs or gossip) kept for block inclusion: per attestation data, the aggregates
 * that no other one covers (an aggregate that is a subset of a stored one adds nothing).
 */
export class AggregatedAttestationPool {
  private readonly entries: SlotMap<{ data: AttestationData; aggs: Aggregate[] }>;

  constructor(
    maxDataRoots = 16384,
    private readonly maxPerData = 8,
  ) {
    this.entries = new SlotMap(maxDataRoots, "aggregate");
  }

  get size(): number {
    return this.entries.size;
  }

  add(att: Attestation, dataRoot: string): "added" | "known" {
    const entry = this.entries.get(att.data.slot, dataRoot);
    const agg = { bits: att.aggregationBits.clone(), signature: att.signature };
    if (!entry) {
      this.entries.insert(att.data.slot, dataRoot, { data: att.data, aggs: [agg] });
      return "added";
    }
    if (entry.aggs.some((a) => isSuperset(a.bits, agg.bits))) return "known";
    entry.aggs = entry.aggs.filter((a) => !isSuperset(agg.bits, a.bits));
    entry.aggs.push(agg);
    if (entry.aggs.length > this.maxPerData) {
      // keep the ones with the most votes
      entry.aggs.sort((a, b) => countBits(b.bits) - countBits(a.bits));
      entry.aggs.length = this.maxPerData;
    }
    return "added";
  }

  getBest(slot: number, dataRoot: string): Attestation | null {
    const entry = this.entries.get(slot, dataRoot);
    if (!entry || entry.aggs.length === 0) return null;
    let best = entry.aggs[0];
    for (const a of entry.aggs) if (countBits(a.bits) > countBits(best.bits)) best = a;
    return { data: entry.data, aggregationBits: best.bits.clone(), signature: best.signature };
  }

  getAll(filter: AttestationFilter = {}): PooledAttestation[] {
    const out: PooledAttestation[] = [];
    for (const [, dataRoot, e] of this.entries.entries()) {
      if (!matches(e.data, filter)) continue;
      for (const a of e.aggs) out.push({ dataRoot, attestation: { data: e.data, aggregationBits: a.bits.clone(), signature: a.signature } });
    }
    return out;
  }

  pruneBefore(minSlot: number): void {
    this.entries.pruneBefore(minSlot);
  }
}
