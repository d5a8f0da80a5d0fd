// Compares the beacon node's `/eth/v1/config/spec` with our config: signing on another network's parameters makes
// signatures that are invalid at best, so a difference in a critical key stops the validator client.
import { configValueToJson } from "../api/client/index.js";
import type { BeaconConfig } from "../config/index.js";
import type { ConfigKey } from "../params/index.js";

/** Keys that change what or when we sign, and the SSZ limits that change the roots of what we sign. */
export const CRITICAL_SPEC_KEYS: readonly ConfigKey[] = [
  "SECONDS_PER_SLOT",
  "SLOTS_PER_EPOCH",
  "GENESIS_FORK_VERSION",
  "TARGET_AGGREGATORS_PER_COMMITTEE",
  "MAX_COMMITTEES_PER_SLOT",
  "MAX_VALIDATORS_PER_COMMITTEE",
  "MAX_PROPOSER_SLASHINGS",
  "MAX_ATTESTER_SLASHINGS",
  "MAX_ATTESTATIONS",
  "MAX_DEPOSITS",
  "MAX_VOLUNTARY_EXITS",
  "DOMAIN_BEACON_PROPOSER",
  "DOMAIN_BEACON_ATTESTER",
  "DOMAIN_RANDAO",
  "DOMAIN_SELECTION_PROOF",
  "DOMAIN_AGGREGATE_AND_PROOF",
  "DOMAIN_VOLUNTARY_EXIT",
];

export interface SpecCheckResult {
  /** `KEY: node X, ours Y` for each critical key that differs. */
  mismatches: string[];
  /** Critical keys the node does not serve. */
  missing: string[];
}

export function compareSpec(config: BeaconConfig, spec: Record<string, string>): SpecCheckResult {
  const mismatches: string[] = [];
  const missing: string[] = [];
  for (const key of CRITICAL_SPEC_KEYS) {
    const theirs = spec[key];
    if (theirs === undefined) {
      missing.push(key);
      continue;
    }
    const ours = configValueToJson(config[key]);
    if (theirs.toLowerCase() !== ours.toLowerCase()) mismatches.push(`${key}: beacon node ${theirs}, ours ${ours}`);
  }
  return { mismatches, missing };
}
