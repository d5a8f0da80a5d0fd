// Attestation duties per epoch (the current one and the next, fetched ahead), kept with their dependent root so a
// re-org that changes the shuffling refetches them; committee subscriptions for the beacon node; and, one slot
// ahead, the selection proofs that say which of our validators aggregate (is_aggregator, validator.md).
import type { AttesterDuty, BeaconCommitteeSubscription, HeadEvent } from "../../api/client/index.js";
import { isAggregator } from "./aggregation.js";
import { bytesEqual, type ValidatorContext } from "./context.js";
import type { IndicesService } from "./indices.js";

export interface AttesterDutyWithProof extends AttesterDuty {
  /** Set one slot ahead of the duty (prepareAggregation), once the selection proof is signed. */
  selectionProof?: Uint8Array;
  isAggregator?: boolean;
}

interface EpochDuties {
  dependentRoot: Uint8Array;
  /** The indices asked about: duties for indices found later need a new request. */
  indices: Set<number>;
  duties: AttesterDutyWithProof[];
}

export class AttesterDutiesService {
  private readonly byEpoch = new Map<number, EpochDuties>();
  private readonly inflight = new Map<number, Promise<void>>();

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly indices: IndicesService,
  ) {}

  poll(epoch: number, force = false): Promise<void> {
    const known = this.byEpoch.get(epoch);
    if (!force && known && this.indices.indices.every((i) => known.indices.has(i))) return Promise.resolve();
    let p = this.inflight.get(epoch);
    if (p) return p;
    p = this.fetch(epoch).finally(() => this.inflight.delete(epoch));
    this.inflight.set(epoch, p);
    return p;
  }

  private async fetch(epoch: number): Promise<void> {
    const indices = this.indices.indices;
    if (indices.length === 0) {
      this.byEpoch.set(epoch, { dependentRoot: new Uint8Array(32), indices: new Set(), duties: [] });
      return;
    }
    const res = await this.ctx.api.getAttesterDuties(epoch, indices);
    const asked = new Set(indices);
    const startSlot = epoch * this.ctx.config.SLOTS_PER_EPOCH;
    const duties = res.data.filter(
      (d) =>
        asked.has(d.validatorIndex) &&
        this.indices.indexOf(d.pubkey) === d.validatorIndex &&
        d.slot >= startSlot &&
        d.slot < startSlot + this.ctx.config.SLOTS_PER_EPOCH,
    );
    // keep proofs already made for duties that did not change
    const old = this.byEpoch.get(epoch)?.duties ?? [];
    for (const d of duties as AttesterDutyWithProof[]) {
      const prev = old.find((o) => o.validatorIndex === d.validatorIndex && o.slot === d.slot && o.committeeLength === d.committeeLength);
      if (prev?.selectionProof) {
        d.selectionProof = prev.selectionProof;
        d.isAggregator = prev.isAggregator;
      }
    }
    this.byEpoch.set(epoch, { dependentRoot: res.dependentRoot, indices: asked, duties });
    this.ctx.logger.debug("attester duties", { epoch, duties: duties.length });
    // tell the node early which committees we will need (aggregators are confirmed one slot ahead)
    const subs = duties.map((d) => subscription(d, false));
    if (subs.length > 0) {
      this.ctx.api.prepareBeaconCommitteeSubnet(subs).catch((e) => this.ctx.logger.warn("committee subscriptions failed", { epoch, error: e }));
    }
  }

  dutiesAt(slot: number): AttesterDutyWithProof[] {
    const epoch = this.ctx.clock.epochAtSlot(slot);
    return this.byEpoch.get(epoch)?.duties.filter((d) => d.slot === slot) ?? [];
  }

  /**
   * Signs the selection proofs for the duties at `slot` (at most one slot ahead of the clock: the signer checks)
   * and subscribes the aggregators. Duties that already have a proof are skipped, so calling it again (after a
   * re-org brought new duties, or at the duty's own slot) only does what is missing.
   */
  async prepareAggregation(slot: number): Promise<void> {
    const duties = this.dutiesAt(slot).filter((d) => d.selectionProof === undefined);
    if (duties.length === 0) return;
    const aggregators: AttesterDutyWithProof[] = [];
    for (const d of duties) {
      try {
        // selection proofs are deterministic: two calls racing sign the same bytes
        const proof = await this.ctx.signer.signSelectionProof(d.pubkey, slot);
        d.isAggregator = isAggregator(this.ctx.config, d.committeeLength, proof);
        d.selectionProof = proof;
        if (d.isAggregator) aggregators.push(d);
      } catch (e) {
        // refused for now (the clock or the head); the duty's own slot tries again
        this.ctx.logger.debug("no selection proof", { slot, validator: d.validatorIndex, error: e });
      }
    }
    if (aggregators.length > 0) {
      await this.ctx.api
        .prepareBeaconCommitteeSubnet(aggregators.map((d) => subscription(d, true)))
        .catch((e) => this.ctx.logger.warn("aggregator subscriptions failed", { slot, error: e }));
    }
  }

  /**
   * Compares the head event's dependent roots with those of the duties held: previous_duty_dependent_root is that
   * of the head epoch's duties, current_duty_dependent_root that of the next epoch's. A difference means a re-org.
   */
  onHead(event: HeadEvent): void {
    const epoch = this.ctx.clock.epochAtSlot(event.slot);
    const check = (e: number, root: Uint8Array | null): void => {
      const known = this.byEpoch.get(e);
      if (!root || !known || known.indices.size === 0 || bytesEqual(known.dependentRoot, root)) return;
      this.ctx.logger.info("attester duties changed by a re-org; fetching again", { epoch: e });
      this.poll(e, true).catch((err) => this.ctx.logger.warn("attester duties refetch failed", { epoch: e, error: err }));
    };
    check(epoch, event.previousDutyDependentRoot);
    check(epoch + 1, event.currentDutyDependentRoot);
  }

  prune(currentEpoch: number): void {
    for (const epoch of this.byEpoch.keys()) if (epoch < currentEpoch - 1 || epoch > currentEpoch + 1) this.byEpoch.delete(epoch);
  }
}

function subscription(d: AttesterDuty, aggregator: boolean): BeaconCommitteeSubscription {
  return {
    validatorIndex: d.validatorIndex,
    committeeIndex: d.committeeIndex,
    committeesAtSlot: d.committeesAtSlot,
    slot: d.slot,
    isAggregator: aggregator,
  };
}
