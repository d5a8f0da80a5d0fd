// Voluntary exits: signing one for a key (with the genesis fork's domain, phase 0 has no other) and telling from a
// validator's status whether the chain has processed it.
import type { BeaconConfig } from "../config/index.js";
import { sign, type SecretKey } from "../crypto/bls.js";
import { computeDomain, computeSigningRoot } from "../state-transition/util/domain.js";
import type { SignedVoluntaryExit } from "../types/index.js";

export function signVoluntaryExit(
  config: BeaconConfig,
  genesisValidatorsRoot: Uint8Array,
  secretKey: SecretKey,
  validatorIndex: number,
  epoch: number,
): SignedVoluntaryExit {
  const message = { epoch, validatorIndex };
  const domain = computeDomain(config, config.DOMAIN_VOLUNTARY_EXIT, config.GENESIS_FORK_VERSION, genesisValidatorsRoot);
  return { message, signature: sign(secretKey, computeSigningRoot(config, config.types.VoluntaryExit, message, domain)) };
}

/** Statuses (Beacon API) of a validator whose exit a block has processed. */
export function isExitProcessed(status: string): boolean {
  return status === "active_exiting" || status === "active_slashed" || status.startsWith("exited_") || status.startsWith("withdrawal_");
}

/** Statuses from which a voluntary exit is valid (given SHARD_COMMITTEE_PERIOD epochs since activation). */
export function canExit(status: string): boolean {
  return status === "active_ongoing";
}
