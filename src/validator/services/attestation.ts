// Attestations and aggregates for one slot. Our validators attest at one third of the slot, or as soon as the head
// event for the slot arrives if that is earlier (the block is there: waiting longer only risks a late vote); the
// aggregators among them then publish their aggregate at two thirds (aggregation.ts).
import type { Attestation, AttestationData } from "../../types/index.js";
import { SigningRefusedError } from "../signer.js";
import { AggregationService } from "./aggregation.js";
import type { AttesterDutiesService, AttesterDutyWithProof } from "./attesterDuties.js";
import { outcomeOf, reportDuty, type ValidatorContext } from "./context.js";

export interface HeadWaiter {
  /** Resolves when a head at `slot` or later is seen, or when `signal` aborts. */
  waitForHead(slot: number, signal: AbortSignal): Promise<void>;
}

export class AttestationService {
  private readonly attempted = new Set<string>();

  private readonly aggregation: AggregationService;

  constructor(
    private readonly ctx: ValidatorContext,
    private readonly duties: AttesterDutiesService,
    private readonly heads: HeadWaiter,
  ) {
    this.aggregation = new AggregationService(ctx);
  }

  async runSlot(slot: number): Promise<void> {
    const duties = this.duties.dutiesAt(slot).filter((d) => !this.attempted.has(`${slot}:${d.validatorIndex}`));
    if (duties.length === 0) return;
    for (const d of duties) this.attempted.add(`${slot}:${d.validatorIndex}`);

    await this.waitForHeadOrFraction(slot, 1 / 3);
    if (this.ctx.signal.aborted) return;
    const dataByCommittee = await this.attest(slot, duties);

    const aggregators = duties.filter((d) => dataByCommittee.has(d.committeeIndex));
    if (aggregators.length === 0) return;
    await this.duties.prepareAggregation(slot); // normally done a slot ahead; a late start does it here
    const selected = aggregators.filter((d) => d.isAggregator === true);
    if (selected.length === 0) return;
    await this.ctx.clock.waitForSlotFraction(slot, 2 / 3, this.ctx.signal);
    if (this.ctx.signal.aborted) return;
    await this.aggregation.publish(slot, selected, dataByCommittee);
  }

  private async waitForHeadOrFraction(slot: number, fraction: number): Promise<void> {
    const done = new AbortController();
    const signal = AbortSignal.any([done.signal, this.ctx.signal]);
    await Promise.race([this.heads.waitForHead(slot, signal), this.ctx.clock.waitForSlotFraction(slot, fraction, signal)]);
    done.abort();
  }

  /** Signs and publishes our attestations; resolves to the data attested per committee (for aggregation). */
  private async attest(slot: number, duties: AttesterDutyWithProof[]): Promise<Map<number, AttestationData>> {
    const byCommittee = new Map<number, AttesterDutyWithProof[]>();
    for (const d of duties) byCommittee.set(d.committeeIndex, [...(byCommittee.get(d.committeeIndex) ?? []), d]);
    const dataByCommittee = new Map<number, AttestationData>();
    const signed: { duty: AttesterDutyWithProof; attestation: Attestation; committeeIndex: number }[] = [];

    await Promise.all(
      [...byCommittee].map(async ([committeeIndex, members]) => {
        let data: AttestationData;
        try {
          data = await this.ctx.api.produceAttestationData(committeeIndex, slot);
          if (data.slot !== slot || data.index !== committeeIndex) {
            throw new SigningRefusedError("invalid", `the beacon node returned attestation data for slot ${data.slot} committee ${data.index}`);
          }
        } catch (e) {
          for (const d of members) reportDuty(this.ctx, "attestation", outcomeOf(e), { slot, validator: d.validatorIndex }, e);
          return;
        }
        for (const d of members) {
          try {
            const attestation = await this.ctx.signer.signAttestation(d.pubkey, data, d.committeeLength, d.validatorCommitteeIndex);
            signed.push({ duty: d, attestation, committeeIndex });
          } catch (e) {
            reportDuty(this.ctx, "attestation", outcomeOf(e), { slot, validator: d.validatorIndex }, e);
          }
        }
      }),
    );
    if (signed.length === 0) return dataByCommittee;
    try {
      await this.ctx.api.submitPoolAttestations(signed.map((s) => s.attestation));
      for (const s of signed) {
        dataByCommittee.set(s.committeeIndex, s.attestation.data);
        reportDuty(this.ctx, "attestation", "done", { slot, validator: s.duty.validatorIndex });
      }
    } catch (e) {
      for (const s of signed) reportDuty(this.ctx, "attestation", "missed", { slot, validator: s.duty.validatorIndex }, e);
    }
    return dataByCommittee;
  }

  prune(minSlot: number): void {
    for (const k of this.attempted) if (Number(k.split(":")[0]) < minSlot) this.attempted.delete(k);
  }
}
