// A BeaconConfig is one network's ChainConfig plus the SSZ types sized for it. Pure: no I/O here;
// reading files is the caller's job (see config/load.ts for YAML text).
import { namedConfigs, type ChainConfig } from "../params/index.js";
import { getTypes, type Phase0Types } from "../types/index.js";

export interface BeaconConfig extends ChainConfig {
  readonly types: Phase0Types;
}

export function createBeaconConfig(chainConfig: ChainConfig): BeaconConfig {
  return Object.freeze({ ...chainConfig, types: getTypes(chainConfig) });
}

const named = new Map<string, BeaconConfig>();
/** The built-in v0.12.3 presets: "minimal" or "mainnet". */
export function getNamedConfig(name: string): BeaconConfig {
  let c = named.get(name);
  if (!c) {
    const chainConfig = namedConfigs[name];
    if (!chainConfig) throw new Error(`unknown config name "${name}" (expected one of: ${Object.keys(namedConfigs).join(", ")})`);
    c = createBeaconConfig(chainConfig);
    named.set(name, c);
  }
  return c;
}
