// What the validator client did, epoch by epoch, for its one summary line per epoch: duties done per kind, and
// each duty not done with the reason. Fed by reportDuty (services/context.ts), which sees every outcome.
import type { DutyKind, DutyOutcome } from "./metrics.js";

export interface MissedDuty {
  kind: DutyKind;
  slot: number;
  validator: number;
  outcome: Exclude<DutyOutcome, "done">;
  reason: string;
}

export interface EpochTally {
  done: Record<DutyKind, number>;
  missed: MissedDuty[];
}

export class DutySummary {
  private readonly byEpoch = new Map<number, EpochTally>();

  constructor(private readonly slotsPerEpoch: number) {}

  record(kind: DutyKind, outcome: DutyOutcome, slot: number, validator: number, reason: string | undefined): void {
    const epoch = Math.floor(slot / this.slotsPerEpoch);
    let t = this.byEpoch.get(epoch);
    if (!t) this.byEpoch.set(epoch, (t = { done: { block: 0, attestation: 0, aggregate: 0 }, missed: [] }));
    if (outcome === "done") t.done[kind]++;
    else t.missed.push({ kind, slot, validator, outcome, reason: reason ?? "unknown" });
  }

  /** The tally of `epoch` (empty when nothing was due), forgotten with every earlier one. */
  take(epoch: number): EpochTally {
    const t = this.byEpoch.get(epoch) ?? { done: { block: 0, attestation: 0, aggregate: 0 }, missed: [] };
    for (const e of this.byEpoch.keys()) if (e <= epoch) this.byEpoch.delete(e);
    return t;
  }
}
