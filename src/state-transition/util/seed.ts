import { digest } from "@chainsafe/as-sha256";
import type { ChainConfig } from "../../params/index.js";
import type { BeaconStateView } from "../../types/index.js";
import { uint64ToBytes } from "./math.js";

// get_randao_mix
export function getRandaoMix(c: ChainConfig, state: BeaconStateView, epoch: number): Uint8Array {
  return state.randaoMixes.get(epoch % c.EPOCHS_PER_HISTORICAL_VECTOR);
}

// get_seed
export function getSeed(c: ChainConfig, state: BeaconStateView, epoch: number, domainType: Uint8Array): Uint8Array {
  const mix = getRandaoMix(c, state, epoch + c.EPOCHS_PER_HISTORICAL_VECTOR - c.MIN_SEED_LOOKAHEAD - 1);
  const input = new Uint8Array(4 + 8 + 32);
  input.set(domainType, 0);
  input.set(uint64ToBytes(epoch), 4);
  input.set(mix, 12);
  return digest(input);
}
