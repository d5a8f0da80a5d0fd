// The public networks Cairn ships (networks/<name>/ at the repository root: the files client teams published in
// eth-clients/eth2-networks, see each folder's SOURCE.md). Pure: this turns the files' text into a network
// description; reading them is src/network/networks.ts's job.
import type { ChainConfig } from "../params/index.js";
import { DEFAULT_CONFIG_NAME, parseChainConfigYaml, type ParseChainConfigOptions } from "./load.js";

export const BUNDLED_NETWORKS = ["mainnet", "pyrmont", "medalla", "spadina", "zinken"] as const;
export type BundledNetworkName = (typeof BUNDLED_NETWORKS)[number];

export function isBundledNetwork(name: string): name is BundledNetworkName {
  return (BUNDLED_NETWORKS as readonly string[]).includes(name);
}

/** The text of one network folder's files. */
export interface NetworkFiles {
  /** config.yaml */
  config: string;
  /** bootstrap_nodes.txt: one ENR a line; `#` comments and blank lines */
  bootnodes: string;
  /** deposit_contract.txt: the 0x address */
  depositContract: string;
  /** deploy_block.txt: the Eth1 block the deposit contract was deployed in */
  deployBlock: string;
  /** genesis.json: the published genesis_time and genesis_validators_root (absent when nobody published them) */
  genesis?: string;
}

export interface NetworkDescription {
  name: BundledNetworkName;
  chainConfig: ChainConfig;
  bootnodes: string[];
  /** as published (checksummed case kept) */
  depositContract: string;
  depositBlock: number;
  /** 0x-hex, lower case */
  genesisValidatorsRoot?: string;
  genesisTime?: number;
}

/** Parses one network's files; a malformed file is an error naming the network and the file. */
export function parseNetworkFiles(name: BundledNetworkName, files: NetworkFiles, opts: ParseChainConfigOptions = {}): NetworkDescription {
  const where = (file: string) => `network ${name}: ${file}`;
  let chainConfig: ChainConfig;
  try {
    // the published files are flat v0.12/v1.0 configs built on the mainnet preset
    chainConfig = parseChainConfigYaml(files.config, { defaultPreset: "mainnet", ...opts });
  } catch (e) {
    throw new Error(`${where("config.yaml")}: ${(e as Error).message}`);
  }
  // a config without CONFIG_NAME gets the network's name, which the database records and checks on open
  if (chainConfig.CONFIG_NAME === DEFAULT_CONFIG_NAME) chainConfig = { ...chainConfig, CONFIG_NAME: name };

  const bootnodes = parseBootnodes(files.bootnodes);
  const depositContract = files.depositContract.trim();
  if (!/^0x[0-9a-fA-F]{40}$/.test(depositContract)) throw new Error(`${where("deposit_contract.txt")}: not a 0x address`);
  const inConfig = `0x${Buffer.from(chainConfig.DEPOSIT_CONTRACT_ADDRESS).toString("hex")}`;
  if (depositContract.toLowerCase() !== inConfig) {
    throw new Error(`${where("deposit_contract.txt")}: ${depositContract} differs from the config's ${inConfig}`);
  }
  const block = files.deployBlock.trim();
  if (!/^(0|[1-9][0-9]{0,15})$/.test(block)) throw new Error(`${where("deploy_block.txt")}: not a block number`);

  const out: NetworkDescription = { name, chainConfig, bootnodes, depositContract, depositBlock: Number(block) };
  if (files.genesis !== undefined) {
    const g = parseGenesisJson(files.genesis);
    if (g === null) throw new Error(`${where("genesis.json")}: expected {"genesis_time": <uint>, "genesis_validators_root": "0x<32 bytes>"}`);
    out.genesisTime = g.genesisTime;
    out.genesisValidatorsRoot = g.genesisValidatorsRoot;
  }
  return out;
}

/** The ENRs of a bootstrap_nodes.txt (some lists write them as YAML items, `- enr:...`). */
export function parseBootnodes(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim().replace(/^-\s*/, "");
    if (line === "" || line.startsWith("#")) continue;
    out.push(line);
  }
  return out;
}

function parseGenesisJson(text: string): { genesisTime: number; genesisValidatorsRoot: string } | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null) return null;
  const { genesis_time: time, genesis_validators_root: root } = v as Record<string, unknown>;
  if (typeof time !== "number" || !Number.isSafeInteger(time) || time < 0) return null;
  if (typeof root !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(root)) return null;
  return { genesisTime: time, genesisValidatorsRoot: root.toLowerCase() };
}

/**
 * Why a genesis state does not belong to `network`, or null when it does (or when no genesis was published for it).
 * Compares the state's genesis_validators_root (and genesis_time) with the published values.
 */
export function genesisMismatch(
  network: Pick<NetworkDescription, "name" | "genesisValidatorsRoot" | "genesisTime">,
  state: { genesisValidatorsRoot: Uint8Array; genesisTime: number },
): string | null {
  if (network.genesisValidatorsRoot === undefined) return null;
  const root = `0x${Buffer.from(state.genesisValidatorsRoot).toString("hex")}`;
  if (root !== network.genesisValidatorsRoot) {
    return `its genesis_validators_root ${root} is not ${network.name}'s ${network.genesisValidatorsRoot}`;
  }
  if (network.genesisTime !== undefined && state.genesisTime !== network.genesisTime) {
    return `its genesis_time ${state.genesisTime} is not ${network.name}'s ${network.genesisTime}`;
  }
  return null;
}
