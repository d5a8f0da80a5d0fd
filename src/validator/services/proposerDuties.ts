// Block proposal duties per epoch, kept with the dependent root they were computed from: a head event whose
// current_duty_dependent_root differs means a re-org changed the proposers, and the epoch is fetched again.
import type { HeadEvent, ProposerDuty } from "../../api/client/index.js";
import { bytesEqual, type ValidatorContext } from "./context.js";
import type { IndicesService } from "./indices.js";

interface EpochDuties {
  dependentRoot: Uint8Array;
  duties: ProposerDuty[];
}

export class ProposerDutiesService {
  private readonly byEpoch = new Map<number, EpochDuties>();
  private readonly inflight = new Map<number, Promise<void>>();

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly indices: IndicesService,
  ) {}

  /** Fetches the epoch's duties (again, with `force`); concurrent calls for one epoch share one request. */
  poll(epoch: number, force = false): Promise<void> {
    if (!force && this.byEpoch.has(epoch)) return Promise.resolve();
    let p = this.inflight.get(epoch);
    if (p) return p;
    p = this.fetch(epoch).finally(() => this.inflight.delete(epoch));
    this.inflight.set(epoch, p);
    return p;
  }

  private async fetch(epoch: number): Promise<void> {
    if (this.indices.indices.length === 0) {
      this.byEpoch.set(epoch, { dependentRoot: new Uint8Array(32), duties: [] });
      return;
    }
    const res = await this.ctx.api.getProposerDuties(epoch);
    // the endpoint lists every proposer of the epoch: keep ours, and only those whose index matches our key
    const duties = res.data.filter((d) => this.ctx.signer.hasKey(d.pubkey) && this.indices.indexOf(d.pubkey) === d.validatorIndex);
    this.byEpoch.set(epoch, { dependentRoot: res.dependentRoot, duties });
    if (duties.length > 0) this.ctx.logger.info("block proposals ahead", { epoch, slots: duties.map((d) => d.slot).join(",") });
  }

  dutiesAt(slot: number): ProposerDuty[] {
    const epoch = this.ctx.clock.epochAtSlot(slot);
    return this.byEpoch.get(epoch)?.duties.filter((d) => d.slot === slot) ?? [];
  }

  /** Refetches the head's epoch when its proposer dependent root changed (a re-org). */
  onHead(event: HeadEvent): void {
    if (!event.currentDutyDependentRoot) return;
    const epoch = this.ctx.clock.epochAtSlot(event.slot);
    const known = this.byEpoch.get(epoch);
    if (known && this.indices.indices.length > 0 && !bytesEqual(known.dependentRoot, event.currentDutyDependentRoot)) {
      this.ctx.logger.info("proposer duties changed by a re-org; fetching again", { epoch });
      this.poll(epoch, true).catch((e) => this.ctx.logger.warn("proposer duties refetch failed", { epoch, error: e }));
    }
  }

  prune(currentEpoch: number): void {
    for (const epoch of this.byEpoch.keys()) if (epoch < currentEpoch - 1 || epoch > currentEpoch + 1) this.byEpoch.delete(epoch);
  }
}
