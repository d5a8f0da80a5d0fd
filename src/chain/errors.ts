/** Why a block was not imported; gossip validation maps codes to IGNORE/REJECT, the API to status codes. */
export type BlockErrorCode =
  | "ALREADY_KNOWN"
  | "PARENT_UNKNOWN"
  | "WOULD_REVERT_FINALIZED"
  | "FUTURE_SLOT"
  | "INVALID_SIGNATURE"
  | "INVALID_STATE_TRANSITION"
  | "REGEN_FAILED"
  | "QUEUE_FULL"
  | "STORE_FAILED";

export class BlockError extends Error {
  constructor(
    readonly code: BlockErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = "BlockError";
  }
}
