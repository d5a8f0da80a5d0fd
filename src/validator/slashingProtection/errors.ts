// Typed errors of the slashing protection store. Callers branch on `code`, never on messages.

/** Codes of a signing request that the store refuses: signing it could get the validator slashed. */
export type SlashingRefusalCode =
  /** A different (or unknown) block was already signed at this slot. */
  | "DOUBLE_BLOCK_PROPOSAL"
  /** The slot is at or below the low watermark left by an interchange import. */
  | "BLOCK_BELOW_WATERMARK"
  /** A different (or unknown) attestation was already signed for this target epoch. */
  | "DOUBLE_VOTE"
  /** The attestation would surround one already signed. */
  | "SURROUNDING_VOTE"
  /** An attestation already signed surrounds this one. */
  | "SURROUNDED_VOTE"
  /** The source epoch is below the source low watermark left by an interchange import. */
  | "SOURCE_BELOW_WATERMARK"
  /** The target epoch is at or below the target low watermark left by an interchange import. */
  | "TARGET_BELOW_WATERMARK"
  /** The source epoch is after the target epoch. */
  | "INVALID_ATTESTATION";

export type SlashingProtectionErrorCode =
  | SlashingRefusalCode
  /** The store (or the interchange) belongs to another chain. */
  | "GENESIS_VALIDATORS_ROOT_MISMATCH"
  /** Export needs the chain's genesis validators root, and none was ever given. */
  | "GENESIS_VALIDATORS_ROOT_UNKNOWN"
  /** The interchange file is malformed; nothing was imported. */
  | "INVALID_INTERCHANGE"
  /** A pubkey, signing root or number passed to the API is malformed. */
  | "INVALID_ARGUMENT"
  /** The directory holds a database that is not a Cairn slashing protection store (or a newer version of it). */
  | "INCOMPATIBLE_STORE"
  | "CLOSED";

const REFUSALS: ReadonlySet<string> = new Set<SlashingRefusalCode>([
  "DOUBLE_BLOCK_PROPOSAL",
  "BLOCK_BELOW_WATERMARK",
  "DOUBLE_VOTE",
  "SURROUNDING_VOTE",
  "SURROUNDED_VOTE",
  "SOURCE_BELOW_WATERMARK",
  "TARGET_BELOW_WATERMARK",
  "INVALID_ATTESTATION",
]);

export class SlashingProtectionError extends Error {
  constructor(
    readonly code: SlashingProtectionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "SlashingProtectionError";
  }

  /** True when the store refused to sign (as opposed to bad input or a broken store). */
  get isRefusal(): boolean {
    return REFUSALS.has(this.code);
  }
}
