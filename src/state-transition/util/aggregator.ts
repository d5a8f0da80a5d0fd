import { digest } from "@chainsafe/as-sha256";
import type { BeaconConfig } from "../../config/index.js";

// is_aggregator (validator.md): whether the validator whose slot signature (selection proof) this is aggregates
// for a committee of `committeeLength`.
export function isAggregator(config: BeaconConfig, committeeLength: number, selectionProof: Uint8Array): boolean {
  const modulo = Math.max(1, Math.floor(committeeLength / config.TARGET_AGGREGATORS_PER_COMMITTEE));
  const h = digest(selectionProof);
  // bytes_to_uint64(hash[0:8]) is little-endian and can exceed 2^53: BigInt keeps the remainder exact
  return new DataView(h.buffer, h.byteOffset, 8).getBigUint64(0, true) % BigInt(modulo) === 0n;
}
