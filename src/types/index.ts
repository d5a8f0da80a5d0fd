import type { ChainConfig } from "../params/index.js";
import { createPhase0Types, type Phase0Types } from "./phase0.js";

export * as primitive from "./primitive.js";
export * from "./phase0.js";

// Types depend only on the list/vector limits; configs that share them share one set of types.
const cache = new Map<string, Phase0Types>();
const LIMIT_KEYS = [
  "MAX_VALIDATORS_PER_COMMITTEE",
  "SLOTS_PER_HISTORICAL_ROOT",
  "EPOCHS_PER_ETH1_VOTING_PERIOD",
  "SLOTS_PER_EPOCH",
  "HISTORICAL_ROOTS_LIMIT",
  "VALIDATOR_REGISTRY_LIMIT",
  "EPOCHS_PER_HISTORICAL_VECTOR",
  "EPOCHS_PER_SLASHINGS_VECTOR",
  "MAX_PROPOSER_SLASHINGS",
  "MAX_ATTESTER_SLASHINGS",
  "MAX_ATTESTATIONS",
  "MAX_DEPOSITS",
  "MAX_VOLUNTARY_EXITS",
] as const;

export function getTypes(c: ChainConfig): Phase0Types {
  const key = LIMIT_KEYS.map((k) => c[k]).join(",");
  let t = cache.get(key);
  if (!t) {
    t = createPhase0Types(c);
    cache.set(key, t);
  }
  return t;
}
