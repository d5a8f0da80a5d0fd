// Reads a bundled public network (networks/<name>/ at the repository root, next to dist/ at run time):
// its config, boot nodes, deposit contract, published genesis facts and, when it is small enough to ship,
// its genesis state.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createBeaconConfig, type BeaconConfig } from "../config/index.js";
import type { ParseChainConfigOptions } from "../config/load.js";
import { BUNDLED_NETWORKS, isBundledNetwork, parseNetworkFiles, type BundledNetworkName } from "../config/networks.js";

export interface BundledNetwork {
  name: BundledNetworkName;
  config: BeaconConfig;
  /** discv5 boot ENRs ("enr:...") */
  bootnodes: string[];
  depositContract: string;
  depositBlock: number;
  /** the published value (0x-hex), when there is one: a genesis state for this network must have it */
  genesisValidatorsRoot?: string;
  genesisTime?: number;
  /** the shipped genesis state, when there is one */
  genesisStatePath?: string;
}

/** This file is dist/src/network/networks.js (or src/network/networks.ts): the folder is three levels up. */
export const NETWORKS_DIR = fileURLToPath(new URL("../../../networks/", import.meta.url));

export function loadNetwork(name: string, opts: ParseChainConfigOptions & { dir?: string } = {}): BundledNetwork {
  if (!isBundledNetwork(name)) {
    throw new Error(`unknown network "${name}" (known: ${BUNDLED_NETWORKS.join(", ")})`);
  }
  const dir = join(opts.dir ?? NETWORKS_DIR, name);
  const read = (file: string): string => {
    try {
      return readFileSync(join(dir, file), "utf8");
    } catch (e) {
      throw new Error(`network ${name}: cannot read ${join(dir, file)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const genesisJson = join(dir, "genesis.json");
  const d = parseNetworkFiles(
    name,
    {
      config: read("config.yaml"),
      bootnodes: read("bootstrap_nodes.txt"),
      depositContract: read("deposit_contract.txt"),
      deployBlock: read("deploy_block.txt"),
      genesis: existsSync(genesisJson) ? read("genesis.json") : undefined,
    },
    opts,
  );
  const statePath = join(dir, "genesis.ssz");
  return {
    name,
    config: createBeaconConfig(d.chainConfig),
    bootnodes: d.bootnodes,
    depositContract: d.depositContract,
    depositBlock: d.depositBlock,
    ...(d.genesisValidatorsRoot !== undefined ? { genesisValidatorsRoot: d.genesisValidatorsRoot, genesisTime: d.genesisTime } : {}),
    ...(existsSync(statePath) ? { genesisStatePath: statePath } : {}),
  };
}
