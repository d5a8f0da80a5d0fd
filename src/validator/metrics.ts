// Validator client metrics on a prom-client Registry the caller owns (the node or the CLI exposes it).
import { Counter, Gauge, type Registry } from "prom-client";

export type DutyKind = "block" | "attestation" | "aggregate";
/** done: published; missed: not published (an error, a timeout); refused: a safety check or slashing protection said no. */
export type DutyOutcome = "done" | "missed" | "refused";

export interface ValidatorMetrics {
  duties: Counter<"kind" | "outcome">;
  clockOffsetMs: Gauge;
  clockOffsetExceeded: Gauge;
  beaconNodeHealthy: Gauge<"url">;
  knownIndices: Gauge;
}

export function createValidatorMetrics(registry: Registry): ValidatorMetrics {
  const registers = [registry];
  return {
    duties: new Counter({
      name: "cairn_validator_duties_total",
      help: "Validator duties by kind (block, attestation, aggregate) and outcome (done, missed, refused)",
      labelNames: ["kind", "outcome"] as const,
      registers,
    }),
    clockOffsetMs: new Gauge({
      name: "cairn_validator_clock_offset_ms",
      help: "Offset of the time sources' median from the local clock, in milliseconds (positive: local clock behind)",
      registers,
    }),
    clockOffsetExceeded: new Gauge({
      name: "cairn_validator_clock_offset_exceeded",
      help: "1 when the measured clock offset is above the warning threshold, else 0",
      registers,
    }),
    beaconNodeHealthy: new Gauge({
      name: "cairn_validator_beacon_node_healthy",
      help: "1 when the beacon node is reachable and synced, else 0",
      labelNames: ["url"] as const,
      registers,
    }),
    knownIndices: new Gauge({
      name: "cairn_validator_known_indices",
      help: "Number of our keys the beacon node knows (have a validator index)",
      registers,
    }),
  };
}
