// The one place the validator client signs. Every signature passes the same checks first: the slot is at most one
// slot ahead of our clock, and its epoch is near the beacon node's (a jumped clock must not sign the future); a
// block or an attestation is then recorded by slashing protection, durably, before it is signed.
import { BitArray } from "@chainsafe/ssz";
import type { BeaconConfig } from "../config/index.js";
import { secretKeyFromBytes, sign, type SecretKey } from "../crypto/bls.js";
import { computeDomain, computeSigningRoot } from "../state-transition/util/domain.js";
import { computeEpochAtSlot } from "../state-transition/util/epoch.js";
import {
  primitive,
  type AggregateAndProof,
  type Attestation,
  type AttestationData,
  type BeaconBlock,
  type SignedAggregateAndProof,
  type SignedBeaconBlock,
} from "../types/index.js";
import { toHex } from "../util/bytes.js";
import type { SlotClock } from "../util/slotClock.js";

/** What the signer needs of slashing protection (src/validator/slashingProtection implements it). */
export interface SlashingProtectionLike {
  /** Resolves once the proposal is durably recorded; throws when it would be slashable. */
  checkAndInsertBlockProposal(pubkey: Uint8Array, slot: number, signingRoot: Uint8Array): Promise<void>;
  checkAndInsertAttestation(pubkey: Uint8Array, sourceEpoch: number, targetEpoch: number, signingRoot: Uint8Array): Promise<void>;
}

export type RefusalReason = "clock" | "head" | "invalid" | "slashing-protection" | "unknown-key" | "doppelganger";

export class SigningRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SigningRefusedError";
  }
}

export interface SignerOptions {
  config: BeaconConfig;
  genesisValidatorsRoot: Uint8Array;
  /** The fork version to sign with; phase 0 has only the genesis one. */
  forkVersion?: Uint8Array;
  secretKeys: (SecretKey | Uint8Array)[];
  slashingProtection: SlashingProtectionLike;
  clock: SlotClock;
  /** The slot the beacon node is at, as last seen (head events, sync status); null before we have heard. */
  beaconSlot: () => number | null;
  /** Refuse to sign for an epoch further than this from the beacon node's (default 2). */
  maxEpochsFromHead?: number;
}

export class ValidatorSigner {
  readonly pubkeys: Uint8Array[];
  private readonly keys = new Map<string, SecretKey>();
  private readonly domains = new Map<string, Uint8Array>();
  private readonly config: BeaconConfig;
  private readonly maxEpochsFromHead: number;
  /** Doppelganger protection holds every key until its watch has passed. */
  private held = false;

  constructor(private readonly opts: SignerOptions) {
    this.config = opts.config;
    this.maxEpochsFromHead = opts.maxEpochsFromHead ?? 2;
    this.pubkeys = [];
    for (const k of opts.secretKeys) {
      const sk = k instanceof Uint8Array ? secretKeyFromBytes(k) : k;
      const pubkey = sk.toPublicKey().toBytes();
      const hex = toHex(pubkey);
      if (this.keys.has(hex)) continue;
      this.keys.set(hex, sk);
      this.pubkeys.push(pubkey);
    }
  }

  get isHeld(): boolean {
    return this.held;
  }

  /** While held, every signature is refused (doppelganger protection's watch). */
  hold(held: boolean): void {
    this.held = held;
  }

  hasKey(pubkey: Uint8Array): boolean {
    return this.keys.has(toHex(pubkey));
  }

  // --- the signatures ---

  async signRandaoReveal(pubkey: Uint8Array, slot: number): Promise<Uint8Array> {
    this.checkSlot(slot, "randao reveal");
    const epoch = computeEpochAtSlot(this.config, slot);
    return this.sign(pubkey, computeSigningRoot(this.config, primitive.Epoch, epoch, this.domain(this.config.DOMAIN_RANDAO)));
  }

  /** Signs `block` if its proposer is `pubkey`'s and slashing protection accepts it. */
  async signBlock(pubkey: Uint8Array, block: BeaconBlock): Promise<SignedBeaconBlock> {
    this.checkSlot(block.slot, "block");
    const sk = this.key(pubkey);
    const signingRoot = computeSigningRoot(this.config, this.config.types.BeaconBlock, block, this.domain(this.config.DOMAIN_BEACON_PROPOSER));
    await this.protect(() => this.opts.slashingProtection.checkAndInsertBlockProposal(pubkey, block.slot, signingRoot));
    return { message: block, signature: sign(sk, signingRoot) };
  }

  /** An unaggregated attestation: one bit set at `validatorCommitteeIndex` in a committee of `committeeLength`. */
  async signAttestation(pubkey: Uint8Array, data: AttestationData, committeeLength: number, validatorCommitteeIndex: number): Promise<Attestation> {
    this.checkSlot(data.slot, "attestation");
    const epoch = computeEpochAtSlot(this.config, data.slot);
    if (data.target.epoch !== epoch) {
      throw new SigningRefusedError("invalid", `attestation for slot ${data.slot} has target epoch ${data.target.epoch}, expected ${epoch}`);
    }
    if (data.source.epoch > data.target.epoch) {
      throw new SigningRefusedError("invalid", `attestation source epoch ${data.source.epoch} is after its target epoch ${data.target.epoch}`);
    }
    if (!(validatorCommitteeIndex < committeeLength)) {
      throw new SigningRefusedError("invalid", `committee position ${validatorCommitteeIndex} outside a committee of ${committeeLength}`);
    }
    const sk = this.key(pubkey);
    const signingRoot = computeSigningRoot(this.config, this.config.types.AttestationData, data, this.domain(this.config.DOMAIN_BEACON_ATTESTER));
    await this.protect(() =>
      this.opts.slashingProtection.checkAndInsertAttestation(pubkey, data.source.epoch, data.target.epoch, signingRoot),
    );
    const aggregationBits = BitArray.fromBitLen(committeeLength);
    aggregationBits.set(validatorCommitteeIndex, true);
    return { aggregationBits, data, signature: sign(sk, signingRoot) };
  }

  async signSelectionProof(pubkey: Uint8Array, slot: number): Promise<Uint8Array> {
    this.checkSlot(slot, "selection proof");
    return this.sign(pubkey, computeSigningRoot(this.config, primitive.Slot, slot, this.domain(this.config.DOMAIN_SELECTION_PROOF)));
  }

  async signAggregateAndProof(pubkey: Uint8Array, aggregateAndProof: AggregateAndProof): Promise<SignedAggregateAndProof> {
    this.checkSlot(aggregateAndProof.aggregate.data.slot, "aggregate");
    const root = computeSigningRoot(
      this.config,
      this.config.types.AggregateAndProof,
      aggregateAndProof,
      this.domain(this.config.DOMAIN_AGGREGATE_AND_PROOF),
    );
    return { message: aggregateAndProof, signature: this.sign(pubkey, root) };
  }

  // --- checks ---

  /** Throws unless `slot` is at most one slot ahead of our clock and its epoch is near the beacon node's. */
  checkSlot(slot: number, what: string): void {
    const current = this.opts.clock.currentSlot();
    if (slot > current + 1) {
      throw new SigningRefusedError("clock", `${what} for slot ${slot} is more than one slot ahead of the clock (slot ${current})`);
    }
    const beaconSlot = this.opts.beaconSlot();
    if (beaconSlot === null) throw new SigningRefusedError("head", `${what} for slot ${slot}: the beacon node's head is not known yet`);
    const epoch = computeEpochAtSlot(this.config, slot);
    const beaconEpoch = computeEpochAtSlot(this.config, beaconSlot);
    if (Math.abs(epoch - beaconEpoch) > this.maxEpochsFromHead) {
      throw new SigningRefusedError(
        "head",
        `${what} for epoch ${epoch} is more than ${this.maxEpochsFromHead} epochs from the beacon node's epoch ${beaconEpoch}`,
      );
    }
  }

  private async protect(check: () => Promise<void>): Promise<void> {
    try {
      await check();
    } catch (e) {
      throw new SigningRefusedError("slashing-protection", e instanceof Error ? e.message : String(e), { cause: e });
    }
  }

  private key(pubkey: Uint8Array): SecretKey {
    if (this.held) throw new SigningRefusedError("doppelganger", "doppelganger protection holds the keys: nothing is signed yet");
    const sk = this.keys.get(toHex(pubkey));
    if (!sk) throw new SigningRefusedError("unknown-key", `no secret key for ${toHex(pubkey)}`);
    return sk;
  }

  private sign(pubkey: Uint8Array, signingRoot: Uint8Array): Uint8Array {
    return sign(this.key(pubkey), signingRoot);
  }

  // compute_domain with the fork version and genesis validators root of the chain we validate on
  private domain(domainType: Uint8Array): Uint8Array {
    const k = toHex(domainType);
    let d = this.domains.get(k);
    if (!d) {
      d = computeDomain(this.config, domainType, this.opts.forkVersion ?? this.config.GENESIS_FORK_VERSION, this.opts.genesisValidatorsRoot);
      this.domains.set(k, d);
    }
    return d;
  }
}
