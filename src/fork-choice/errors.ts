// Typed fork-choice errors. Every rejection is thrown as a ForkChoiceError whose `type.code` names the failed check
// (the spec's asserts), so callers branch on the code and never parse messages.
import type { RootHex } from "./protoArray.js";

export type ForkChoiceErrorType =
  // Proto-array
  | { code: "UNKNOWN_PARENT"; root: RootHex; parentRoot: RootHex }
  | { code: "INVALID_BLOCK_SLOT"; root: RootHex; slot: number; parentSlot: number }
  | { code: "INVALID_DELTAS_LENGTH"; deltas: number; nodes: number }
  | { code: "NEGATIVE_WEIGHT"; root: RootHex; weight: number }
  | { code: "UNKNOWN_JUSTIFIED_ROOT"; root: RootHex }
  | { code: "UNKNOWN_FINALIZED_ROOT"; root: RootHex }
  | { code: "STALE_SCORES" }
  // on_block
  | { code: "FUTURE_SLOT"; root: RootHex; slot: number; currentSlot: number }
  | { code: "NOT_AFTER_FINALIZED_SLOT"; root: RootHex; slot: number; finalizedSlot: number }
  | { code: "NOT_FINALIZED_DESCENDANT"; root: RootHex; finalizedRoot: RootHex }
  // on_attestation (validate_on_attestation)
  | { code: "FUTURE_EPOCH"; targetEpoch: number; currentEpoch: number }
  | { code: "PAST_EPOCH"; targetEpoch: number; currentEpoch: number }
  | { code: "BAD_TARGET_EPOCH"; targetEpoch: number; slot: number }
  | { code: "UNKNOWN_TARGET_ROOT"; root: RootHex }
  | { code: "UNKNOWN_HEAD_BLOCK"; root: RootHex }
  | { code: "ATTESTS_TO_FUTURE_BLOCK"; blockSlot: number; slot: number }
  | { code: "INVALID_TARGET"; targetRoot: RootHex; ancestorAtTarget: RootHex | undefined }
  | { code: "INVALID_VALIDATOR_INDEX"; index: number };

export type ForkChoiceErrorCode = ForkChoiceErrorType["code"];

export class ForkChoiceError extends Error {
  constructor(readonly type: ForkChoiceErrorType) {
    super(describe(type));
    this.name = "ForkChoiceError";
  }
}

function describe(type: ForkChoiceErrorType): string {
  const { code, ...rest } = type;
  const details = Object.entries(rest)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
  return details ? `${code} ${details}` : code;
}
