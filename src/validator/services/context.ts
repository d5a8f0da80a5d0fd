// What every duty service shares: the chain's config, the beacon nodes, the clock, the signer, logs and metrics.
import type { BeaconNodes } from "../../api/client/index.js";
import type { BeaconConfig } from "../../config/index.js";
import type { SlotClock } from "../../util/slotClock.js";
import type { Logger } from "../../util/logger.js";
import type { DutyKind, DutyOutcome, ValidatorMetrics } from "../metrics.js";
import { SigningRefusedError, type ValidatorSigner } from "../signer.js";
import type { DutySummary } from "../summary.js";

export interface ValidatorContext {
  readonly config: BeaconConfig;
  readonly api: BeaconNodes;
  readonly clock: SlotClock;
  readonly signer: ValidatorSigner;
  readonly logger: Logger;
  readonly metrics: ValidatorMetrics | undefined;
  /** Per-epoch tallies for the epoch summary line. */
  readonly summary?: DutySummary;
  /** Aborted when the validator client closes. */
  readonly signal: AbortSignal;
}

/** Counts a duty's outcome and logs a failure once: a refusal is a warning, anything else an error. */
export function reportDuty(ctx: ValidatorContext, kind: DutyKind, outcome: DutyOutcome, fields: Record<string, unknown>, error?: unknown): void {
  ctx.metrics?.duties.inc({ kind, outcome });
  const message = error instanceof Error ? error.message : error === undefined ? undefined : String(error);
  if (typeof fields["slot"] === "number" && typeof fields["validator"] === "number") ctx.summary?.record(kind, outcome, fields["slot"], fields["validator"], message);
  if (outcome === "done") {
    ctx.logger.debug(`${kind} published`, fields);
    return;
  }
  if (ctx.signal.aborted) return;
  if (outcome === "refused" || error instanceof SigningRefusedError) ctx.logger.warn(`${kind} not signed`, { ...fields, reason: message });
  else ctx.logger.error(`${kind} missed`, { ...fields, error: message });
}

export function outcomeOf(e: unknown): DutyOutcome {
  return e instanceof SigningRefusedError ? "refused" : "missed";
}

export { bytesEqual, toHex } from "../../util/bytes.js";
