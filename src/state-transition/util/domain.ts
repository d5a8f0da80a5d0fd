import type { BeaconConfig } from "../../config/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { getCurrentEpoch } from "./epoch.js";

// compute_fork_data_root
export function computeForkDataRoot(c: BeaconConfig, currentVersion: Uint8Array, genesisValidatorsRoot: Uint8Array): Uint8Array {
  return c.types.ForkData.hashTreeRoot({ currentVersion, genesisValidatorsRoot });
}

// compute_fork_digest
export function computeForkDigest(c: BeaconConfig, currentVersion: Uint8Array, genesisValidatorsRoot: Uint8Array): Uint8Array {
  return computeForkDataRoot(c, currentVersion, genesisValidatorsRoot).slice(0, 4);
}

// compute_domain
export function computeDomain(
  c: BeaconConfig,
  domainType: Uint8Array,
  forkVersion: Uint8Array = c.GENESIS_FORK_VERSION,
  genesisValidatorsRoot: Uint8Array = new Uint8Array(32),
): Uint8Array {
  const forkDataRoot = computeForkDataRoot(c, forkVersion, genesisValidatorsRoot);
  const domain = new Uint8Array(32);
  domain.set(domainType, 0);
  domain.set(forkDataRoot.subarray(0, 28), 4);
  return domain;
}

// get_domain; a bigint epoch (a slashing's) compares exactly with the fork's number epoch
export function getDomain(c: BeaconConfig, state: BeaconStateView, domainType: Uint8Array, epoch?: number | bigint): Uint8Array {
  const e = epoch ?? getCurrentEpoch(c, state);
  const fork = state.fork;
  const forkVersion = e < fork.epoch ? fork.previousVersion : fork.currentVersion;
  return computeDomain(c, domainType, forkVersion, state.genesisValidatorsRoot);
}

// compute_signing_root
export function computeSigningRoot<T>(
  c: BeaconConfig,
  type: { hashTreeRoot(value: T): Uint8Array },
  object: T,
  domain: Uint8Array,
): Uint8Array {
  return c.types.SigningData.hashTreeRoot({ objectRoot: type.hashTreeRoot(object), domain });
}
