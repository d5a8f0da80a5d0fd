// Attestation subnets: which subnet an attestation belongs to, and which subnets this node joins.
//
// validator.md "Phase 0 attestation subnet stability": each local validator keeps RANDOM_SUBNETS_PER_VALIDATOR
// randomly chosen subnets for a random lifetime of EPOCHS_PER_RANDOM_SUBNET_SUBSCRIPTION to twice that, and the node
// advertises them in `attnets` (ENR and MetaData). Duties add short-lived subscriptions: an aggregator joins its
// committee's subnet a few slots ahead and leaves after the slot; those are never advertised. A node without
// validators keeps no long-lived subnet.
import { randomInt } from "node:crypto";
import { BitArray } from "@chainsafe/ssz";
import type { BeaconConfig } from "../../config/index.js";
import { ATTESTATION_SUBNET_COUNT } from "../../params/index.js";
import { computeEpochAtSlot } from "../../state-transition/util/epoch.js";
import { checkSubnet, GossipTopicError } from "./topics.js";

// compute_subnet_for_attestation (validator.md)
export function computeSubnetForAttestation(config: BeaconConfig, committeesPerSlot: number, slot: number, committeeIndex: number): number {
  const slotsSinceEpochStart = slot % config.SLOTS_PER_EPOCH;
  const committeesSinceEpochStart = committeesPerSlot * slotsSinceEpochStart;
  return (committeesSinceEpochStart + committeeIndex) % ATTESTATION_SUBNET_COUNT;
}

/** What the service needs from gossip (the Gossip class); subscriptions are idempotent. */
export interface SubnetGossip {
  subscribeAttnets(subnets: number[]): void;
  unsubscribeAttnets(subnets: number[]): void;
}

export interface SubnetServiceOptions {
  config: BeaconConfig;
  clock: { currentSlot(): number };
  gossip: SubnetGossip;
  /** called with the new `attnets` whenever the long-lived subnets change (ENR and MetaData seq) */
  onChange?: (attnets: BitArray) => void;
  /** a uniform integer in [0, n); crypto.randomInt by default */
  randomInt?: (n: number) => number;
  /** slots before a duty's slot when an aggregator joins its subnet (default 2) */
  dutyLeadSlots?: number;
  /** how often start() reads the clock, ms (default a quarter slot, at most 1 s) */
  pollMs?: number;
}

export interface DutySubscription {
  subnet: number;
  slot: number;
  isAggregator: boolean;
}

interface RandomSubscription {
  subnet: number;
  /** first epoch no longer covered */
  expiresAtEpoch: number;
}

export class SubnetService {
  private readonly config: BeaconConfig;
  private readonly random: (n: number) => number;
  private readonly dutyLeadSlots: number;
  /** long-lived subscriptions per local validator index */
  private readonly validators = new Map<number, RandomSubscription[]>();
  /** short-lived ones by `${subnet}:${slot}` */
  private readonly duties = new Map<string, DutySubscription>();
  private readonly subscribed = new Set<number>();
  private attnets: BitArray;
  private lastSlot: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: SubnetServiceOptions) {
    this.config = opts.config;
    this.random = opts.randomInt ?? ((n) => randomInt(n));
    this.dutyLeadSlots = opts.dutyLeadSlots ?? 2;
    this.attnets = BitArray.fromBitLen(ATTESTATION_SUBNET_COUNT);
  }

  /** Reads the clock now and then (a quarter slot, at most 1 s) and applies what changed. */
  start(): void {
    if (this.timer) return;
    this.onSlot(this.opts.clock.currentSlot());
    const pollMs = this.opts.pollMs ?? Math.min(1000, (this.config.SECONDS_PER_SLOT * 1000) / 4);
    this.timer = setInterval(() => {
      const slot = this.opts.clock.currentSlot();
      if (slot !== this.lastSlot) this.onSlot(slot);
    }, pollMs);
    this.timer.unref();
  }

  /** Stops the clock reads and leaves every subnet this service joined. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.subscribed.size > 0) this.opts.gossip.unsubscribeAttnets([...this.subscribed]);
    this.subscribed.clear();
  }

  /**
   * The node's validators (indices). New ones draw their random subnets; missing ones give theirs up. Call it when
   * the set changes (e.g. from beacon committee subscription requests).
   */
  setLocalValidators(indices: Iterable<number>): void {
    const wanted = new Set(indices);
    for (const v of [...this.validators.keys()]) if (!wanted.has(v)) this.validators.delete(v);
    const epoch = this.currentEpoch();
    for (const v of wanted) {
      if (this.validators.has(v)) continue;
      const subs: RandomSubscription[] = [];
      for (let i = 0; i < this.config.RANDOM_SUBNETS_PER_VALIDATOR; i++) subs.push(this.draw(epoch, subs));
      this.validators.set(v, subs);
    }
    this.apply(this.lastSlot ?? this.opts.clock.currentSlot());
  }

  /**
   * A committee duty on `subnet` at `slot`. Aggregators join the subnet from `dutyLeadSlots` before the slot until
   * the slot ends; for the others the subnet only needs peers (see getDutySubscriptions), not a subscription.
   * Throws a GossipTopicError for a bad subnet or a slot that is past or beyond the next epoch.
   */
  addDutySubscription(subnet: number, slot: number, isAggregator: boolean): void {
    checkSubnet(subnet);
    const current = this.opts.clock.currentSlot();
    if (!Number.isInteger(slot) || slot < current) throw new GossipTopicError(`duty slot ${slot} is in the past (current slot ${current})`);
    // duties are known at most one epoch ahead; anything further is bogus and would grow the map
    if (slot > current + 2 * this.config.SLOTS_PER_EPOCH) throw new GossipTopicError(`duty slot ${slot} is too far ahead (current slot ${current})`);
    const key = `${subnet}:${slot}`;
    const prev = this.duties.get(key);
    this.duties.set(key, { subnet, slot, isAggregator: isAggregator || (prev?.isAggregator ?? false) });
    this.apply(current);
  }

  /** Rotates expired random subnets, starts and ends duty subscriptions. Idempotent; start() calls it every slot. */
  onSlot(slot: number): void {
    this.lastSlot = slot;
    const epoch = computeEpochAtSlot(this.config, Math.max(0, slot));
    for (const subs of this.validators.values()) {
      for (let i = 0; i < subs.length; i++) if (subs[i].expiresAtEpoch <= epoch) subs[i] = this.draw(epoch);
    }
    for (const [key, d] of this.duties) if (d.slot < slot) this.duties.delete(key);
    this.apply(slot);
  }

  /** The long-lived subnets as the `attnets` bitvector (a copy). */
  getAttnets(): BitArray {
    return this.attnets.clone();
  }

  getLongLivedSubnets(): number[] {
    return this.attnets.getTrueBitIndexes();
  }

  /** Upcoming duties: subnets the node needs peers on (and, for aggregators, joins). */
  getDutySubscriptions(): DutySubscription[] {
    return [...this.duties.values()].sort((a, b) => a.slot - b.slot || a.subnet - b.subnet);
  }

  /** Subnets this service has joined now (long-lived and duties). */
  getSubscribedSubnets(): number[] {
    return [...this.subscribed].sort((a, b) => a - b);
  }

  private currentEpoch(): number {
    return computeEpochAtSlot(this.config, Math.max(0, this.lastSlot ?? this.opts.clock.currentSlot()));
  }

  /** A random subnet (one not yet held when any is left) for a random lifetime of [E, 2E] epochs. */
  private draw(epoch: number, alsoHeld: RandomSubscription[] = []): RandomSubscription {
    const held = new Set<number>(alsoHeld.map((s) => s.subnet));
    for (const subs of this.validators.values()) for (const s of subs) held.add(s.subnet);
    const free: number[] = [];
    for (let s = 0; s < ATTESTATION_SUBNET_COUNT; s++) if (!held.has(s)) free.push(s);
    const subnet = free.length > 0 ? free[this.random(free.length)] : this.random(ATTESTATION_SUBNET_COUNT);
    const e = this.config.EPOCHS_PER_RANDOM_SUBNET_SUBSCRIPTION;
    return { subnet, expiresAtEpoch: epoch + e + this.random(e + 1) };
  }

  private apply(slot: number): void {
    const longLived = new Set<number>();
    for (const subs of this.validators.values()) for (const s of subs) longLived.add(s.subnet);
    const attnets = BitArray.fromBitLen(ATTESTATION_SUBNET_COUNT);
    for (const s of longLived) attnets.set(s, true);
    const changed = !bitsEqual(attnets, this.attnets);
    this.attnets = attnets;

    const wanted = new Set(longLived);
    for (const d of this.duties.values()) {
      if (d.isAggregator && slot >= d.slot - this.dutyLeadSlots && slot <= d.slot) wanted.add(d.subnet);
    }
    const added = [...wanted].filter((s) => !this.subscribed.has(s));
    const removed = [...this.subscribed].filter((s) => !wanted.has(s));
    for (const s of added) this.subscribed.add(s);
    for (const s of removed) this.subscribed.delete(s);
    if (added.length > 0) this.opts.gossip.subscribeAttnets(added);
    if (removed.length > 0) this.opts.gossip.unsubscribeAttnets(removed);
    if (changed) this.opts.onChange?.(this.attnets.clone());
  }
}

function bitsEqual(a: BitArray, b: BitArray): boolean {
  if (a.bitLen !== b.bitLen) return false;
  for (let i = 0; i < a.uint8Array.length; i++) if (a.uint8Array[i] !== b.uint8Array[i]) return false;
  return true;
}
