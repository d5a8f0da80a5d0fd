// Aggregation (validator.md "Attestation aggregation"): at two thirds of the slot, each of our selected aggregators
// asks the beacon node for the best aggregate of the attestation data its committee voted for, wraps it in an
// AggregateAndProof with its selection proof, signs and publishes it.
import { isAggregator } from "../../state-transition/util/aggregator.js";
import type { AttestationData, SignedAggregateAndProof } from "../../types/index.js";
import { SigningRefusedError } from "../signer.js";
import type { AttesterDutyWithProof } from "./attesterDuties.js";
import { bytesEqual, outcomeOf, reportDuty, type ValidatorContext } from "./context.js";

export class AggregationService {
  constructor(private readonly ctx: ValidatorContext) {}

  /** For each committee, fetches the node's aggregate of the data we attested, signs it for each aggregator, publishes. */
  async publish(slot: number, aggregators: AttesterDutyWithProof[], dataByCommittee: Map<number, AttestationData>): Promise<void> {
    const types = this.ctx.config.types;
    const out: { duty: AttesterDutyWithProof; signed: SignedAggregateAndProof }[] = [];
    const byCommittee = new Map<number, AttesterDutyWithProof[]>();
    for (const d of aggregators) byCommittee.set(d.committeeIndex, [...(byCommittee.get(d.committeeIndex) ?? []), d]);
    await Promise.all(
      [...byCommittee].map(async ([committeeIndex, members]) => {
        const data = dataByCommittee.get(committeeIndex)!;
        const dataRoot = types.AttestationData.hashTreeRoot(data);
        try {
          const aggregate = await this.ctx.api.getAggregatedAttestation(dataRoot, slot);
          if (!bytesEqual(types.AttestationData.hashTreeRoot(aggregate.data), dataRoot)) {
            throw new SigningRefusedError("invalid", "the beacon node's aggregate is for other attestation data");
          }
          for (const d of members) {
            try {
              const signed = await this.ctx.signer.signAggregateAndProof(d.pubkey, {
                aggregatorIndex: d.validatorIndex,
                aggregate,
                selectionProof: d.selectionProof!,
              });
              out.push({ duty: d, signed });
            } catch (e) {
              reportDuty(this.ctx, "aggregate", outcomeOf(e), { slot, validator: d.validatorIndex }, e);
            }
          }
        } catch (e) {
          for (const d of members) reportDuty(this.ctx, "aggregate", outcomeOf(e), { slot, validator: d.validatorIndex }, e);
        }
      }),
    );
    if (out.length === 0) return;
    try {
      await this.ctx.api.publishAggregateAndProofs(out.map((o) => o.signed));
      for (const o of out) reportDuty(this.ctx, "aggregate", "done", { slot, validator: o.duty.validatorIndex });
    } catch (e) {
      for (const o of out) reportDuty(this.ctx, "aggregate", "missed", { slot, validator: o.duty.validatorIndex }, e);
    }
  }
}


export { isAggregator };
